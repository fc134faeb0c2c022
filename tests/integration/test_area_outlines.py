"""Area boundaries on the station map: estimated from the communes' centres until a province imports its own
GeoJSON (through the API, the page or the command line), checked so that all or nothing is imported."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, mapping, shape
from sqlalchemy import func, select

from broadcast.db.models import Area, AreaOutline, AuditLog, Level, Role, Structure
from broadcast.services import outline_geometry, users
from tests.conftest import DEMO_PASSWORD, csrf_from, log_in

ROOT = Path(__file__).resolve().parents[2]
MAP_JSON = "/api/v1/station-map"
OUTLINES = "/api/v1/area-outlines"
HA_GIANG_1 = "00694"  # the operator's commune, with two stations


@pytest.fixture
def communes(seeded):
    """Tuyên Quang's communes (2025 map): code -> (lon, lat)."""
    with seeded.extensions["database"].sessions() as session:
        return {a.code: (a.lon, a.lat) for a in session.scalars(select(Area).where(
            Area.structure == Structure.CURRENT, Area.level == Level.COMMUNE, Area.path.startswith("2025/08/"),
            Area.lat.is_not(None)))}


def boundaries(communes: dict, *, key="ma_xa", codes=None, shift=None, extra=()) -> bytes:
    """A boundary file such as a province's land office exports: each commune the land nearest its centre inside
    a rectangle around the province, named by code in ``key``; ``shift`` moves one commune's boundary away."""
    west, south = min(x for x, _ in communes.values()) - 0.05, min(y for _, y in communes.values()) - 0.05
    east, north = max(x for x, _ in communes.values()) + 0.05, max(y for _, y in communes.values()) + 0.05
    province = shapely.box(west, south, east, north)
    cells = outline_geometry.estimated_cells([(c, x, y) for c, (x, y) in communes.items()], province)
    features = []
    for code in codes or sorted(communes):
        cell = cells[code]
        if shift and code == shift:
            cell = shapely.affinity.translate(cell, xoff=0.5)
        value = int(code) if key == "MA_XA" else code
        features.append({"type": "Feature", "properties": {key: value, "ten": f"Xã số {code}"},
                         "geometry": mapping(cell)})
    features += list(extra)
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def bearer(app, username: str) -> dict:
    with app.extensions["database"].sessions() as session:
        return {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, username), "t")}


def upload(client, data: bytes, username: str | None = "admin", lang: str = "vi", **form):
    headers = bearer(client.application, username) if username else {}
    return client.post(f"{OUTLINES}?lang={lang}", data={**form, "file": (io.BytesIO(data), "ranh-gioi.geojson")},
                       headers=headers, content_type="multipart/form-data")


def commune_features(client) -> dict[str, dict]:
    data = client.get(MAP_JSON).json
    return {f["properties"]["code"]: f for f in data["features"] if f["properties"]["kind"] == "commune"}


def outline_of(client) -> dict:
    data = client.get(MAP_JSON).json
    return next(f for f in data["features"] if f["properties"]["kind"] == "outline")


def held_count(app) -> int:
    with app.extensions["database"].sessions() as session:
        return session.scalar(select(func.count()).select_from(AreaOutline))


def test_without_boundaries_each_commune_is_estimated_around_its_own_centre(seeded, client, communes):
    log_in(client, "bientap")
    found = commune_features(client)
    assert set(found) == set(communes) and len(found) > 50
    cells = {code: shape(f["geometry"]) for code, f in found.items()}
    for code, feature in found.items():
        assert feature["properties"]["outline"] == "estimated"
        assert cells[code].geom_type == "Polygon" and cells[code].contains(Point(*communes[code]))
    # They tile the province: the province outline is their union, drawn as an estimate too.
    outline = outline_of(client)
    assert outline["properties"]["outline"] == "estimated"
    total = sum(c.area for c in cells.values())
    assert shape(outline["geometry"]).area == pytest.approx(total, rel=0.01)
    # The stations' commune is tinted by its most urgent station, and counts them.
    assert found[HA_GIANG_1]["properties"]["stations"] == 2
    assert found[HA_GIANG_1]["properties"]["state"] == "unknown"
    quiet = next(f for c, f in found.items() if f["properties"]["stations"] == 0)
    assert quiet["properties"]["state"] is None


