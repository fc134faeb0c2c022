"""The activity log in Chromium, in Vietnamese: an administrator finds who approved a bulletin, by kind of work,
on a desktop and on a 360 px phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve
from tests.integration import test_audit_page

pytestmark = pytest.mark.browser
worked = test_audit_page.worked  # the fixture: a bulletin written and approved


@pytest.fixture
def url(seeded, worked):
    with serve(seeded) as base:
        yield base


def test_an_administrator_finds_who_approved_a_bulletin(page, url):
    log_in(page, url, "admin")
    page.get_by_role("link", name="Nhật ký hoạt động").click()
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Nhật ký hoạt động"
    page.get_by_label("Loại việc").select_option(label="Bản tin")
    page.get_by_role("button", name="Tìm").click()
    page.wait_for_url(f"{url}/audit?*group=items*")
    actions = page.locator("tr.audit-entry td[data-label='Hành động']").all_inner_texts()
    assert actions == ["Phê duyệt bản tin", "Gửi bản tin chờ phê duyệt", "Viết bản tin"]
    people = page.locator("tr.audit-entry td[data-label='Người']").all_inner_texts()
    assert people[0] == "Lãnh đạo phê duyệt"
    screenshot(page, "audit-log.png")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải về dạng CSV").click()
    assert download.value.suggested_filename == "nhat-ky-hoat-dong.csv"


def test_the_log_fits_a_phone(phone, url):
    log_in(phone, url, "admin")
    phone.goto(f"{url}/audit")
    assert phone.locator("tr.audit-entry").count() > 3
    fits_the_screen(phone)
    screenshot(phone, "audit-log-360.png")
