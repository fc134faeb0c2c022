"""The broadcast report page in Chromium: a desktop and a 360 px phone, used by keyboard, with screenshots.

The known data set of tests/integration/test_reports.py is served by a real HTTP server on the loopback interface.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve
from tests.integration.test_reports import report_world

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(seeded) -> str:
    report_world(seeded)
    with serve(seeded) as url:
        yield url


def test_an_editor_chooses_a_period_by_keyboard_and_reads_the_report(page, live_url):
    log_in(page, live_url, "bientap")
    page.locator("nav.mainnav a[href='/reports']").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/reports"
    assert page.locator("#area option:checked").inner_text().strip() == "Tỉnh Tuyên Quang"
    page.locator("#from").fill("2026-11-28")
    page.locator("#to").fill("2026-11-30")
    page.locator("#to").focus()
    for _ in range(4):  # through the date's day, month and year parts to the button: no mouse needed
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.wait_for_url("**/reports?*")
    asked = parse_qs(urlsplit(page.url).query)
    assert (asked["from"], asked["to"]) == (["2026-11-28"], ["2026-11-30"])
    totals = page.locator("table.report tfoot tr").inner_text()
    assert "480" in totals and "175" in totals
    assert page.locator("svg rect.bar-played").count() == 3  # one per day
    screenshot(page, "report.png")


def test_the_report_fits_a_phone_and_its_tables_scroll_inside(phone, live_url):
    log_in(phone, live_url, "bientap")
    phone.goto(f"{live_url}/reports?from=2026-11-28&to=2026-11-30")
    fits_the_screen(phone)
    box = phone.locator("#stations-h + .table-scroll")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # the table is wider, and scrolls in its box
    box.focus()
    phone.keyboard.press("ArrowRight")
    # Chromium scrolls smoothly: wait for the box to have moved rather than read it at once.
    phone.wait_for_function("() => document.querySelector('#stations-h + .table-scroll').scrollLeft > 0",
                            timeout=5000)
    screenshot(phone, "report-phone.png")