def test_an_operator_sees_their_commune_cut_as_on_the_province_map(seeded, client, communes):
    log_in(client, "bientap")
    province_cell = shape(commune_features(client)[HA_GIANG_1]["geometry"])
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").data)})
    log_in(client, "vanhanh")
    found = commune_features(client)
    assert list(found) == [HA_GIANG_1]
    assert shape(found[HA_GIANG_1]["geometry"]).symmetric_difference(province_cell).area < 1e-9
    assert shape(outline_of(client)["geometry"]).symmetric_difference(province_cell).area < 1e-8


def test_an_administrator_imports_the_provinces_boundaries_and_the_map_draws_them(seeded, client, communes):
    answer = upload(client, boundaries(communes, extra=[{"type": "Feature", "properties": {"ma_xa": "99999",
                                                                                          "ten": "Xã ngoài tỉnh"},
                                                        "geometry": mapping(shapely.box(106, 21, 106.1, 21.1))}]))
    assert answer.status_code == 201, answer.json
    assert answer.json == {"code_property": "ma_xa", "imported": {"commune": len(communes)},
                           "not_matched": ["Xã ngoài tỉnh"], "not_matched_count": 1, "outside_scope": 0}
    expected = boundaries(communes)
    log_in(client, "bientap")
    found = commune_features(client)
    sent = {f["properties"]["ma_xa"]: shape(f["geometry"]) for f in json.loads(expected)["features"]}
    for code, feature in found.items():
        assert feature["properties"]["outline"] == "imported"
        drawn = shape(feature["geometry"])
        assert drawn.symmetric_difference(sent[code]).area < 0.001 * sent[code].area  # simplified, same land
    # Every commune imported: the province's outline is their union, no longer an estimate.
    assert outline_of(client)["properties"]["outline"] == "imported"
    with seeded.extensions["database"].sessions() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "areas.outlines_imported")).one()
        assert audit.actor == "admin" and audit.details["imported"] == {"commune": len(communes)}
        assert session.scalar(select(func.count()).select_from(AreaOutline)) == len(communes)


def test_a_province_outline_in_the_file_is_the_outline_and_bounds_the_estimates(seeded, client, communes):
    """A province boundary alone (communes not yet digitised): communes are estimated inside it."""
    province = shapely.box(104.0, 21.3, 106.0, 23.5)
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ma_tinh": "08", "ten": "Tỉnh Tuyên Quang"},
         "geometry": mapping(province)}]}).encode()
    answer = upload(client, data)
    assert answer.status_code == 201 and answer.json["imported"] == {"province": 1}
    log_in(client, "bientap")
    outline = outline_of(client)
    assert outline["properties"]["outline"] == "imported"
    assert shape(outline["geometry"]).symmetric_difference(province).area < 1e-6
    cells = [shape(f["geometry"]) for f in commune_features(client).values()]
    assert shapely.union_all(cells).symmetric_difference(province).area < 1e-5 * province.area  # they fill it


def test_codes_written_as_numbers_without_their_zeros_still_match(seeded, client, communes):
    answer = upload(client, boundaries(communes, key="MA_XA"), structure="2025", code_property="MA_XA")
    assert answer.status_code == 201 and answer.json["code_property"] == "MA_XA"
    assert answer.json["imported"] == {"commune": len(communes)}


def test_the_import_options_are_checked(seeded, client, communes):
    data = boundaries(communes, codes=[HA_GIANG_1])
    wrong_map = upload(client, data, structure="1999")
    assert wrong_map.status_code == 422 and list(wrong_map.json["errors"]) == ["structure"]
    assert wrong_map.json["message"] == "Bản đồ hành chính là 2025 hoặc legacy."
    missing = upload(client, data, code_property="ma_tinh")
    assert missing.status_code == 422 and missing.json["message"] == "Không đối tượng nào có thuộc tính ma_tinh."
    assert held_count(seeded) == 0
    # A code names a unit of one map: 00694 is Phường Nguyễn Trãi on the map before 2025 (a few km away), and
    # Phường Hà Giang 1 on the 2025 map, which keeps its estimate.
    legacy = upload(client, data, structure="legacy")
    assert legacy.status_code == 201 and legacy.json["imported"] == {"commune": 1}
    with seeded.extensions["database"].sessions() as session:
        held = session.scalars(select(Area).join(AreaOutline, AreaOutline.area_id == Area.id)).one()
        assert (held.structure, held.name) == (Structure.LEGACY, "Phường Nguyễn Trãi")
    log_in(client, "bientap")
    assert commune_features(client)[HA_GIANG_1]["properties"]["outline"] == "estimated"


