"""Account administration through the JSON API and the pages: who may manage whom, temporary passwords,
switching accounts off and on, personal API tokens and station tokens; every change in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from broadcast.db.models import AuditLog, Station
from broadcast.services import stations, users
from tests.conftest import DEMO_PASSWORD, csrf_from, log_in


class Api:
    """A cookie session of one person, sending the CSRF header with its writes."""

    def __init__(self, app, username: str, password: str = DEMO_PASSWORD):
        self.client = app.test_client()
        response = self.client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        self.csrf = response.json["csrf_token"]

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def send(self, method, path, **kw):
        return self.client.open(path, method=method, headers={"X-CSRFToken": self.csrf}, **kw)


def _audit(app, action: str) -> list[AuditLog]:
    with app.extensions["database"].sessions() as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def _id(app, username: str) -> int:
    with app.app_context(), app.extensions["database"].sessions() as session:
        return users.get_user(session, username).id


def test_an_admin_lists_everyone_with_their_last_login(seeded):
    Api(seeded, "vanhanh")  # logs in once
    admin = Api(seeded, "admin")
    listed = {u["username"]: u for u in admin.get("/api/v1/users").json}
    assert set(listed) == {"admin", "bientap", "pheduyet", "vanhanh"}
    assert listed["vanhanh"]["last_login_at"] and listed["pheduyet"]["last_login_at"] is None
    assert listed["vanhanh"]["scope_area"]["code"] == "00694" and listed["vanhanh"]["active"] is True


def test_an_editor_sees_only_their_areas_operators_and_others_see_nothing(seeded):
    editor = Api(seeded, "bientap")
    assert [u["username"] for u in editor.get("/api/v1/users").json] == ["vanhanh"]
    assert editor.get(f"/api/v1/users/{_id(seeded, 'pheduyet')}").status_code == 404
    for who in ("vanhanh", "pheduyet"):
        assert Api(seeded, who).get("/api/v1/users").status_code == 403


def test_creating_an_account_gives_a_temporary_password_that_must_be_changed(seeded):
    admin = Api(seeded, "admin")
    made = admin.send("POST", "/api/v1/users", json={"username": "vanhanh2", "full_name": "Nguyễn Văn B",
                                                     "role": "operator", "scope": "00694"})
    assert made.status_code == 201, made.json
    temporary = made.json["temporary_password"]
    assert len(temporary) >= 10 and made.json["user"]["must_change_password"] is True
    person = Api(seeded, "vanhanh2", temporary)
    refused = person.get("/api/v1/stations")
    assert refused.status_code == 403 and "tạm thời" in refused.json["message"]
    assert person.get("/api/v1/auth/me").status_code == 200
    changed = person.send("POST", "/api/v1/auth/password", json={"current_password": temporary,
                                                                 "new_password": "mua-lua-chiem-2026"})
    assert changed.status_code == 204
    assert person.get("/api/v1/stations").status_code == 200
    [entry] = _audit(seeded, "user.create")[-1:]
    assert entry.actor == "admin" and entry.details["username"] == "vanhanh2"


@pytest.mark.parametrize(("body", "status"), [
    ({"username": "x1", "role": "editor", "scope": "08"}, 403),  # an editor makes operators only
    ({"username": "x2", "role": "operator", "scope": "00001"}, 404),  # no such area here
    ({"username": "x3", "role": "operator", "scope": None}, 422),
    ({"username": "vanhanh", "role": "operator", "scope": "00694"}, 409),
])
def test_an_editor_cannot_make_what_they_may_not(seeded, body, status):
    response = Api(seeded, "bientap").send("POST", "/api/v1/users", json=body)
    assert response.status_code == status, response.json


def test_changing_role_and_area_is_audited_and_applies_at_once(seeded):
    admin = Api(seeded, "admin")
    person = Api(seeded, "vanhanh")
    assert person.get("/api/v1/emergencies").status_code == 200
    uid = _id(seeded, "vanhanh")
    changed = admin.send("PATCH", f"/api/v1/users/{uid}", json={"role": "editor", "scope": "08"})
    assert changed.status_code == 200 and changed.json["role"] == "editor"
    assert changed.json["scope_area"]["code"] == "08"
    assert person.get("/api/v1/auth/me").json["role"] == "editor"
    [entry] = _audit(seeded, "user.update")
    assert entry.details["role"] == ["operator", "editor"] and entry.details["scope"] == ["00694", "08"]


def test_an_editor_may_move_an_operator_only_inside_their_area_and_not_promote(seeded):
    editor = Api(seeded, "bientap")
    uid = _id(seeded, "vanhanh")
    assert editor.send("PATCH", f"/api/v1/users/{uid}", json={"role": "approver"}).status_code == 403
    moved = editor.send("PATCH", f"/api/v1/users/{uid}", json={"scope": "00691"})
    assert moved.status_code == 200 and moved.json["scope_area"]["code"] == "00691"


def test_deactivating_ends_sessions_and_tokens_and_reactivating_brings_neither_back(seeded):
    admin = Api(seeded, "admin")
    person = Api(seeded, "vanhanh")
    issued = person.send("POST", "/api/v1/account/tokens", json={"name": "script"}).json
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    uid = _id(seeded, "vanhanh")
    off = admin.send("POST", f"/api/v1/users/{uid}/deactivate")
    assert off.status_code == 200 and off.json["active"] is False
    assert person.get("/api/v1/auth/me").status_code == 401
    assert seeded.test_client().get("/api/v1/auth/me", headers=bearer).status_code == 401
    assert seeded.test_client().post("/api/v1/auth/login", json={"username": "vanhanh",
                                                                 "password": DEMO_PASSWORD}).status_code == 401
    assert admin.send("POST", f"/api/v1/users/{uid}/reactivate").json["active"] is True
    assert seeded.test_client().get("/api/v1/auth/me", headers=bearer).status_code == 401
    assert Api(seeded, "vanhanh").get("/api/v1/auth/me").status_code == 200
    assert [e.actor for e in _audit(seeded, "user.deactivate")] == ["admin"]
    assert [e.actor for e in _audit(seeded, "user.reactivate")] == ["admin"]


def test_nobody_manages_their_own_account_here_so_an_admin_always_remains(seeded):
    admin = Api(seeded, "admin")
    me = _id(seeded, "admin")
    for method, path, body in (("POST", f"/api/v1/users/{me}/deactivate", None),
                               ("PATCH", f"/api/v1/users/{me}", {"role": "operator", "scope": "00694"}),
                               ("POST", f"/api/v1/users/{me}/password-reset", None)):
        refused = admin.send(method, path, json=body)
        assert refused.status_code == 403 and "trang tài khoản" in refused.json["message"]
    assert Api(seeded, "admin").get("/api/v1/auth/me").json["role"] == "admin"


def test_resetting_a_password_ends_the_sessions_and_forces_a_change(seeded):
    admin = Api(seeded, "admin")
    person = Api(seeded, "vanhanh")
    reset = admin.send("POST", f"/api/v1/users/{_id(seeded, 'vanhanh')}/password-reset")
    assert reset.status_code == 200
    assert person.get("/api/v1/auth/me").status_code == 401
    assert seeded.test_client().post("/api/v1/auth/login", json={"username": "vanhanh",
                                                                 "password": DEMO_PASSWORD}).status_code == 401
    again = Api(seeded, "vanhanh", reset.json["temporary_password"])
    assert again.get("/api/v1/items").status_code == 403
    assert [e.actor for e in _audit(seeded, "user.password_reset")] == ["admin"]


# -- Personal API tokens ----------------------------------------------------------------------------------------


def test_several_named_tokens_listed_by_prefix_and_revoked_one_by_one(seeded):
    person = Api(seeded, "bientap")
    first = person.send("POST", "/api/v1/account/tokens", json={"name": "xuất báo cáo"}).json
    second = person.send("POST", "/api/v1/account/tokens", json={"name": "lịch", "days": 7}).json
    listed = person.get("/api/v1/account/tokens").json
    assert [t["name"] for t in listed] == ["lịch", "xuất báo cáo"]
    assert all("token" not in t and t["state"] == "active" for t in listed)
    assert listed[1]["prefix"] == first["token"][:10] and first["token"] not in str(listed)
    from datetime import datetime

    created, expires = (datetime.fromisoformat(first[k]) for k in ("created_at", "expires_at"))
    assert expires - created == timedelta(days=90)
    bearer = {"Authorization": f"Bearer {first['token']}"}
    assert seeded.test_client().get("/api/v1/stations", headers=bearer).status_code == 200
    assert person.send("DELETE", f"/api/v1/account/tokens/{first['id']}").status_code == 204
    assert seeded.test_client().get("/api/v1/stations", headers=bearer).status_code == 401
    other = {"Authorization": f"Bearer {second['token']}"}
    assert seeded.test_client().get("/api/v1/stations", headers=other).status_code == 200
    assert {t["name"]: t["state"] for t in person.get("/api/v1/account/tokens").json} == {
        "lịch": "active", "xuất báo cáo": "revoked"}
    assert Api(seeded, "vanhanh").send("DELETE", f"/api/v1/account/tokens/{second['id']}").status_code == 404


def test_an_expired_token_stops_working(seeded):
    from broadcast.services import api_tokens

    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        issued = api_tokens.issue(session, users.get_user(session, "bientap"), "old", days=1)
        later = issued.row.expires_at + timedelta(seconds=1)
        assert api_tokens.user_for_token(session, issued.token, now=later) is None
        assert api_tokens.user_for_token(session, issued.token, now=later - timedelta(minutes=1)) is not None


# -- Station tokens ---------------------------------------------------------------------------------------------


def _heartbeat(app, token: str) -> int:
    return app.test_client().post("/api/v1/stations/HG1-01/heartbeat", json={"state": "idle"},
                                  headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_station_token_rotates_with_an_overlap_and_is_revoked(seeded):
    editor = Api(seeded, "bientap")
    old = editor.send("POST", "/api/v1/stations/HG1-01/token").json["token"]
    assert _heartbeat(seeded, old) == 200
    rotated = editor.send("POST", "/api/v1/stations/HG1-01/token/rotate", json={"overlap_hours": 2})
    assert rotated.status_code == 201 and rotated.json["previous_valid_until"]
    new = rotated.json["token"]
    assert _heartbeat(seeded, new) == 200 and _heartbeat(seeded, old) == 200  # both, during the overlap
    from datetime import UTC, datetime

    later = datetime.now(UTC) + timedelta(hours=2, seconds=5)
    seeded.extensions["clock"] = lambda: later
    assert _heartbeat(seeded, old) == 401 and _heartbeat(seeded, new) == 200  # the overlap is over
    editor = Api(seeded, "bientap")  # two hours later: the first session has idled out
    assert editor.send("DELETE", "/api/v1/stations/HG1-01/token").status_code == 204
    assert _heartbeat(seeded, new) == 401
    assert [e.action for e in _audit(seeded, "station.token_revoke")] == ["station.token_revoke"]


def test_a_rotation_without_overlap_stops_the_old_token_at_once(seeded):
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        station = stations.get_station(session, "HG1-01")
        old = stations.issue_token(session, station)
        new = stations.rotate_token(session, station, overlap=timedelta(0))
        assert session.scalar(select(Station.previous_token_sha256).where(Station.code == "HG1-01")) is None
    assert _heartbeat(seeded, old) == 401 and _heartbeat(seeded, new) == 200


def test_an_operator_cannot_rotate_a_station_token(seeded):
    assert Api(seeded, "vanhanh").send("POST", "/api/v1/stations/HG1-01/token/rotate", json={}).status_code == 403


# -- Pages ------------------------------------------------------------------------------------------------------


def test_the_accounts_page_creates_an_operator_and_shows_the_temporary_password_once(client):
    log_in(client, "bientap")
    page = client.get("/users")
    assert page.status_code == 200 and "vanhanh" in page.text and "pheduyet" not in page.text
    made = client.post("/users", data={"csrf_token": csrf_from(page.data), "username": "vanhanh3",
                                       "full_name": "Trần Thị C", "role": "operator", "scope": "00694"})
    assert made.status_code == 201 and 'id="temporary-password"' in made.text
    assert "set-cookie" not in {k.lower() for k in made.headers.keys()} or "vanhanh3" not in made.headers.get(
        "Set-Cookie", "")
    again = client.get("/users")
    assert "vanhanh3" in again.text and 'id="temporary-password"' not in again.text


def test_the_accounts_menu_is_for_admins_and_editors(client):
    log_in(client, "vanhanh")
    assert "/users" not in client.get("/").text and client.get("/users").status_code == 403
    log_in(client, "admin")
    assert 'href="/users"' in client.get("/").text


def test_a_temporary_password_leads_to_the_password_page(seeded):
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        from broadcast.services import account_admin

        temporary = account_admin.reset_password(session, users.get_user(session, "admin"),
                                                 users.get_user(session, "vanhanh"))
    client = seeded.test_client()
    log_in(client, "vanhanh", temporary)
    answer = client.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/password")
    assert "quản trị viên đã đặt lại" in client.get("/account/password").text.lower()


def test_the_account_page_makes_and_revokes_a_token(client):
    log_in(client, "vanhanh")
    page = client.get("/account")
    made = client.post("/account/tokens", data={"csrf_token": csrf_from(page.data), "name": "máy tính xã",
                                                "days": "30"})
    assert made.status_code == 201 and 'id="new-token"' in made.text
    listed = client.get("/account")
    assert "máy tính xã" in listed.text and 'id="new-token"' not in listed.text


def test_the_station_page_rotates_and_revokes_its_token(client, seeded):
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        old = stations.issue_token(session, stations.get_station(session, "HG1-01"))
    log_in(client, "bientap")
    page = client.get("/stations/HG1-01")
    assert 'id="token-h"' in page.text
    made = client.post("/stations/HG1-01/token/rotate", data={"csrf_token": csrf_from(page.data),
                                                             "overlap_hours": "12"})
    assert made.status_code == 201 and "Mã cũ còn dùng được đến" in made.text
    new = made.text.split('id="station-token">')[1].split("<")[0]
    assert _heartbeat(seeded, new) == 200 and _heartbeat(seeded, old) == 200
    client.post("/stations/HG1-01/token/revoke", data={"csrf_token": csrf_from(page.data)})
    assert _heartbeat(seeded, new) == 401 and _heartbeat(seeded, old) == 401
    assert "Chưa có mã" in client.get("/stations/HG1-01").text


def test_an_operator_sees_no_station_token_controls(client):
    log_in(client, "vanhanh")
    page = client.get("/stations/HG1-01")
    assert page.status_code == 200 and 'id="token-h"' not in page.text
    assert client.post("/stations/HG1-01/token/revoke",
                       data={"csrf_token": csrf_from(page.data)}).status_code == 403
