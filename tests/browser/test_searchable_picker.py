"""The searchable area picker in Chromium, in Vietnamese, on a desktop and a 360 px phone, and without JavaScript.

Typing part of a commune's name, tone marks or not, narrows the long list of areas to the matches and picks the
first; the form then sends what was found. Without JavaScript the same select works as a plain one. The same
search narrows the playlists page's list of communes and the dashboard's table of areas.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import _context_page, fits_the_screen, log_in, screenshot, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(seeded) -> str:
    with serve(seeded) as url:
        yield url


# Communes of Tuyên Quang given a station each, so that the lists of communes with stations are long.
MORE_COMMUNES = ("00700", "00706", "00715", "00778", "00787", "00802", "00808", "00817")


@pytest.fixture
def many_communes(seeded) -> str:
    from broadcast.db.models import Structure
    from broadcast.services import areas, stations

    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        for n, code in enumerate(MORE_COMMUNES):
            commune = areas.find_area(session, code, structure=Structure.CURRENT)
            stations.add_station(session, stations.StationSpec(code=f"X{n}-01", commune=commune), actor="test")
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


def test_on_a_phone_the_report_area_is_found_by_typing(phone, many_communes):
    live_url = many_communes
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


def test_the_playlists_list_of_communes_narrows_as_one_types(page, many_communes):
    log_in(page, many_communes, "bientap")
    page.goto(f"{many_communes}/playlists")
    links = page.locator("ul.commune-pick > li")
    assert links.count() >= 10
    page.get_by_role("searchbox", name="Tìm địa bàn (gõ có dấu hoặc không dấu)").fill("dong van")
    shown = [li for li in links.all() if li.is_visible()]
    assert len(shown) == 1 and "Xã Đồng Văn" in shown[0].inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="Xã Đồng Văn").click()
    assert "Xã Đồng Văn" in page.locator("h1").inner_text()


def test_on_a_phone_the_dashboard_table_of_areas_narrows_as_one_types(phone, many_communes):
    log_in(phone, many_communes, "bientap")
    with phone.expect_navigation():  # from the province's row to its communes
        phone.locator("table.area-figures tbody th a", has_text="Tỉnh Tuyên Quang").click()
    rows = phone.locator("table.area-figures tbody tr")
    assert rows.count() >= 10
    phone.get_by_role("searchbox", name="Tìm địa bàn (gõ có dấu hoặc không dấu)").fill("ha giang 2")
    shown = [row for row in rows.all() if row.is_visible()]
    assert len(shown) == 1 and "Phường Hà Giang 2" in shown[0].inner_text()
    assert phone.get_by_role("status").filter(has_text="Tìm thấy").inner_text().strip() == "Tìm thấy: 1"
    fits_the_screen(phone)
    screenshot(phone, "searchable-dashboard-phone.png")


def test_the_deliveries_table_is_searched_by_code_or_commune(page, many_communes):
    log_in(page, many_communes, "bientap")
    page.goto(f"{many_communes}/deliveries")
    rows = page.locator("table.deliveries tbody tr")
    assert rows.count() >= 10
    search = page.get_by_role("searchbox", name="Tìm đài: mã, tên hoặc xã/phường")
    for typed, found in (("khau vai", "Xã Khâu Vai"), ("hg1-02", "HG1-02")):  # a commune's name, a code
        search.fill(typed)
        shown = [row for row in rows.all() if row.is_visible()]
        assert len(shown) == 1 and found in shown[0].inner_text(), typed
