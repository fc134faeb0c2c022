"""Speaking live from the browser, in Chromium, in Vietnamese, on a desktop and a 360 px phone.

Chromium runs with a fake microphone that plays a Vietnamese sentence spoken by espeak-ng, and grants the page
the microphone without asking. The page opens the announcement, streams the microphone over its WebSocket to a
real Icecast (through the service's ffmpeg), the stations are told, one of them fetches its command through the
API, the page shows it by itself, and Stop ends it all.
"""

from __future__ import annotations

import subprocess

import pytest
import requests

from broadcast.config import load_settings
from broadcast.services import stations
from tests.browser.conftest import CHROMIUM_ARGS, fits_the_screen, log_in, screenshot, serve
from tests.browser.test_remote_and_map import nothing_blocked, watch
from tests.icecast import icecast_or_skip
from tests.services import CHROMIUM, need_tool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SENTENCE = "Kính thưa bà con, sáng nay xã tổ chức họp dân về phòng chống bão."


@pytest.fixture(scope="module")
def icecast():
    need_tool("ffmpeg")
    with icecast_or_skip() as server:
        yield server


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    need_tool("espeak-ng")
    path = tmp_path_factory.mktemp("voice") / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "150", "-w", str(path), SENTENCE], check=True)
    return path


@pytest.fixture(scope="module")
def mic_browser(voice):
    need_tool(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={voice}", "--autoplay-policy=no-user-gesture-required"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def settings(tmp_path, database, icecast):
    return load_settings(instance_path=tmp_path / "instance", database_url=database.url, totp_required_roles="",
                         live_icecast_url=icecast.source_base, live_listen_url=icecast.base_url)


@pytest.fixture
def site(seeded):
    with serve(seeded) as base:
        yield base


def station_fetches(seeded, base: str, code: str) -> list[dict]:
    with seeded.extensions["database"].sessions() as session:
        token = stations.issue_token(session, stations.get_station(session, code))
    answer = requests.get(f"{base}/api/v1/stations/{code}/commands", params={"wait": 0},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.ok
    return answer.json()["commands"]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_editor_speaks_live_to_a_commune_and_stops(mic_browser, seeded, site, icecast, size):
    options = ({"viewport": {"width": 1280, "height": 900}} if size == "desktop" else
               {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
                "has_touch": True})
    context = mic_browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **options)
    context.set_default_timeout(20_000)
    context.grant_permissions(["microphone"], origin=site)
    page = context.new_page()
    errors = watch(page)
    try:
        log_in(page, site, "bientap")
        page.get_by_role("link", name="Phát trực tiếp").click()
        page.wait_for_url(f"{site}/live")
        assert page.locator("h1").inner_text() == "Phát trực tiếp"

        # Everything missing is said at once, at its field.
        page.get_by_role("button", name="Bắt đầu nói").click()
        page.locator("[data-error-for=title]").wait_for()
        assert page.locator("[data-error-for=title]").inner_text() == "Hãy đặt tiêu đề cho buổi phát."
        assert page.locator("[data-error-for=targets]").inner_text() == "Hãy chọn ít nhất một địa bàn."

        page.locator("#title").fill("Thông báo họp dân về phòng chống bão")
        page.locator("#area-search").fill("ha giang 1")  # found without tone marks
        page.locator("input[name=targets][value='00694']").check()
        page.get_by_role("button", name="Bắt đầu nói").click()

        state = page.locator("[data-state]")
        state.filter(has_text="Đang phát: các đài đang tiếp sóng giọng nói của bạn.").wait_for()
        rows = page.locator("table.live-targets tbody tr")
        rows.first.wait_for()
        assert rows.count() == 2  # the commune's two stations
        assert "Đang chờ đài nhận" in page.locator("tr[data-station='HG1-01']").inner_text()
        page.wait_for_function("document.querySelector('[data-meter]').value > 0")  # the meter hears the voice

        # A station fetches its command: the page shows it by itself.
        [command] = station_fetches(seeded, site, "HG1-01")
        assert command["kind"] == "play_stream" and command["args"]["url"].startswith(icecast.base_url + "/live-")
        page.locator("tr[data-station='HG1-01']").filter(has_text="Đài đã nhận").wait_for()
        assert page.locator("[data-elapsed]").inner_text() != "0:00"
        if size == "phone":
            fits_the_screen(page)
        screenshot(page, f"live-on-air-{size}.png")

        page.get_by_role("button", name="Dừng").click()
        state.filter(has_text="Đã kết thúc: được dừng bởi người dùng.").wait_for()
        page.locator("tr[data-station='HG1-01']").filter(has_text="Đã lệnh dừng").wait_for()
        assert [c["kind"] for c in station_fetches(seeded, site, "HG1-01")] == ["stop"]
        assert page.get_by_role("button", name="Bắt đầu nói").is_visible()
        screenshot(page, f"live-ended-{size}.png")

        # The announcement's own page, from the list of recent ones: who spoke, where, how long, how it ended;
        # nothing left to stop.
        page.reload()
        page.get_by_role("link", name="Thông báo họp dân về phòng chống bão").click()
        facts = page.locator("dl.live-facts").inner_text()
        assert "Biên tập viên tỉnh" in facts and "Phường Hà Giang 1" in facts and "đã phát 0:" in facts
        assert "được dừng bởi người dùng" in page.locator("[data-live-state=ended]").inner_text()
        assert page.get_by_role("button", name="Dừng buổi phát này").count() == 0
        if size == "phone":
            fits_the_screen(page)
        screenshot(page, f"live-detail-{size}.png")
        # the first, empty form's answer (422) is the one error the console shows
        errors[:] = [e for e in errors if "422" not in e]
        nothing_blocked(page, errors)
    finally:
        context.close()
