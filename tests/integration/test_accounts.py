"""Users, stations and tokens through the services, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from broadcast.db.models import ApiToken, AuditLog, Role, Station, StationStatus, Structure, User
from broadcast.errors import Conflict, Forbidden, InvalidInput, NotFound
from broadcast.security import token_digest
from broadcast.services import areas, stations, users


@pytest.fixture
def tuyen_quang(session):
    areas.load_province(session, "Tuyên Quang", Structure.CURRENT)
    return areas.find_area(session, "08", structure=Structure.CURRENT)


def _user(session, name, role, scope_code):
    scope = areas.find_area(session, scope_code) if scope_code else None
    return users.create_user(session, username=name, password="correct horse", role=role, scope_area=scope)


def test_password_is_stored_hashed_and_login_works(session, tuyen_quang):
    _user(session, "bientap", Role.EDITOR, "08")
    stored = session.scalar(select(User.password_hash).where(User.username == "bientap"))
    assert "correct horse" not in stored and stored.startswith("scrypt:")
    assert users.authenticate(session, "BienTap", "correct horse").username == "bientap"
    assert users.authenticate(session, "bientap", "wrong") is None
    assert users.authenticate(session, "nobody", "correct horse") is None


def test_inactive_user_cannot_log_in(session, tuyen_quang):
    user = _user(session, "bientap", Role.EDITOR, "08")
    user.active = False
    session.commit()
    assert users.authenticate(session, "bientap", "correct horse") is None


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"username": "has space"}, InvalidInput, "username"),
        ({"password": "short"}, InvalidInput, "password"),
        ({"role": Role.EDITOR, "scope_area": None}, InvalidInput, "scope"),
    ],
)
def test_bad_user_input(session, tuyen_quang, kwargs, error, field):
    base = {"username": "u1", "password": "long enough", "role": Role.EDITOR, "scope_area": tuyen_quang}
    with pytest.raises(error) as caught:
        users.create_user(session, **{**base, **kwargs})
    assert caught.value.field == field
    session.rollback()
    assert session.scalar(select(func.count(User.id))) == 0


def test_duplicate_username_ignores_case(session, tuyen_quang):
    _user(session, "bientap", Role.EDITOR, "08")
    with pytest.raises(Conflict):
        _user(session, "BIENTAP", Role.EDITOR, "08")


def test_api_token_is_stored_as_digest(session, tuyen_quang):
    user = _user(session, "bientap", Role.EDITOR, "08")
    token = users.issue_api_token(session, user, "script")
    assert session.scalar(select(ApiToken.token_sha256)) == token_digest(token)
    assert users.user_for_token(session, token).id == user.id
    assert users.user_for_token(session, token + "x") is None


def _spec(session, code="HG1-01", commune="00694", **kw):
    return stations.StationSpec(code=code, commune=areas.find_area(session, commune), **kw)


def test_add_station_defaults_to_commune_position_and_is_audited(session, tuyen_quang):
    station = stations.add_station(session, _spec(session))
    assert station.lat == station.commune.lat and station.delivery_modes == ["http-pull"]
    assert station.status is StationStatus.UNKNOWN
    assert session.scalar(select(AuditLog.action).where(AuditLog.entity_id == "HG1-01")) == "station.add"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "x"}, "code"),
        ({"code": "bad code!"}, "code"),
        ({"commune": "08"}, "commune"),
        ({"lat": 22.8}, "lat"),
        ({"lat": 95.0, "lon": 105.0}, "lat"),
        ({"http_pull": False}, "delivery_modes"),
        ({"sftp_push": True}, "ssh_host"),
        ({"sftp_push": True, "ssh_host": "h", "ssh_user": "u", "ssh_remote_dir": "/d", "ssh_port": 0}, "ssh_port"),
        ({"ssh_host_key": "not a key"}, "ssh_host_key"),
    ],
)
def test_bad_station_input_writes_nothing(session, tuyen_quang, changes, field):
    changes = dict(changes)  # parameters are shared between the two database runs
    commune = changes.pop("commune", "00694")
    with pytest.raises(InvalidInput) as caught:
        stations.add_station(session, _spec(session, commune=commune, **changes))
    assert caught.value.field == field
    session.rollback()
    assert session.scalar(select(func.count(Station.id))) == 0


def test_duplicate_station_code(session, tuyen_quang):
    stations.add_station(session, _spec(session))
    with pytest.raises(Conflict, match="HG1-01"):
        stations.add_station(session, _spec(session, commune="00691"))
    session.rollback()
    assert session.scalar(select(func.count(Station.id))) == 1


def test_station_token_is_shown_once_and_replaced(session, tuyen_quang):
    station = stations.add_station(session, _spec(session))
    first = stations.issue_token(session, station)
    assert station.token_sha256 == token_digest(first) and first not in (station.token_sha256 or "")
    assert stations.station_for_token(session, first).code == "HG1-01"
    second = stations.issue_token(session, station)
    assert stations.station_for_token(session, first) is None
    assert stations.station_for_token(session, second).code == "HG1-01"


def test_users_see_only_their_subtree(session, tuyen_quang):
    for code, commune in (("HG1-01", "00694"), ("HG2-01", "00691"), ("DV-01", "00721")):
        stations.add_station(session, _spec(session, code=code, commune=commune))
    editor = _user(session, "bientap", Role.EDITOR, "08")
    operator = _user(session, "vanhanh", Role.OPERATOR, "00694")
    admin = users.create_user(session, username="root", password="long enough", role=Role.ADMIN, scope_area=None)
    assert [s.code for s in stations.list_stations(session, editor)] == ["DV-01", "HG1-01", "HG2-01"]
    assert [s.code for s in stations.list_stations(session, operator)] == ["HG1-01"]
    assert len(stations.list_stations(session, admin)) == 3
    with pytest.raises(NotFound):
        stations.get_station(session, "HG2-01", operator)
    with pytest.raises(Forbidden):
        stations.list_stations(session, operator, area=areas.find_area(session, "00691"))


def test_operator_cannot_add_stations_and_editor_only_in_scope(session, tuyen_quang):
    areas.load_province(session, "Hà Nội", Structure.CURRENT)
    operator = _user(session, "vanhanh", Role.OPERATOR, "00694")
    editor = _user(session, "bientap", Role.EDITOR, "08")
    with pytest.raises(Forbidden):
        stations.add_station(session, _spec(session), actor=operator)
    with pytest.raises(Forbidden):
        stations.add_station(session, _spec(session, commune="00004"), actor=editor)
    session.rollback()
    assert stations.add_station(session, _spec(session), actor=editor).code == "HG1-01"


def test_silent_stations_go_offline(session, tuyen_quang):
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    fresh = stations.add_station(session, _spec(session, code="A1"))
    silent = stations.add_station(session, _spec(session, code="A2"))
    never = stations.add_station(session, _spec(session, code="A3"))
    fresh.status = silent.status = StationStatus.ONLINE
    fresh.last_contact_at = now - timedelta(seconds=30)
    silent.last_contact_at = now - timedelta(minutes=10)
    session.commit()
    assert stations.mark_silent_offline(session, now=now, silence=timedelta(minutes=3)) == 1
    session.expire_all()
    assert (fresh.status, silent.status, never.status) == (
        StationStatus.ONLINE, StationStatus.OFFLINE, StationStatus.UNKNOWN)



def test_wrong_passwords_never_lock_the_account(app, session, tuyen_quang):
    """Guessing is throttled per address in the web layer (test_login_throttle.py); the account itself is never
    locked, so nobody can keep a person out by failing on purpose."""
    _user(session, "bientap", Role.EDITOR, "08")
    with app.app_context():
        for attempt in range(50):
            assert users.authenticate(session, "bientap", f"guess {attempt}") is None
        assert users.authenticate(session, "bientap", "correct horse").username == "bientap"
