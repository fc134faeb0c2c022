"""Two-factor login in Chromium: an approver, whose role needs it, is sent to set it up after the password,
scans nothing (the test reads the key shown as text, as a person typing it into their app would), confirms with
a code, keeps the recovery codes, and at the next login is asked for a code before the session starts."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pyotp
import pytest

from broadcast import load_settings
from tests.browser.conftest import log_in, screenshot, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(tmp_path, database):
    return load_settings(instance_path=tmp_path / "instance", database_url=database.url,
                         totp_required_roles="admin,approver")


@pytest.fixture
def live_url(seeded) -> str:
    with serve(seeded) as url:
        yield url


def test_an_approver_sets_up_two_factor_login_and_logs_in_with_a_code(page, live_url):
    log_in(page, live_url, "pheduyet")
    assert urlsplit(page.url).path == "/account/two-factor"
    qr = page.locator("img.qr")
    qr.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth > 100", qr.element_handle())  # the SVG loaded
    secret = page.locator("#totp-secret").inner_text().strip()
    page.goto(f"{live_url}/")  # nothing else opens before it is set up
    assert urlsplit(page.url).path == "/account/two-factor"
    screenshot(page, "two-factor-enrol.png")

    page.get_by_label("Mã trong ứng dụng").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Bật đăng nhập hai lớp").click()
    page.wait_for_load_state()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "two-factor-recovery-codes.png")
    page.get_by_role("link", name="Tôi đã cất giữ các mã").click()
    assert page.get_by_role("heading", name="Đăng nhập hai lớp đang bật").is_visible()
    page.goto(f"{live_url}/")
    assert urlsplit(page.url).path == "/"

    page.locator("form.who button[type=submit]").click()
    page.wait_for_load_state()
    log_in(page, live_url, "pheduyet")
    assert urlsplit(page.url).path == "/login/code"
    page.goto(f"{live_url}/")
    assert urlsplit(page.url).path == "/login"  # no session before the code
    log_in(page, live_url, "pheduyet")
    page.get_by_label("Mã").fill("000000")
    page.get_by_role("button", name="Tiếp tục").click()
    assert page.get_by_role("alert").inner_text() == "Mã không đúng."
    # The next step's code: the one used to enrol is refused as a replay, and a step ahead is accepted.
    page.get_by_label("Mã").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Tiếp tục").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/"
    screenshot(page, "two-factor-logged-in.png")
