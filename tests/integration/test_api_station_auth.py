"""How the API answers a caller that did not prove who it is (401), or may not do this (403), and where CSRF
still applies: stations and scripts send no session cookie, browsers do."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from broadcast.services import stations, users
from tests.conftest import DEMO_PASSWORD, log_in

# What a station agent posts (stations/agent/server.py), each with a body valid for its route.
STATION_POSTS = [
    ("receipts", {"version": 1}),
    ("events", {"events": []}),
    ("heartbeat", {"state": "idle"}),
    ("commands/1/ack", {"ok": True}),
]
NO_PROOF = {
    "no token": {},
    "empty bearer": {"Authorization": "Bearer "},
    "basic": {"Authorization": "Basic dmFuaGFuaDpkZW1vLTIwMjY="},
}


def _station_token(app, code: str) -> dict:
    with app.app_context(), app.extensions["database"].sessions() as session:
        return {"Authorization": "Bearer " + stations.issue_token(session, stations.get_station(session, code))}


def _user_token(app, username: str) -> dict:
    with app.app_context(), app.extensions["database"].sessions() as session:
        return {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, username), "t")}


@pytest.fixture
def refused(seeded):
    """Check an answer is the API's own error with ``status``: JSON, in the shape its OpenAPI document gives
    every error (the same as its other errors)."""
    error_body = seeded.test_client().get("/api/v1/openapi.json").json["components"]["schemas"]["Error"]

    def check(response, status: int) -> None:
        assert response.status_code == status, response.data
        assert response.mimetype == "application/json"
        assert response.json["code"] == status and response.json["message"]
        Draft202012Validator(error_body).validate(response.json)

    return check


@pytest.mark.parametrize(("route", "body"), STATION_POSTS, ids=[r for r, _ in STATION_POSTS])
@pytest.mark.parametrize("headers", NO_PROOF.values(), ids=NO_PROOF.keys())
def test_station_post_without_a_token_is_401_not_a_csrf_400(seeded, route, body, headers, refused):
    response = seeded.test_client().post(f"/api/v1/stations/HG1-01/{route}", json=body, headers=headers)
    refused(response, 401)
    assert response.json["status"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_missing_token_is_said_before_a_bad_body(seeded, refused):
    """A station without its token learns that first, not what its body lacks."""
    response = seeded.test_client().post("/api/v1/stations/HG1-01/heartbeat", json={"volume": 500})
    refused(response, 401)


def test_the_401_is_in_the_callers_language(seeded):
    response = seeded.test_client().post("/api/v1/stations/HG1-01/heartbeat?lang=en", json={})
    assert response.json["message"] == "Send the station's token in the Authorization header."


def test_a_forged_station_token_is_401(seeded, refused):
    response = seeded.test_client().post("/api/v1/stations/HG1-01/heartbeat", json={},
                                         headers={"Authorization": "Bearer st_forged"})
    refused(response, 401)


def test_the_stations_own_token_is_accepted(seeded):
    response = seeded.test_client().post("/api/v1/stations/HG1-01/heartbeat", json={"state": "idle"},
                                         headers=_station_token(seeded, "HG1-01"))
    assert response.status_code == 200 and response.json["server_time"]


def test_a_station_token_on_another_stations_route_is_403(seeded, refused):
    response = seeded.test_client().post("/api/v1/stations/HG1-02/heartbeat", json={},
                                         headers=_station_token(seeded, "HG1-01"))
    refused(response, 403)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/stations"),  # editors only
    ("GET", "/api/v1/stations"),  # any signed-in person
    ("POST", "/api/v1/compile"),
    ("GET", "/api/v1/auth/me"),
])
def test_a_station_token_on_a_peoples_route_is_403(seeded, method, path, refused):
    """The token is genuine, so 401 ("prove who you are") would be wrong: it just does not open this route."""
    response = seeded.test_client().open(path, method=method, json={}, headers=_station_token(seeded, "HG1-01"))
    refused(response, 403)
    assert "WWW-Authenticate" not in response.headers


def test_a_persons_token_on_a_station_route_is_403(seeded, refused):
    response = seeded.test_client().post("/api/v1/stations/HG1-01/heartbeat", json={},
                                         headers=_user_token(seeded, "vanhanh"))
    refused(response, 403)


# -- CSRF stays where a browser's cookie could be ridden by another site --------------------------------------


def test_a_browser_session_still_needs_csrf_on_station_routes(seeded):
    """A cookie travels on its own, so with one the CSRF check comes first, as before."""
    client = seeded.test_client()
    log_in(client, "vanhanh")
    response = client.post("/api/v1/stations/HG1-01/heartbeat", json={})
    assert response.status_code == 400 and response.json["status"] == "csrf"


def test_basic_credentials_do_not_lift_csrf_from_a_session(seeded):
    """Browsers resend remembered Basic credentials by themselves, unlike a bearer token."""
    client = seeded.test_client()
    log_in(client, "bientap")
    response = client.post("/api/v1/stations", json={"code": "HG1-09", "commune": "00694", "name": "Tổ 9"},
                           headers=NO_PROOF["basic"])
    assert response.status_code == 400 and response.json["status"] == "csrf"


def test_the_login_form_keeps_its_csrf_check_without_a_cookie(seeded):
    """No cookie yet, yet a forged login form is still refused (login CSRF): pages are never exempt."""
    response = seeded.test_client().post("/login", data={"username": "vanhanh", "password": DEMO_PASSWORD})
    assert response.status_code == 400


def test_nobody_on_a_peoples_route_is_401_before_the_body_is_read(seeded, refused):
    response = seeded.test_client().post("/api/v1/stations", json={})
    refused(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_station_answers_set_no_cookie(seeded):
    """The CSRF exemption above rests on this: an agent (a requests.Session, which keeps cookies) is never given
    a session cookie, so its posts never look like a browser's."""
    client = seeded.test_client()
    for headers in (_station_token(seeded, "HG1-01"), {}):
        response = client.post("/api/v1/stations/HG1-01/heartbeat", json={}, headers=headers)
        assert "Set-Cookie" not in response.headers, response.status_code
    assert client.get_cookie("session") is None
