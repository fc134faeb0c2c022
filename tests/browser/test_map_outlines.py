"""The station map's commune outlines in Chromium, in Vietnamese: estimated from the centres and tinted by state
until an administrator imports the province's boundary file through the page; on a desktop and a 360 px phone."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import mapping, shape

from tests.browser import test_remote_and_map as remote
from tests.browser.conftest import fits_the_screen, log_in, screenshot
from tests.browser.test_remote_and_map import map_states, nothing_blocked, open_map, watch
from tests.integration import test_area_outlines as outlines
from tests.integration.test_area_outlines import HA_GIANG_1, boundaries

pytestmark = pytest.mark.browser
# The fixtures: the served demo world with its stations' states, and Tuyên Quang's commune centres.
world = remote.world
communes = outlines.communes


def commune_paths(page, kind: str):
    return page.locator(f"#station-map path.map-commune.outline-{kind}")


def test_without_boundaries_each_commune_is_an_estimated_outline_tinted_by_its_stations(page, world, communes):
    url = world["url"]
    errors = watch(page)
    log_in(page, url, "bientap")
    open_map(page, url)
    assert commune_paths(page, "estimated").count() == len(communes)
    assert commune_paths(page, "imported").count() == 0
    # Hà Giang 1 has a station playing and one behind: the most urgent tints it; Hà Giang 2's one is silent.
    tinted = page.locator(f"#station-map path.map-commune[data-code='{HA_GIANG_1}']")
    assert "state-behind" in tinted.get_attribute("class")
    assert page.locator("#station-map path.map-commune.state-offline").count() == 1
    assert page.locator("#station-map path.map-commune.state-behind").count() == 1
    assert page.locator("#station-map path.map-outline.outline-estimated").count() == 1
    note = page.locator(".map-note").inner_text()
    assert "Ranh giới các xã là ước tính, không phải địa giới thật" in note
    assert page.get_by_role("link", name="Nạp ranh giới (GeoJSON)").count() == 0  # editors do not import
    # Pointing at a commune names it.
    quiet = next(code for code in sorted(communes) if code not in (HA_GIANG_1, "00691", "00700"))
    page.locator(f"#station-map path.map-commune[data-code='{quiet}']").hover()
    assert page.locator(".leaflet-tooltip").inner_text().startswith(("Xã ", "Phường "))
    screenshot(page, "station-map.png")
    nothing_blocked(page, errors)


def test_an_administrator_imports_the_boundary_file_and_the_map_draws_it(page, world, communes, tmp_path):
    url = world["url"]
    errors = watch(page)
    wrong = json.loads(boundaries(communes))
    for feature in wrong["features"][:3]:  # three boundaries half a degree north of their communes
        feature["geometry"] = mapping(shapely.affinity.translate(shape(feature["geometry"]), yoff=0.5))
    (tmp_path / "sai.geojson").write_text(json.dumps(wrong))
    (tmp_path / "ranh-gioi-tuyen-quang.geojson").write_bytes(boundaries(communes))

    log_in(page, url, "admin")
    open_map(page, url)
    page.get_by_role("link", name="Nạp ranh giới (GeoJSON)").click()
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Ranh giới trên bản đồ"
    page.get_by_label("Tệp ranh giới (GeoJSON)").set_input_files(str(tmp_path / "sai.geojson"))
    page.get_by_role("button", name="Nạp", exact=True).click()
    assert page.get_by_role("alert").inner_text().strip() == "Không nạp gì: 3 ranh giới bị sai."
    assert page.locator(".problems li").count() == 3
    screenshot(page, "map-outlines-refused.png")
    assert [e for e in errors if "422" not in e] == []  # the browser logs the refusal's status, nothing else
    errors.clear()

    page.get_by_label("Tệp ranh giới (GeoJSON)").set_input_files(str(tmp_path / "ranh-gioi-tuyen-quang.geojson"))
    page.get_by_role("button", name="Nạp", exact=True).click()
    page.wait_for_url(f"{url}/map")
    flash = page.get_by_role("status").first.inner_text()
    assert f"Đã nạp {len(communes)} ranh giới (khớp theo thuộc tính ma_xa)" in flash
    page.locator("#station-map.ready path.map-station").first.wait_for()
    # The administrator of everything sees the communes that have stations: all three now drawn as imported.
    assert commune_paths(page, "imported").count() == 3 and commune_paths(page, "estimated").count() == 0
    assert page.locator("#station-map path.map-outline.outline-imported").count() == 1
    assert "Các xã được vẽ theo ranh giới đã nạp." in page.locator(".map-note").inner_text()
    assert len(map_states(page)) == 4
    nothing_blocked(page, errors)


def test_the_boundaries_page_and_an_operators_commune_fit_a_phone(phone, world, communes):
    url = world["url"]
    log_in(phone, url, "admin")
    phone.goto(f"{url}/map/outlines")
    fits_the_screen(phone)
    screenshot(phone, "map-outlines-360.png")
    phone.get_by_role("button", name="Đăng xuất").click()
    phone.wait_for_url(f"{url}/login*")
    log_in(phone, url, "vanhanh")
    open_map(phone, url)
    # The operator's one commune, cut as on the province's map, under its two stations.
    assert commune_paths(phone, "estimated").count() == 1
    assert phone.locator(f"#station-map path.map-commune[data-code='{HA_GIANG_1}']").count() == 1
    assert map_states(phone) == {"HG1-01": "playing", "HG1-02": "behind"}
    fits_the_screen(phone)
