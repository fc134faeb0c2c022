"""Logging in, the area scope of the dashboard, the language switch and a phone-sized screen, in Chromium.

The app with the demo data is served by a real HTTP server on the loopback interface; the system Chromium
drives it through Playwright. Screenshots go to tests/artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import PASSWORD, log_in, screenshot, serve

pytestmark = pytest.mark.browser

ALL_STATIONS = {"HG1-01", "HG1-02", "HG2-01", "DV-01"}


@pytest.fixture
def live_url(seeded) -> str:
    """The seeded app served over HTTP on 127.0.0.1, stopped when the test ends."""
    with serve(seeded) as url:
        yield url


def path_of(page) -> str:
    return urlsplit(page.url).path


def station_codes(page) -> list[str]:
    """The codes in the first column of the dashboard's station table."""
    return [code.strip() for code in
            page.locator("section[aria-labelledby=stations-h] tbody tr td:first-child").all_inner_texts()]


def test_login_page_is_vietnamese_and_rejects_a_wrong_password(page, live_url):
    page.goto(f"{live_url}/")
    # The dashboard needs a session: the visitor is sent to the login page, in Vietnamese by default.
    assert path_of(page) == "/login"
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Đăng nhập"
    assert page.get_by_label("Tên đăng nhập").is_visible()
    assert page.get_by_label("Mật khẩu").is_visible()
    screenshot(page, "login.png")

    page.get_by_label("Tên đăng nhập").fill("bientap")
    page.get_by_label("Mật khẩu").fill("not-the-password")
    with page.expect_response(lambda r: urlsplit(r.url).path == "/login" and r.request.method == "POST") as posted:
        page.get_by_role("button", name="Đăng nhập").click()
    assert posted.value.status == 401

    alert = page.get_by_role("alert")
    assert alert.inner_text().strip() == "Sai tên đăng nhập hoặc mật khẩu."
    assert path_of(page) == "/login"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Đăng nhập"
    assert page.locator("#password").get_attribute("aria-invalid") == "true"
    # Still not logged in: the dashboard sends the visitor back to the login page.
    page.goto(f"{live_url}/")
    assert path_of(page) == "/login"


def test_commune_operator_logs_in_with_the_keyboard_and_sees_only_their_stations(page, live_url):
    page.goto(f"{live_url}/login")
    # Tab from the top of the page until the username field has the focus (skip link, brand, language first).
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "username":
            break
    else:
        pytest.fail("the username field cannot be reached with the Tab key")
    page.keyboard.type("vanhanh")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()

    assert path_of(page) == "/"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Tổng quan"
    codes = station_codes(page)
    assert sorted(codes) == ["HG1-01", "HG1-02"]
    body = page.locator("body").inner_text()
    assert "HG2-01" not in body
    assert "DV-01" not in body


def test_editor_sees_every_station_switches_to_english_and_logs_out(page, live_url):
    log_in(page, live_url, "bientap")
    assert path_of(page) == "/"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Tổng quan"
    assert set(station_codes(page)) == ALL_STATIONS
    assert len(station_codes(page)) == len(ALL_STATIONS)
    screenshot(page, "dashboard.png")

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert path_of(page) == "/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Dashboard"
    assert page.locator("#stations-h").inner_text().strip() == "Station list"
    assert set(station_codes(page)) == ALL_STATIONS
    screenshot(page, "dashboard-en.png")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert path_of(page) == "/login"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Log in"
    assert "You have logged out." in page.get_by_role("status").inner_text()
    # The session is gone: the dashboard asks for a login again.
    page.goto(f"{live_url}/")
    assert path_of(page) == "/login"


def test_phone_sized_screen_has_no_horizontal_scroll(phone, live_url):
    phone.goto(f"{live_url}/login")
    assert phone.evaluate("document.documentElement.clientWidth") == 360
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "login-360.png")

    log_in(phone, live_url, "bientap")
    assert path_of(phone) == "/"
    assert set(station_codes(phone)) == ALL_STATIONS
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    screenshot(phone, "dashboard-360.png")
    assert scroll_width <= 360, f"the dashboard is {scroll_width}px wide on a 360px screen"