@pytest.mark.parametrize(("make", "message"), [
    (lambda c: boundaries(c, shift=HA_GIANG_1), "km; mã hoặc thứ tự kinh độ, vĩ độ có sai không?"),
    (lambda c: b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"ma_xa": "00694"},'
               b' "geometry": {"type": "Polygon", "coordinates": [[[500000, 2500000], [501000, 2500000],'
               b' [501000, 2501000], [500000, 2500000]]]}}]}', "hệ toạ độ phẳng (mét, ví dụ VN-2000)"),
    (lambda c: boundaries(c, key="gid").replace(b'"gid": "', b'"gid": "VNM.'), "thuộc tính chứa mã"),
    (lambda c: b"not json", "JSON không hợp lệ"),
])
def test_a_wrong_file_imports_nothing_and_says_why_in_vietnamese(seeded, client, communes, make, message):
    answer = upload(client, make(communes))
    assert answer.status_code == 422
    assert message in answer.json["message"]
    assert held_count(seeded) == 0


def test_every_wrong_boundary_is_named_and_english_is_available(seeded, client, communes):
    data = boundaries(communes, shift=HA_GIANG_1)
    answer = upload(client, data)
    assert answer.status_code == 422
    assert answer.json["message"].startswith("Không nạp gì: 1 ranh giới bị sai. Xã số 00694: ranh giới cách tâm")
    assert answer.json["details"]["problems"] == [answer.json["message"].split("sai. ", 1)[1]]
    english = upload(client, data, lang="en")
    assert english.json["message"].startswith("Nothing was imported: 1 boundaries are wrong. Xã số 00694: the "
                                              "boundary lies 46 km")  # moved half a degree east
    assert held_count(seeded) == 0


def test_importing_again_replaces_and_removing_brings_the_estimates_back(seeded, client, communes):
    log_in(client, "bientap")
    assert upload(client, boundaries(communes)).status_code == 201
    some = sorted(communes)[:3]
    smaller = {code: (lon, lat) for code, (lon, lat) in communes.items()}
    answer = upload(client, boundaries(smaller, codes=some))
    assert answer.status_code == 201 and answer.json["imported"] == {"commune": 3}
    assert held_count(seeded) == len(communes)  # replaced three, kept the rest
    removed = client.delete(OUTLINES, headers=bearer(seeded, "admin"))
    assert removed.status_code == 200 and removed.json == {"removed": len(communes)}
    assert held_count(seeded) == 0
    assert {f["properties"]["outline"] for f in commune_features(client).values()} == {"estimated"}


def test_only_administrators_import_and_only_within_their_area(seeded, client, communes):
    assert upload(client, boundaries(communes), username=None).status_code == 401
    assert upload(client, boundaries(communes), username="bientap").status_code == 403
    with seeded.extensions["database"].sessions() as session:
        from broadcast.services import areas

        users.create_user(session, username="qtxa", password=DEMO_PASSWORD, role=Role.ADMIN,
                          scope_area=areas.find_area(session, HA_GIANG_1))
    answer = upload(client, boundaries(communes), username="qtxa")
    assert answer.status_code == 201
    assert answer.json["imported"] == {"commune": 1} and answer.json["outside_scope"] == len(communes) - 1


