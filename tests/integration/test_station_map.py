"""The station map: its page (a table without JavaScript, the map's script and style sheet), its JSON in the
OpenAPI document and valid against it, states as the dashboard computes them, the tile setting, and scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from openapi_schema_validator import OAS30Validator
from sqlalchemy import select

from broadcast.db.models import Station, StationStatus
from tests.airing import NOW, build_world
from tests.conftest import log_in

MAP_JSON = "/api/v1/station-map"


@pytest.fixture
def world(seeded):
    return set_states(build_world(seeded))


def set_states(world: dict) -> dict:
    """HG1-01 installed the current playlist and plays; HG1-02 is online with none installed (behind);
    HG2-01 has been silent for an hour (offline); DV-01 was never heard from."""
    api, tokens = world["api"], world["tokens"]
    assert api.post("/api/v1/stations/HG1-01/receipts", headers=tokens["HG1-01"],
                    json={"version": world["version"]}).status_code == 200
    assert api.post("/api/v1/stations/HG1-01/heartbeat", headers=tokens["HG1-01"],
                    json={"state": "playing"}).status_code == 200
    assert api.post("/api/v1/stations/HG1-02/heartbeat", headers=tokens["HG1-02"], json={}).status_code == 200
    with world["database"].sessions() as session:
        silent = session.scalar(select(Station).where(Station.code == "HG2-01"))
        silent.status, silent.last_contact_at = StationStatus.OFFLINE, NOW - timedelta(hours=1)
        session.commit()
    return world


def stations_of(data: dict) -> dict[str, dict]:
    return {f["properties"]["code"]: f for f in data["features"] if f["properties"]["kind"] == "station"}


def test_the_map_json_gives_each_station_its_state_and_place(world, client):
    log_in(client, "bientap")
    data = client.get(MAP_JSON).json
    found = stations_of(data)
    assert {code: f["properties"]["state"] for code, f in found.items()} == {
        "HG1-01": "playing", "HG1-02": "behind", "HG2-01": "offline", "DV-01": "unknown"}
    assert found["HG1-02"]["properties"]["status"] == "online" and found["HG1-02"]["properties"]["behind"] is True
    assert data["counts"] == {"offline": 1, "unknown": 1, "behind": 1, "playing": 1, "online": 0}
    lon, lat = found["HG1-01"]["geometry"]["coordinates"]
    assert 104 < lon < 106 and 22 < lat < 24  # Hà Giang, from the commune's centre
    # Without tiles the page draws the province's outline (a hull of its communes' centres) and the communes.
    outline = [f for f in data["features"] if f["properties"]["kind"] == "outline"]
    communes = [f for f in data["features"] if f["properties"]["kind"] == "commune"]
    assert len(outline) == 1 and outline[0]["geometry"]["type"] == "Polygon" and len(communes) > 50
    ring = outline[0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) >= 4
    assert data["tile_url"] == "" and data["area"] == "Tỉnh Tuyên Quang"


def test_the_map_json_is_in_the_openapi_document_and_valid_against_it(world, client):
    log_in(client, "bientap")
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"][MAP_JSON]["get"]
    assert operation["security"] == [{"cookieAuth": []}, {"bearerAuth": []}]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    # The references (#/components/...) resolve within the schema once the components sit beside it.
    validator = OAS30Validator({**schema, "components": spec["components"]})
    data = client.get(MAP_JSON).json
    validator.validate(data)
    broken = {**data, "features": [{**data["features"][-1], "properties": {"kind": "station", "state": "lost"}}]}
    assert not validator.is_valid(broken)  # the document constrains what the map relies on


def test_an_operator_sees_only_the_stations_of_their_commune(world, client):
    log_in(client, "vanhanh")
    data = client.get(MAP_JSON).json
    assert sorted(stations_of(data)) == ["HG1-01", "HG1-02"]
    communes = [f for f in data["features"] if f["properties"]["kind"] == "commune"]
    assert [c["properties"]["name"] for c in communes] == ["Phường Hà Giang 1"]
    page = client.get("/map").get_data(as_text=True)
    assert "HG2-01" not in page and 'href="/stations/HG1-01"' in page


def test_the_map_page_lists_the_stations_and_loads_the_vendored_map(world, client):
    log_in(client, "bientap")
    response = client.get("/map")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Bản đồ đài: Tỉnh Tuyên Quang</h1>" in page
    assert '<span class="badge map-behind">Chưa cập nhật danh sách phát</span>' in page
    assert '<span class="badge map-offline">Mất kết nối</span>' in page
    assert "Vẽ không có nền bản đồ" in page  # said honestly: no boundary data
    assert "/static/vendor/leaflet/leaflet.js" in page and "/static/station_map.js" in page
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]  # no tile server allowed


def test_a_tile_url_is_given_to_the_map_and_allowed_by_the_pages_policy(world, client):
    extensions = world["api"].application.extensions
    extensions["settings"] = extensions["settings"].model_copy(update={
        "map_tile_url": "https://{s}.tiles.example.org/{z}/{x}/{y}.png", "map_tile_attribution": "© OpenStreetMap"})
    log_in(client, "bientap")
    assert client.get(MAP_JSON).json["tile_url"] == "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    response = client.get("/map")
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy and "script-src 'self';" in policy
    assert "Vẽ không có nền bản đồ" not in response.get_data(as_text=True)


def test_the_map_needs_a_login(world, client):
    assert client.get(MAP_JSON).status_code == 401
    assert client.get("/map").status_code == 302


def test_an_administrator_of_everything_sees_every_station_and_only_the_communes_that_have_some(world, client):
    log_in(client, "admin")
    data = client.get(MAP_JSON).json
    assert sorted(stations_of(data)) == ["DV-01", "HG1-01", "HG1-02", "HG2-01"]
    communes = sorted(f["properties"]["name"] for f in data["features"] if f["properties"]["kind"] == "commune")
    assert communes == ["Phường Hà Giang 1", "Phường Hà Giang 2", "Xã Đồng Văn"] and data["area"] == ""
    assert "<h1>Bản đồ đài</h1>" in client.get("/map").get_data(as_text=True)
