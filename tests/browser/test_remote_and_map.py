"""An operator's remote control on the station page and the station map, in Chromium, in Vietnamese, on a desktop
and a 360 px phone.

The app with the demo data and a compiled day (tests.airing) is served on 127.0.0.1; the test plays the station's
agent through the API with the station's token (fetching the command, then acknowledging it), and the page shows
the state change by itself. The map is drawn without tiles (no MAP_TILE_URL): it must not reach any other host.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.airing import build_world
from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve
from tests.browser.test_content_policy import LISTEN
from tests.integration.test_station_map import set_states

pytestmark = pytest.mark.browser
# Six approved bulletins: enough for the remote control's search box.
TITLES = ("Tin một", "Tin hai", "Phòng chống lũ quét", "Tiêm chủng cho trẻ", "Đường giao thông nông thôn",
          "Lịch cắt điện")


@pytest.fixture
def world(seeded):
    world = set_states(build_world(seeded, titles=TITLES))
    with serve(seeded) as url:
        world["url"] = url
        yield world


def agent_fetches(world) -> list[dict]:
    answer = world["api"].get("/api/v1/stations/HG1-01/commands", headers=world["tokens"]["HG1-01"])
    assert answer.status_code == 200
    return answer.json["commands"]


def agent_acks(world, command_id: int, ok: bool, detail: str) -> None:
    assert world["api"].post(f"/api/v1/stations/HG1-01/commands/{command_id}/ack", headers=world["tokens"]["HG1-01"],
                             json={"ok": ok, "detail": detail}).status_code == 200


def watch(page) -> list[str]:
    """Record what the Content-Security-Policy blocks (window.__violations) and the console's errors (but the
    browser's own request for a favicon, which the service does not have)."""
    errors: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda message: errors.append(f"{message.text} {message.location.get('url')}")
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico") else None)
    return errors


def nothing_blocked(page, errors: list[str]) -> None:
    assert page.evaluate("window.__violations") == [] and errors == []


def command_row(page):
    return page.locator("#command-list tbody tr").first


def test_an_operator_plays_a_bulletin_now_and_sees_the_station_carry_it_out(page, world):
    url = world["url"]
    errors = watch(page)
    log_in(page, url, "vanhanh")
    page.goto(f"{url}/stations/HG1-01")
    remote = page.get_by_role("region", name="Điều khiển từ xa")
    assert "Chưa gửi lệnh nào tới đài này." in remote.inner_text()
    # The search box narrows the list (without accents too); the first match is chosen.
    remote.get_by_role("searchbox", name="Tìm bản tin").fill("duong giao")
    assert remote.get_by_label("Bản tin cần phát").input_value() == remote.get_by_role(
        "option", name="Đường giao thông nông thôn (1:00)").get_attribute("value")
    remote.get_by_role("searchbox", name="Tìm bản tin").fill("")
    remote.get_by_label("Bản tin cần phát").select_option(label="Tin một (1:00)")
    with page.expect_navigation():
        remote.get_by_role("button", name="Phát ngay").click()
    assert urlsplit(page.url).path == "/stations/HG1-01"
    assert page.get_by_role("status").inner_text().strip() == (
        "Đã gửi lệnh tới đài: phát ngay “Tin một”. Trạng thái của lệnh hiện ở bên dưới.")
    row = command_row(page)
    assert "Phát ngay: Tin một" in row.inner_text()
    assert row.locator(".badge").inner_text().strip() == "Đang chờ đài nhận"
    screenshot(page, "station-remote-pending.png")

    # No reload from here on: the page's script follows the command as the agent fetches and answers it.
    page.evaluate("window.sameDocument = true")
    [command] = agent_fetches(world)
    assert command["kind"] == "play_now"
    page.locator("#command-list tbody tr[data-state=delivered]").wait_for()
    assert command_row(page).locator(".badge").inner_text().strip() == "Đài đã nhận lệnh"
    agent_acks(world, command["id"], True, "đang phát")
    page.locator("#command-list tbody tr[data-state=done]").wait_for()
    row = command_row(page)
    assert row.locator(".badge").inner_text().strip() == "Đã thực hiện" and "đang phát" in row.inner_text()
    assert page.evaluate("window.sameDocument") is True
    nothing_blocked(page, errors)
    screenshot(page, "station-remote-done.png")