def test_the_command_line_imports_a_file(seeded, communes, tmp_path, settings):
    path = tmp_path / "ranh-gioi.geojson"
    path.write_bytes(boundaries(communes, codes=[HA_GIANG_1]))
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "cli-instance"), "DATABASE_URL": settings.database_url,
           "DEFAULT_LOCALE": "vi"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "broadcast", "areas", "outlines", str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1" in done.stdout and "ma_xa" in done.stdout
    assert held_count(seeded) == 1
    path.write_bytes(b'{"type": "FeatureCollection", "features": []}')
    refused = subprocess.run([sys.executable, "-m", "flask", "--app", "broadcast", "areas", "outlines", str(path)],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and refused.stderr.strip()
    assert held_count(seeded) == 1


def page_upload(client, data: bytes, **fields):
    token = csrf_from(client.get("/map/outlines").data)
    return client.post("/map/outlines", data={"csrf_token": token, "structure": "2025", "code_property": "",
                                              **fields, "file": (io.BytesIO(data), "ranh-gioi.geojson")},
                       content_type="multipart/form-data")


def test_the_boundaries_page_imports_a_file_and_the_map_says_what_it_draws(seeded, client, communes):
    log_in(client, "admin")
    page = client.get("/map").get_data(as_text=True)
    assert "Vẽ không có nền bản đồ. Ranh giới các xã là ước tính, không phải địa giới thật" in page
    assert 'href="/map/outlines"' in page
    page = client.get("/map/outlines").get_data(as_text=True)
    assert "<h1>Ranh giới trên bản đồ</h1>" in page and '<dd data-count="commune">0</dd>' in page
    assert "Xoá các ranh giới đã nạp" not in page  # nothing to remove yet

    some = sorted(communes)[:5]
    done = page_upload(client, boundaries(communes, codes=some))
    assert done.status_code == 303 and done.headers["Location"].endswith("/map")
    page = client.get("/map").get_data(as_text=True)
    assert "Đã nạp 5 ranh giới (khớp theo thuộc tính ma_xa); bản đồ đã vẽ theo các ranh giới này." in page
    # The administrator of everything sees the three communes that have stations (two of them among the five);
    # the province's editor sees them all.
    assert "2 xã được vẽ theo ranh giới đã nạp; 1 xã còn lại là ước tính từ tâm xã." in page
    editor = client.application.test_client()
    log_in(editor, "bientap")
    page = editor.get("/map").get_data(as_text=True)
    assert f"5 xã được vẽ theo ranh giới đã nạp; {len(communes) - 5} xã còn lại là ước tính từ tâm xã." in page
    assert '<dd data-count="commune">5</dd>' in client.get("/map/outlines").get_data(as_text=True)

    token = csrf_from(client.get("/map/outlines").data)
    kept = client.post("/map/outlines/remove", data={"csrf_token": token}, follow_redirects=True)
    assert "Hãy đánh dấu ô xác nhận: chưa xoá gì." in kept.get_data(as_text=True) and held_count(seeded) == 5
    gone = client.post("/map/outlines/remove", data={"csrf_token": token, "confirm": "y"}, follow_redirects=True)
    assert "Đã xoá 5 ranh giới đã nạp" in gone.get_data(as_text=True) and held_count(seeded) == 0


def test_the_boundaries_page_shows_every_problem_and_keeps_nothing(seeded, client, communes):
    log_in(client, "admin")
    empty = client.post("/map/outlines", data={"csrf_token": csrf_from(client.get("/map/outlines").data),
                                               "structure": "2025"})
    assert empty.status_code == 422 and "Hãy chọn một tệp GeoJSON để nạp." in empty.get_data(as_text=True)
    wrong = [c for c in sorted(communes)[:12]]
    data = json.loads(boundaries(communes))
    for feature in data["features"]:
        if feature["properties"]["ma_xa"] in wrong:
            feature["geometry"] = mapping(shapely.affinity.translate(shape(feature["geometry"]), yoff=1))
    refused = page_upload(client, json.dumps(data).encode())
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Không nạp gì: 12 ranh giới bị sai." in page and "… và 2 lỗi khác." not in page
    assert page.count("ranh giới cách tâm") == 12  # each listed once, under the count
    assert held_count(seeded) == 0
    wrong_key = page_upload(client, boundaries(communes), code_property="ma_tinh")
    assert wrong_key.status_code == 422
    assert "Không đối tượng nào có thuộc tính ma_tinh." in wrong_key.get_data(as_text=True)


@pytest.mark.parametrize("username", ["bientap", "pheduyet", "vanhanh"])
def test_only_administrators_see_the_boundaries_page(seeded, client, username):
    log_in(client, username)
    assert client.get("/map/outlines").status_code == 403
    assert 'href="/map/outlines"' not in client.get("/map").get_data(as_text=True)
