"""Sessions and CSRF: what a copied cookie or a made-up Authorization header can still do (nothing)."""

from __future__ import annotations

import pytest

from broadcast.services import users
from tests.conftest import DEMO_PASSWORD, log_in

NEW_STATION = {"code": "HG1-09", "commune": "00694", "name": "Tổ 9"}
FAKE_BEARERS = ["Bearer ut_made-up", "Bearer st_made-up", "Bearer anything"]


def _api_login(client, username="bientap") -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.json
    return response.json["csrf_token"]


def _station_codes(client) -> list[str]:
    return [s["code"] for s in client.get("/api/v1/stations").json]


@pytest.mark.parametrize("header", FAKE_BEARERS)
def test_a_fake_bearer_header_does_not_lift_csrf_from_a_cookie_session(seeded, header):
    """Before, any Authorization header skipped the CSRF check and the cookie's user made the change."""
    client = seeded.test_client()
    _api_login(client)
    response = client.post("/api/v1/stations", json=NEW_STATION, headers={"Authorization": header})
    assert response.status_code == 400 and response.json["status"] == "csrf"
    assert "HG1-09" not in _station_codes(client)


@pytest.mark.parametrize("header", FAKE_BEARERS)
def test_a_fake_bearer_header_does_not_lift_csrf_from_a_page_form(seeded, header):
    client = seeded.test_client()
    log_in(client, "bientap")
    response = client.post("/logout", headers={"Authorization": header})
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still logged in: the forged logout did nothing


def test_a_bad_token_is_not_rescued_by_the_cookie(seeded):
    """With the CSRF token too, a request with a bearer header is whoever the token names: here nobody."""
    client = seeded.test_client()
    csrf = _api_login(client)
    response = client.post("/api/v1/stations", json=NEW_STATION,
                           headers={"Authorization": "Bearer ut_made-up", "X-CSRFToken": csrf})
    assert response.status_code == 401
    assert "HG1-09" not in _station_codes(client)


def test_a_real_token_still_needs_no_csrf_next_to_a_cookie(seeded):
    client = seeded.test_client()
    _api_login(client, "vanhanh")  # an operator's cookie, who may not add stations
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        token = users.issue_api_token(session, users.get_user(session, "bientap"), "script")
    response = client.post("/api/v1/stations", json=NEW_STATION, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json
    assert response.json["code"] == "HG1-09"
