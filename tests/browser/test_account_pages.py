"""Account administration and one's own account, in Chromium: an admin makes an operator, who logs in with the
temporary password, must choose their own, then makes and revokes a personal API token."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import log_in, screenshot, serve

pytestmark = pytest.mark.browser

NEW_PASSWORD = "loa-phuong-ha-giang-1"


@pytest.fixture
def live_url(seeded) -> str:
    with serve(seeded) as url:
        yield url


def _api_status(base: str, token: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["username"] == "vanhanh2"
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_admin_makes_an_operator_who_sets_a_password_and_a_token(page, browser, live_url):
    log_in(page, live_url, "admin")
    page.get_by_role("link", name="Tài khoản", exact=True).click()
    assert urlsplit(page.url).path == "/users"
    assert page.get_by_role("cell", name="vanhanh", exact=True).is_visible()
    page.get_by_label("Tên đăng nhập").fill("vanhanh2")
    page.get_by_label("Họ và tên").fill("Nguyễn Thị Loa")
    page.get_by_label("Vai trò").select_option("operator")
    page.get_by_label("Địa bàn", exact=True).select_option("00694")
    page.get_by_role("button", name="Tạo tài khoản").click()
    temporary = page.locator("#temporary-password").inner_text().strip()
    assert len(temporary) == 14
    screenshot(page, "account-created.png")

    # The operator, in a browser of their own: the temporary password opens only the password change.
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    operator = context.new_page()
    try:
        log_in(operator, live_url, "vanhanh2", temporary)
        assert urlsplit(operator.url).path == "/account/password"
        operator.get_by_label("Mật khẩu hiện tại").fill(temporary)
        operator.get_by_label("Mật khẩu mới", exact=True).fill("1234567890")
        operator.get_by_label("Nhập lại mật khẩu mới").fill("1234567890")
        operator.get_by_role("button", name="Đổi mật khẩu").click()
        assert operator.get_by_role("alert").first.inner_text().startswith("Mật khẩu này nằm trong số")
        operator.get_by_label("Mật khẩu hiện tại").fill(temporary)
        operator.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
        operator.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
        operator.get_by_role("button", name="Đổi mật khẩu").click()
        assert urlsplit(operator.url).path == "/"

        operator.get_by_role("link", name="Nguyễn Thị Loa").click()
        operator.get_by_label("Tên").fill("máy tính xã")
        operator.get_by_role("button", name="Tạo mã truy cập").click()
        token = operator.locator("#new-token").inner_text().strip()
        assert token.startswith("ut_") and _api_status(live_url, token) == 200
        assert operator.get_by_role("cell", name="máy tính xã", exact=True).is_visible()
        assert operator.get_by_role("cell", name=token[:10] + "…").is_visible()
        screenshot(operator, "account-tokens.png")
        operator.get_by_role("button", name="Thu hồi máy tính xã").click()
        assert operator.get_by_text("Đã thu hồi mã truy cập").is_visible()
        assert _api_status(live_url, token) == 401
    finally:
        context.close()

    # Back to the admin: the list shows the login, and switching the account off ends it.
    page.goto(f"{live_url}/users")
    page.get_by_role("link", name="vanhanh2").click()
    page.get_by_role("button", name="Khóa tài khoản").click()
    assert page.get_by_text("Đã khóa tài khoản").is_visible()
    assert page.get_by_role("button", name="Mở lại tài khoản").is_visible()