def test_the_remote_control_works_on_a_phone(phone, world):
    url = world["url"]
    log_in(phone, url, "vanhanh")
    phone.goto(f"{url}/stations/HG1-01")
    remote = phone.get_by_role("region", name="Điều khiển từ xa")
    remote.get_by_label("Âm lượng (0–100)").fill("40")
    with phone.expect_navigation():
        remote.get_by_role("button", name="Đặt âm lượng").click()
    assert "đặt âm lượng 40" in phone.get_by_role("status").inner_text()
    assert "Âm lượng 40" in command_row(phone).inner_text()
    [command] = agent_fetches(world)
    agent_acks(world, command["id"], False, "bộ khuếch đại tắt")
    phone.locator("#command-list tbody tr[data-state=failed]").wait_for()
    assert "bộ khuếch đại tắt" in command_row(phone).inner_text()
    assert phone.evaluate("document.documentElement.clientWidth") == 360
    screenshot(phone, "station-remote-360.png")
    fits_the_screen(phone)

    # Stop, from the phone too.
    with phone.expect_navigation():
        phone.get_by_role("button", name="Dừng phát").click()
    assert "dừng phát" in phone.get_by_role("status").inner_text()


def open_map(page, url: str) -> None:
    hosts = []
    page.on("request", lambda request: hosts.append(urlsplit(request.url).netloc))
    page.get_by_role("link", name="Bản đồ đài").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/map"
    page.locator("#station-map.ready path.map-station[data-code]").first.wait_for()
    assert set(hosts) == {urlsplit(url).netloc}  # no tiles, nothing from the internet


def map_states(page) -> dict[str, str]:
    markers = page.locator("#station-map path.map-station")
    return {markers.nth(i).get_attribute("data-code"): markers.nth(i).get_attribute("data-state")
            for i in range(markers.count())}


def test_the_map_shows_the_stations_by_state_and_opens_one_on_click(page, world):
    url = world["url"]
    errors = watch(page)
    log_in(page, url, "bientap")
    open_map(page, url)
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Bản đồ đài: Tỉnh Tuyên Quang"
    assert map_states(page) == {"HG1-01": "playing", "HG1-02": "behind", "HG2-01": "offline", "DV-01": "unknown"}
    assert page.locator("#station-map path.map-outline").count() == 1  # the province, drawn without tiles
    legend = page.get_by_role("list", name="Chú giải bản đồ").inner_text()
    assert "Mất kết nối: 1" in legend and "Chưa cập nhật danh sách phát: 1" in legend and "Đang phát: 1" in legend
    screenshot(page, "station-map.png")
    nothing_blocked(page, errors)

    page.locator("#station-map path.map-station[data-code='HG2-01']").click()
    page.wait_for_url(f"{url}/stations/HG2-01")
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Đài phường Hà Giang 2"


def test_an_operator_sees_the_map_of_their_commune_on_a_phone(phone, world):
    url = world["url"]
    log_in(phone, url, "vanhanh")
    open_map(phone, url)
    assert map_states(phone) == {"HG1-01": "playing", "HG1-02": "behind"}  # their commune's only
    assert phone.evaluate("document.documentElement.clientWidth") == 360
    screenshot(phone, "station-map-360.png")
    fits_the_screen(phone)
    phone.locator("#station-map path.map-station[data-code='HG1-02']").tap()
    phone.wait_for_url(f"{url}/stations/HG1-02")


# Any PNG serves as a tile here: Leaflet's own layers icon.
TILE = (Path(__file__).resolve().parents[2] / "broadcast/static/vendor/leaflet/images/layers.png").read_bytes()


def tile_server(asked: list[str]):
    """A tile server (WSGI) that answers every /z/x/y.png with the same image and notes what was asked."""
    def app(environ, start_response):
        asked.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "image/png"), ("Content-Length", str(len(TILE)))])
        return [TILE]
    return app


def test_with_a_tile_url_the_map_draws_the_tiles_under_the_stations(page, world, seeded):
    asked: list[str] = []
    with serve(tile_server(asked)) as tiles:
        # Another port is another origin: the page's policy must name the tile server for its images to load.
        seeded.extensions["settings"] = seeded.extensions["settings"].model_copy(update={
            "map_tile_url": tiles + "/{z}/{x}/{y}.png", "map_tile_attribution": "Bản đồ thử nghiệm"})
        url = world["url"]
        errors = watch(page)
        log_in(page, url, "bientap")
        page.goto(f"{url}/map")
        page.locator("#station-map img.leaflet-tile-loaded").first.wait_for()
        assert asked and all(re.fullmatch(r"/\d+/\d+/\d+\.png", path) for path in asked)
        assert len(map_states(page)) == 4
        assert page.locator("#station-map path.map-outline").count() == 0  # the tiles show the boundaries
        assert "Bản đồ thử nghiệm" in page.locator(".leaflet-control-attribution").inner_text()
        nothing_blocked(page, errors)
        screenshot(page, "station-map-tiles.png")
