"""The searchable area picker in Chromium, in Vietnamese, on a desktop and a 360 px phone, and without JavaScript.

Typing part of a commune's name, tone marks or not, narrows the long list of areas to the matches and picks the
first; the form then sends what was found. Without JavaScript the same select works as a plain one.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import _context_page, fits_the_screen, log_in, screenshot, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(seeded) -> str:
    with serve(seeded) as url:
        yield url


def visible_options(page, select: str) -> list[str]:
    return page.eval_on_selector_all(f"{select} option", "os => os.filter(o => !o.hidden).map(o => o.text.trim())")


def test_an_administrator_finds_a_commune_without_tone_marks_and_creates_the_account(page, live_url):
    log_in(page, live_url, "admin")
    page.goto(f"{live_url}/users")
    total = len(visible_options(page, "#scope"))
    assert total > 100  # every commune of the province, and more
    search = page.get_by_role("searchbox", name="Tìm địa bàn (gõ có dấu hoặc không dấu)")
    search.fill("dong van")
    shown = visible_options(page, "#scope")
    assert shown and all("Đồng Văn" in text for text in shown), shown
    assert "Đồng Văn" in page.locator("#scope option:checked").inner_text()
    assert page.get_by_role("status").filter(has_text="Tìm thấy").inner_text().strip() == f"Tìm thấy: {len(shown)}"
    screenshot(page, "searchable-picker.png")

    search.fill("khong co xa nay")
    assert visible_options(page, "#scope") == []
    assert page.get_by_text("Không có địa bàn nào khớp.").is_visible()
    search.fill("")
    assert len(visible_options(page, "#scope")) == total  # clearing the search shows them all again

    search.fill("Đồng Văn")  # with tone marks too
    page.locator("#username").fill("dongvan1")
    page.locator("#role").select_option("operator")
    page.get_by_role("button", name="Tạo tài khoản").click()
    page.wait_for_load_state()
    assert "Xã Đồng Văn" in page.locator("dl").first.inner_text()


def test_on_a_phone_the_report_area_is_found_by_typing(phone, live_url):
    log_in(phone, live_url, "bientap")
    phone.goto(f"{live_url}/reports")
    phone.get_by_role("searchbox", name="Tìm địa bàn (gõ có dấu hoặc không dấu)").fill("ha giang 2")
    assert phone.locator("#area option:checked").inner_text().strip().endswith("Phường Hà Giang 2")
    fits_the_screen(phone)
    screenshot(phone, "searchable-picker-phone.png")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Xem báo cáo").click()
    assert "Phường Hà Giang 2" in phone.locator("#summary-h").inner_text()


def test_without_javascript_the_area_is_a_plain_select(browser, live_url):
    context, page = _context_page(browser, viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    try:
        log_in(page, live_url, "admin")
        page.goto(f"{live_url}/users")
        assert page.locator(".select-search").count() == 0
        page.locator("#scope").select_option(label="—— Xã Đồng Văn")
        page.locator("#username").fill("dongvan2")
        page.locator("#role").select_option("operator")
        page.get_by_role("button", name="Tạo tài khoản").click()
        page.wait_for_load_state()
        assert "Xã Đồng Văn" in page.locator("dl").first.inner_text()
    finally:
        context.close()
