"""The commune e-board in Chromium at 1920×1080 and at 360 px: warnings on top in their risk colour, the bulletin
on air and the next with their text, refreshed by itself, and the last good board kept when the link drops."""

from __future__ import annotations

import pytest

from tests.airing import build_world
from tests.browser.conftest import fits_the_screen, screenshot, serve
from tests.integration.test_eboard import DURING_FIRST, _warn

pytestmark = pytest.mark.browser


@pytest.fixture
def world(seeded):
    made = build_world(seeded)
    made["clock"]["now"] = DURING_FIRST
    _warn(made, risk=4)
    return made


def _full_hd(browser):
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                  viewport={"width": 1920, "height": 1080})
    context.set_default_timeout(15_000)
    return context


def test_the_board_on_a_full_hd_display_keeps_its_last_board_when_the_link_drops(browser, seeded, world):
    context = _full_hd(browser)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.clock.install()  # the page's timers run when the test says: its refresh is driven, not waited for
    with serve(seeded) as url:
        page.goto(f"{url}/eboard/00694")
        page.locator(".eboard-warning").wait_for()
        warning = page.locator(".eboard-warning")
        assert "cấp độ rủi ro 4" in warning.inner_text().lower()  # shown in capitals
        assert page.evaluate("getComputedStyle(document.querySelector('.eboard-warning')).backgroundColor") == \
            "rgb(229, 57, 53)"  # level 4: red
        # Warnings come first on the screen, above the bulletin on air.
        top = page.evaluate("[document.querySelector('.eboard-warning').getBoundingClientRect().top, "
                            "document.querySelector('#eboard-current').getBoundingClientRect().top]")
        assert top[0] < top[1]
        current = page.locator("#eboard-current").inner_text()
        assert "Tin một" in current and "Một hai ba." in current and "06:00" in current
        assert "Tin hai" in page.locator("#eboard-next").inner_text()
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.eboard-current .eboard-title'))"
                             ".fontSize)")
        assert size >= 40  # read from across the room
        screenshot(page, "eboard-1920.png")
        # A new warning is issued: the board shows it at its next refresh, above the older one.
        page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # from here time moves only when told
        _warn(world, risk=5)
        page.clock.run_for(16_000)
        page.locator(".eboard-risk-5").wait_for()
        assert page.locator(".eboard-warning").count() == 2
        assert page.evaluate("document.querySelector('.eboard-warning').classList.contains('eboard-risk-5')")
        # The link drops: the page reloads from its own cache of the board and says since when.
        context.route("**/api/v1/exchange/eboards/**", lambda route: route.abort())
        page.reload()
        page.locator("#eboard-status").wait_for(state="visible")
        assert "Mất kết nối" in page.locator("#eboard-status").inner_text()
        assert "Tin một" in page.locator("#eboard-current").inner_text()
        assert page.locator(".eboard-warning").count() == 2
        screenshot(page, "eboard-offline.png")
    context.close()
    assert errors == []


def test_the_board_on_a_phone(phone, seeded, world):
    with serve(seeded) as url:
        phone.goto(f"{url}/eboard/00694")
        phone.locator(".eboard-warning").wait_for()
        phone.locator("#eboard-current .eboard-title").wait_for()
        fits_the_screen(phone)
        assert "Tin một" in phone.locator("#eboard-current").inner_text()
        screenshot(phone, "eboard-360.png")
