"""A commune operator checks a station's day and confirms a session, in Chromium, on a desktop and a 360 px phone.

The app with the demo data, a compiled 06:00 session and the station's as-run report is served by a real HTTP
server on the loopback interface; the system Chromium drives it through Playwright. Screenshots go to
tests/artifacts/screenshots/ (not committed), as in test_login.py.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.airing import build_world, played
from tests.browser.conftest import fits_the_screen, screenshot, serve
from tests.browser.conftest import log_in as log_in_as
from tests.integration.test_operator_pages import DAY

pytestmark = pytest.mark.browser

REASON = "Mất điện cả xóm từ 5 giờ 50"


@pytest.fixture
def live_url(seeded) -> str:
    """The seeded app with a reported session on 29/11/2026, its clock at 06:30, served on 127.0.0.1."""
    world = build_world(seeded)
    entries = world["entries"]
    world["api"].post("/api/v1/stations/HG1-01/events", headers=world["tokens"]["HG1-01"], json={
        "events": [played(entries[0]), played(entries[1], outcome="skipped", seconds_played=0, ended_at=None,
                                                 reason="late start")]})
    with serve(seeded) as url:
        yield url


def log_in(page, base: str, username: str = "vanhanh") -> None:
    log_in_as(page, base, username)


def session_card(page):
    return page.locator("section.occurrence").first



def test_operator_confirms_a_session_as_not_aired(page, live_url):
    log_in(page, live_url)
    page.get_by_role("link", name="HG1-01").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/stations/HG1-01"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Đài phường Hà Giang 1 - Tổ 1"
    screenshot(page, "station.png")

    page.get_by_role("link", name="Các buổi phát hôm nay").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == DAY
    card = session_card(page)
    assert card.get_by_role("heading", level=2).inner_text().strip() == "06:00–06:10 · Buổi sáng"
    assert card.locator(".badge.airing-partial").inner_text().strip() == "Phát một phần"
    assert "late start" in card.locator("table.events").inner_text()
    assert "Chưa xác nhận." in card.inner_text()
    screenshot(page, "station-day.png")

    # "Not aired" without a reason: refused with a clear message, the choice kept.
    card.get_by_role("radio", name="Không phát").check()
    with page.expect_response(lambda r: urlsplit(r.url).path == DAY and r.request.method == "POST") as posted:
        card.get_by_role("button", name="Lưu xác nhận").click()
    assert posted.value.status == 422
    page.wait_for_load_state()
    card = session_card(page)
    assert card.get_by_role("alert").inner_text().strip() == "Hãy cho biết lý do không phát."
    assert card.get_by_role("radio", name="Không phát").is_checked()
    assert card.locator("textarea").get_attribute("aria-invalid") == "true"
    screenshot(page, "station-day-error.png")

    # With the keyboard: the reason field, then Enter on the button.
    card.locator("textarea").focus()
    page.keyboard.type(REASON)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Lưu xác nhận"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()

    assert urlsplit(page.url).path == DAY
    assert page.get_by_role("status").inner_text().strip() == "Đã lưu xác nhận: không phát."
    confirmation = session_card(page).locator(".confirmation")
    text = confirmation.inner_text()
    assert "Không phát" in text and REASON in text
    assert "Vận hành viên phường Hà Giang 1" in text and "29/11/2026 06:30" in text
    assert session_card(page).get_by_role("group", name="Sửa xác nhận").is_visible()
    screenshot(page, "station-day-confirmed.png")

    page.get_by_role("link", name="Gửi danh sách phát").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Tình trạng gửi danh sách phát"
    codes = page.locator("table.deliveries tbody tr td:first-child a").all_inner_texts()
    assert sorted(codes) == ["HG1-01", "HG1-02"]
    screenshot(page, "deliveries.png")


def test_operator_pages_fit_a_phone(phone, live_url):
    log_in(phone, live_url)
    phone.goto(f"{live_url}{DAY}")
    card = session_card(phone)
    card.get_by_role("radio", name="Không phát").check()
    card.get_by_label("Lý do (bắt buộc khi không phát)").fill(REASON)
    card.get_by_role("button", name="Lưu xác nhận").click()
    phone.wait_for_load_state()
    assert REASON in session_card(phone).locator(".confirmation").inner_text()
    assert phone.evaluate("document.documentElement.clientWidth") == 360
    screenshot(phone, "station-day-360.png")
    fits_the_screen(phone)

    for path, name in (("/stations/HG1-01", "station-360.png"), ("/deliveries", "deliveries-360.png")):
        phone.goto(f"{live_url}{path}")
        screenshot(phone, name)
        fits_the_screen(phone)
