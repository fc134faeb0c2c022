"""The JSON API: authentication, scope, bad input and the OpenAPI document."""

from __future__ import annotations

import pytest

from broadcast.services import stations, users
from tests.conftest import DEMO_PASSWORD


def _login(client, username="bientap", password=DEMO_PASSWORD):
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    return response.json["csrf_token"]


def _token(app, code):
    with app.app_context(), app.extensions["database"].sessions() as session:
        return stations.issue_token(session, stations.get_station(session, code))


def _user_token(app, username):
    with app.app_context(), app.extensions["database"].sessions() as session:
        return users.issue_api_token(session, users.get_user(session, username), "test")


def test_openapi_document_is_generated_from_the_code(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/stations", "/api/v1/stations/{code}/token", "/api/v1/areas", "/api/v1/auth/login"):
        assert path in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_health(client):
    body = client.get("/api/v1/health").json
    assert body["status"] == "ok" and body["schema_revision"]


def test_unauthenticated_gets_401_in_vietnamese(client):
    response = client.get("/api/v1/stations")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "đăng nhập" in response.json["message"]


def test_english_on_request(client):
    response = client.get("/api/v1/stations?lang=en")
    assert response.json["message"] == "Log in, or send a valid token in the Authorization header."


def test_wrong_password(client):
    response = client.post("/api/v1/auth/login", json={"username": "bientap", "password": "nope"})
    assert response.status_code == 401
    assert response.json["message"] == "Sai tên đăng nhập hoặc mật khẩu."


def test_session_login_and_me(client):
    _login(client, "vanhanh")
    me = client.get("/api/v1/auth/me").json
    assert me["role"] == "operator" and me["scope_area"]["code"] == "00694"


NEW_STATION = {"code": "HG1-03", "commune": "00694", "name": "Tổ 9"}


def test_cookie_writes_need_the_csrf_header(client):
    csrf = _login(client)
    refused = client.post("/api/v1/stations", json=NEW_STATION)
    assert refused.status_code == 400 and refused.json["status"] == "csrf"
    accepted = client.post("/api/v1/stations", json=NEW_STATION, headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["commune"]["code"] == "00694" and accepted.json["delivery_modes"] == ["http-pull"]


def test_bearer_user_token_needs_no_csrf(seeded, client):
    token = _user_token(seeded, "bientap")
    response = client.post("/api/v1/stations", json=NEW_STATION, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    listed = client.get("/api/v1/stations", headers={"Authorization": f"Bearer {token}"}).json
    assert "HG1-03" in [s["code"] for s in listed]


@pytest.fixture
def editor(seeded, client):
    return {"Authorization": f"Bearer {_user_token(seeded, 'bientap')}"}


def test_malformed_json_is_a_clear_400(client, editor):
    response = client.post("/api/v1/stations", data="{not json", content_type="application/json", headers=editor)
    assert response.status_code == 400
    assert response.json["message"] == "Nội dung yêu cầu không phải JSON hợp lệ."


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"commune": "00694"}, 422, "code"),
        ({**NEW_STATION, "delivery_modes": ["carrier-pigeon"]}, 422, "delivery_modes"),
        ({**NEW_STATION, "lat": "north"}, 422, "lat"),
        ({**NEW_STATION, "code": "HG1-01"}, 409, "code"),
        ({**NEW_STATION, "commune": "99999"}, 404, "code"),
        ({**NEW_STATION, "delivery_modes": ["sftp-push"]}, 422, "ssh_host"),
    ],
)
def test_bad_station_input(client, editor, body, status, field):
    response = client.post("/api/v1/stations", json=body, headers=editor)
    assert response.status_code == status, response.json
    assert field in response.json["errors"]
    assert len(client.get("/api/v1/stations", headers=editor).json) == 4


def test_another_areas_data(seeded, client):
    operator = {"Authorization": f"Bearer {_user_token(seeded, 'vanhanh')}"}
    codes = [s["code"] for s in client.get("/api/v1/stations", headers=operator).json]
    assert codes == ["HG1-01", "HG1-02"]
    assert client.get("/api/v1/stations/HG2-01", headers=operator).status_code == 404
    assert client.post("/api/v1/stations", json=NEW_STATION, headers=operator).status_code == 403
    assert client.post("/api/v1/stations/HG1-01/token", headers=operator).status_code == 403


def test_editor_cannot_add_outside_the_province(seeded, client, editor):
    from broadcast.db.models import Structure
    from broadcast.services import areas

    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        areas.load_province(session, "Hà Nội", Structure.CURRENT)
    response = client.post("/api/v1/stations", json={**NEW_STATION, "commune": "00004"}, headers=editor)
    assert response.status_code == 403
    assert "ngoài địa bàn" in response.json["message"]


def test_station_token_reads_only_its_own_data(seeded, client, editor):
    issued = client.post("/api/v1/stations/HG1-01/token", headers=editor)
    assert issued.status_code == 201
    own = {"Authorization": f"Bearer {issued.json['token']}"}
    assert client.get("/api/v1/stations/HG1-01", headers=own).json["code"] == "HG1-01"
    assert client.get("/api/v1/stations/HG2-01", headers=own).status_code == 403
    assert client.get("/api/v1/stations/HG1-01", headers={"Authorization": "Bearer st_forged"}).status_code == 401
    assert client.get("/api/v1/stations", headers=own).status_code == 403  # genuine, but not a person's token
    assert client.get("/api/v1/stations/HG1-01", headers=editor).json["has_token"] is True


def test_areas_in_scope(seeded, client, editor):
    communes = client.get("/api/v1/areas?structure=2025&level=commune", headers=editor).json
    assert len(communes) == 124
    found = client.get("/api/v1/areas?structure=2025&q=ha giang", headers=editor).json
    assert {a["name"] for a in found} == {"Phường Hà Giang 1", "Phường Hà Giang 2"}
    operator = {"Authorization": f"Bearer {_user_token(seeded, 'vanhanh')}"}
    assert [a["code"] for a in client.get("/api/v1/areas", headers=operator).json] == ["00694"]
    province_id = communes[0]["parent_id"]
    assert client.get(f"/api/v1/areas/{province_id}", headers=operator).status_code == 403
    stats = {s["structure"]: s["counts"] for s in client.get("/api/v1/areas/stats", headers=editor).json}
    assert stats["legacy"] == {"province": 1, "district": 11, "commune": 193}
    assert stats["2025"]["commune"] == 124


def test_unknown_query_value_is_422(client, editor):
    response = client.get("/api/v1/stations?status=dancing", headers=editor)
    assert response.status_code == 422 and "status" in response.json["errors"]
