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


# -- Logout, lifetime and idle time end the session on the server --------------------------------------------


def _copy_of(client, seeded):
    """A second browser holding a copy of ``client``'s session cookie, as a thief would."""
    thief = seeded.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_cookie_copied_before_api_logout_is_401_after_it(seeded):
    client = seeded.test_client()
    csrf = _api_login(client, "vanhanh")
    thief = _copy_of(client, seeded)
    assert thief.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
    refused = thief.get("/api/v1/auth/me")
    assert refused.status_code == 401 and refused.json["status"] == "unauthenticated"


def test_a_cookie_copied_before_page_logout_goes_to_the_login_page_after_it(seeded):
    from tests.conftest import csrf_from

    client = seeded.test_client()
    log_in(client, "vanhanh")
    thief = _copy_of(client, seeded)
    assert thief.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").data)})
    answer = thief.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert thief.get("/api/v1/stations").status_code == 401


def test_logging_in_again_after_logout_works(seeded):
    client = seeded.test_client()
    csrf = _api_login(client, "vanhanh")
    client.post("/api/v1/auth/logout", headers={"X-CSRFToken": csrf})
    _api_login(client, "vanhanh")
    assert client.get("/api/v1/auth/me").json["username"] == "vanhanh"


@pytest.fixture
def clock(seeded):
    from datetime import UTC, datetime

    now = {"t": datetime(2026, 12, 4, 1, 0, tzinfo=UTC)}
    seeded.extensions["clock"] = lambda: now["t"]
    return now


def test_a_session_unused_for_the_idle_time_ends(seeded, clock):
    from datetime import timedelta

    client = seeded.test_client()
    _api_login(client, "vanhanh")
    idle = timedelta(minutes=seeded.extensions["settings"].session_idle_minutes)
    clock["t"] += idle - timedelta(minutes=1)
    assert client.get("/api/v1/auth/me").status_code == 200  # used in time: the idle time starts again
    clock["t"] += idle - timedelta(minutes=1)
    assert client.get("/api/v1/auth/me").status_code == 200
    clock["t"] += idle + timedelta(seconds=1)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_session_in_use_ends_after_its_lifetime(seeded, clock):
    from datetime import timedelta

    settings = seeded.extensions["settings"]
    client = seeded.test_client()
    _api_login(client, "vanhanh")
    step = timedelta(minutes=settings.session_idle_minutes / 2)
    started = clock["t"]
    while clock["t"] + step - started <= timedelta(hours=settings.session_lifetime_hours):
        clock["t"] += step
        assert client.get("/api/v1/auth/me").status_code == 200
    clock["t"] += step
    assert client.get("/api/v1/auth/me").status_code == 401


def test_deactivating_a_user_ends_their_sessions_and_tokens_at_once(seeded):
    client = seeded.test_client()
    _api_login(client, "vanhanh")
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        person = users.get_user(session, "vanhanh")
        token = {"Authorization": "Bearer " + users.issue_api_token(session, person, "script")}
    api = seeded.test_client()
    assert api.get("/api/v1/auth/me", headers=token).status_code == 200
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        users.deactivate(session, users.get_user(session, "vanhanh"), actor="test")
    assert client.get("/api/v1/auth/me").status_code == 401
    assert api.get("/api/v1/auth/me", headers=token).status_code == 401
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        users.reactivate(session, users.get_user(session, "vanhanh"), actor="test")
    # Switched on again, the person logs in anew: the old session and token stay dead.
    assert client.get("/api/v1/auth/me").status_code == 401
    assert api.get("/api/v1/auth/me", headers=token).status_code == 401
    _api_login(client, "vanhanh")
    assert client.get("/api/v1/auth/me").status_code == 200


@pytest.mark.parametrize(("host", "setting", "secure"), [
    ("127.0.0.1", None, False),
    ("localhost", None, False),
    ("0.0.0.0", None, True),  # noqa: S104 - a setting, not a socket
    ("radio.tuyenquang.gov.vn", None, True),
    ("0.0.0.0", False, False),  # noqa: S104
    ("127.0.0.1", True, True),
])
def test_the_session_cookie_is_https_only_unless_served_on_this_machine(tmp_path, host, setting, secure):
    from broadcast import create_app, load_settings

    settings = load_settings(instance_path=tmp_path / "instance", host=host, session_cookie_secure=setting)
    app = create_app(settings)
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is secure
        with app.test_request_context("/login"):
            from flask import session

            session["x"] = 1
            response = app.make_response("")
            app.session_interface.save_session(app, session, response)
        assert ("Secure" in response.headers["Set-Cookie"]) is secure
    finally:
        app.extensions["database"].dispose()
