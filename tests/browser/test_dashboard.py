"""A provincial editor reads the dashboard by area and follows a figure to its stations, in Chromium, on a desktop
and a 360 px phone (where the table of areas scrolls inside its own box).

The stations are those of tests/integration/test_dashboard.py: chosen states, versions and a failed push.
Screenshots go to tests/artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve
from tests.integration.test_dashboard import NOW, area_id, known_states

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(seeded) -> str:
    seeded.extensions["clock"] = lambda: NOW
    with seeded.extensions["database"].sessions() as session:
        known_states(session)
        session.commit()
    with serve(seeded) as url:
        yield url


def area_row(page, name: str):
    return page.locator("table.area-figures tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))


def test_editor_follows_a_communes_figure_with_the_keyboard(page, seeded, live_url):
    log_in(page, live_url, "bientap")
    page.get_by_role("link", name="Tỉnh Tuyên Quang", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#status-h").inner_text().strip() == "Đài · Tỉnh Tuyên Quang"
    row = area_row(page, "Phường Hà Giang 1")
    assert [c.strip() for c in row.locator("td").all_inner_texts()] == ["4", "1", "1", "2", "2", "2", "2"]
    assert "needs-attention" in row.get_attribute("class")
    screenshot(page, "dashboard-areas.png")

    # From the commune's name, Tab reaches its figures in order; Enter on "offline or never heard" lists them.
    row.get_by_role("link", name="Phường Hà Giang 1").focus()
    for expected in ("4", "1", "1", "2"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent").strip() == expected
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert parse_qs(urlsplit(page.url).query) == {"area": [str(area_id(seeded, "00694"))], "status": ["silent"]}
    codes = page.locator("table.station-list tbody tr td:first-child").all_inner_texts()
    assert [c.strip() for c in codes] == ["HG1-04", "HG1-03"]
    assert "3 giờ trước" in page.locator("table.station-list").inner_text()
    screenshot(page, "dashboard-silent.png")


def test_dashboard_by_area_fits_a_phone(phone, seeded, live_url):
    log_in(phone, live_url, "bientap")
    phone.goto(f"{live_url}/?area={area_id(seeded, '08')}")
    region = phone.get_by_role("region", name="Số liệu theo địa bàn")
    assert region.is_visible()
    # The wide table scrolls inside its box; the page itself does not.
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")
    screenshot(phone, "dashboard-areas-360.png")
    fits_the_screen(phone)
