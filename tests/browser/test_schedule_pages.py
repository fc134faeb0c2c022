"""An editor opens the scheduling timeline in Chromium, moves an item down with the button, then drags one.

The app with the demo data and a 06:00 session of three items on 29/11/2026 is served on 127.0.0.1; the system
Chromium drives it through Playwright. Screenshots go to tests/artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve
from tests.integration.test_schedule_pages import PAGE, build_schedule

pytestmark = pytest.mark.browser

TITLES = ["Tin một", "Tin hai", "Tin ba"]


@pytest.fixture
def live_url(seeded) -> str:
    # 200 + 150 + 128 s with two 1 s gaps: they fit the 10-minute session (an over-full session of a slot that
    # rejects overflow leaves its last item out, and the overflow page is tested in tests/integration).
    build_schedule(seeded, [("Tin một", 200), ("Tin hai", 150), ("Tin ba", 128)])
    with serve(seeded) as url:
        yield url


def order(page) -> list[str]:
    return [t.strip() for t in page.locator("ol.tl-items li .tl-title").all_inner_texts()]


def test_editor_reorders_a_session(page, live_url):
    log_in(page, live_url, "bientap")
    page.get_by_role("link", name="Schedule").or_(page.get_by_role("link", name="Lịch phát")).first.click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/schedule"
    page.goto(live_url + PAGE)
    card = page.locator("article.tl-occ").first
    assert "06:00–06:10" in card.locator("h3").inner_text()
    assert "2 phút" in card.locator(".tl-free-text").inner_text()  # 2 min 0 s free
    assert order(page) == TITLES
    screenshot(page, "schedule.png")

    with page.expect_navigation():
        page.locator("li.tl-item", has_text="Tin một").locator("button[name=to][value='2']").click()
    assert order(page) == ["Tin hai", "Tin một", "Tin ba"]

    # Drag-and-drop (static/schedule.js) submits the same form with the place dropped on.
    with page.expect_navigation():
        page.locator("li.tl-item", has_text="Tin ba").drag_to(page.locator("li.tl-item", has_text="Tin hai"))
    assert order(page) == ["Tin ba", "Tin hai", "Tin một"]


def test_timeline_fits_a_phone(phone, live_url):
    log_in(phone, live_url, "bientap")
    phone.goto(live_url + PAGE)
    assert phone.locator("article.tl-occ").count() == 1
    fits_the_screen(phone)
    screenshot(phone, "schedule-phone.png")
