"""Two-factor login through the pages and the API, with codes computed by pyotp from the enrolled secret."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from broadcast import load_settings
from broadcast.db.models import AuditLog, Role, User, utcnow
from broadcast.services import two_factor, users
from broadcast.web import two_factor as web_two_factor
from tests.conftest import DEMO_PASSWORD, csrf_from, log_in
from tests.integration.test_sso import CALLBACK
from tests.integration.test_sso import _app as sso_app
from tests.integration.test_sso import _round_trip as sso_round_trip
from tests.standins.oidc_provider import OidcProviderStandIn


@pytest.fixture
def settings(tmp_path, database):
    return load_settings(instance_path=tmp_path / "instance", database_url=database.url,
                         totp_required_roles="admin,approver")


class Clock:
    def __init__(self):
        self.now = utcnow()

    def step(self, steps: int = 1):
        self.now += timedelta(seconds=30 * steps)


@pytest.fixture
def clock(monkeypatch):
    """The server's time for code checks, moved by the test; pyotp computes the codes for the same time."""
    clock = Clock()
    monkeypatch.setattr(two_factor, "utcnow", lambda: clock.now)
    return clock


def code(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


def _db(app):
    return app.extensions["database"].sessions()


def _user(app, username: str) -> User:
    with _db(app) as session:
        return session.scalar(select(User).where(User.username == username))


def _actions(app, username: str) -> list[str]:
    with _db(app) as session:
        user = session.scalar(select(User).where(User.username == username))
        return list(session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "user",
                                                                   AuditLog.entity_id == str(user.id),
                                                                   AuditLog.action.like("user.two_factor%"))
                                    .order_by(AuditLog.id)))


def _codes_left(app, username: str) -> int:
    with _db(app) as session:
        return two_factor.recovery_codes_left(session, session.scalar(select(User).where(User.username == username)))


def enrol(client, clock: Clock) -> tuple[str, list[str]]:
    """Set up two-factor login for the client's person, as they would on the page."""
    page = client.get("/account/two-factor").data.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    answer = client.post("/account/two-factor", data={"code": code(secret, clock), "csrf_token": csrf_from(page)})
    assert answer.status_code == 201, answer.data.decode()
    codes = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", answer.data.decode())
    clock.step()  # the enrolment used this step's code
    return secret, codes


def second_step(client, typed: str, **kwargs):
    page = client.get("/login/code")
    if page.status_code != 200:
        return page
    return client.post("/login/code", data={"code": typed, "csrf_token": csrf_from(page.data)}, **kwargs)


@pytest.fixture
def enrolled(seeded, clock):
    """bientap (an editor: two-factor login optional) with it set up; answers the secret and recovery codes."""
    client = seeded.test_client()
    assert log_in(client, "bientap").headers["Location"] == "/"
    secret, codes = enrol(client, clock)
    return secret, codes


def test_enrolment_shows_a_qr_code_and_the_key_and_takes_effect_only_with_a_valid_code(seeded, clock):
    client = seeded.test_client()
    log_in(client, "bientap")
    page = client.get("/account/two-factor")
    html = page.data.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
    assert 'src="/account/two-factor/qr.svg"' in html
    qr = client.get("/account/two-factor/qr.svg")
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data and qr.headers["Cache-Control"] == "no-store"
    assert client.get("/account/two-factor").data.decode().count(secret) == 1  # the same key until confirmed

    wrong = client.post("/account/two-factor", data={"code": "000000", "csrf_token": csrf_from(html)})
    assert wrong.status_code == 422 and _user(seeded, "bientap").totp_secret is None

    answer = client.post("/account/two-factor", data={"code": code(secret, clock), "csrf_token": csrf_from(html)})
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", answer.data.decode())
    assert len(codes) == two_factor.RECOVERY_CODES == len(set(codes))
    assert _user(seeded, "bientap").totp_secret == secret
    with _db(seeded) as session:
        stored = session.execute(select(two_factor.RecoveryCode.code_sha256)).scalars().all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # kept hashed only
    assert _actions(seeded, "bientap") == ["user.two_factor.enrol_failed", "user.two_factor.enrol"]
    assert client.get("/account/two-factor/qr.svg").status_code == 404  # the key is not shown again


def test_no_session_before_the_code(seeded, clock, enrolled):
    secret, _ = enrolled
    client = seeded.test_client()
    answer = log_in(client, "bientap")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login/code"
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/").headers["Location"].startswith("/login")
    assert client.get("/account/two-factor").status_code == 302

    answer = second_step(client, code(secret, clock))
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    assert client.get("/api/v1/auth/me").json["username"] == "bientap"


def test_the_login_goes_on_to_where_it_was_going(seeded, clock, enrolled):
    secret, _ = enrolled
    client = seeded.test_client()
    page = client.get("/login?next=/account")
    client.post("/login?next=/account", data={"username": "bientap", "password": DEMO_PASSWORD,
                                              "csrf_token": csrf_from(page.data)})
    assert second_step(client, code(secret, clock)).headers["Location"] == "/account"


def test_wrong_and_replayed_codes_get_the_same_answer_and_no_session(seeded, clock, enrolled):
    secret, _ = enrolled
    first = seeded.test_client()
    log_in(first, "bientap")
    used = code(secret, clock)
    assert second_step(first, used).status_code == 303

    answers = []
    for typed in ("000000", used, "abcde-fghjk"):
        client = seeded.test_client()
        log_in(client, "bientap")
        answer = second_step(client, typed)
        answers.append((answer.status_code, re.search(r'role="alert">([^<]+)<', answer.data.decode()).group(1)))
        assert client.get("/api/v1/auth/me").status_code == 401
    assert len(set(answers)) == 1 and answers[0][0] == 401
    assert _actions(seeded, "bientap")[-3:] == ["user.two_factor.failed"] * 3

    clock.step()  # the next step's code is a new one
    client = seeded.test_client()
    log_in(client, "bientap")
    assert second_step(client, code(secret, clock)).status_code == 303


def test_a_code_of_the_step_before_or_after_is_accepted(seeded, clock, enrolled):
    secret, _ = enrolled
    clock.step(5)
    for offset in (-1, 1):
        client = seeded.test_client()
        log_in(client, "bientap")
        typed = pyotp.TOTP(secret).at(clock.now + timedelta(seconds=30 * offset))
        assert second_step(client, typed).status_code == 303
        clock.step(3)


def test_a_recovery_code_lets_in_once(seeded, clock, enrolled):
    _, codes = enrolled
    client = seeded.test_client()
    log_in(client, "bientap")
    assert second_step(client, codes[0].upper().replace("-", " ")).status_code == 303
    assert client.get("/api/v1/auth/me").status_code == 200

    again = seeded.test_client()
    log_in(again, "bientap")
    assert second_step(again, codes[0]).status_code == 401
    assert "user.two_factor.recovery_used" in _actions(seeded, "bientap")
    client = seeded.test_client()
    log_in(client, "bientap")
    assert second_step(client, codes[1]).status_code == 303
    assert _codes_left(seeded, "bientap") == 8


def test_new_recovery_codes_replace_the_old_ones(seeded, clock, enrolled):
    secret, codes = enrolled
    client = seeded.test_client()
    log_in(client, "bientap")
    second_step(client, code(secret, clock))
    page = client.get("/account/two-factor").data
    assert _codes_left(seeded, "bientap") == 10
    refused = client.post("/account/two-factor/recovery-codes", data={"proof": "wrong", "csrf_token": csrf_from(page)})
    assert refused.status_code == 422
    answer = client.post("/account/two-factor/recovery-codes",
                         data={"proof": DEMO_PASSWORD, "csrf_token": csrf_from(page)})
    new = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", answer.data.decode())
    assert answer.status_code == 201 and len(new) == 10 and not set(new) & set(codes)
    old, fresh = seeded.test_client(), seeded.test_client()
    log_in(old, "bientap")
    assert second_step(old, codes[2]).status_code == 401
    log_in(fresh, "bientap")
    assert second_step(fresh, new[0]).status_code == 303


def test_the_second_step_is_throttled_and_the_password_buys_no_more_guesses(seeded, clock, enrolled):
    secret, _ = enrolled
    client = seeded.test_client()
    log_in(client, "bientap")
    statuses = [second_step(client, f"{n:06d}").status_code for n in range(5)]
    assert statuses == [401] * 5  # LOGIN_LIMIT_PER_ACCOUNT_ADDRESS: 5 per 15 minutes
    throttled = second_step(client, code(secret, clock))
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    log_in(client, "bientap")  # the right password again
    assert second_step(client, code(secret, clock)).status_code == 429
    assert client.get("/api/v1/auth/me").status_code == 401
    # Another address, the person's own office, still gets in.
    office = seeded.test_client()
    page = office.get("/login")
    office.post("/login", data={"username": "bientap", "password": DEMO_PASSWORD, "csrf_token": csrf_from(page.data)},
                environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert second_step(office, code(secret, clock), environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 303


def test_the_waiting_login_expires(seeded, clock, enrolled, monkeypatch):
    secret, _ = enrolled
    client = seeded.test_client()
    log_in(client, "bientap")
    monkeypatch.setattr(web_two_factor, "PENDING_MAX_AGE_S", -1)
    answer = second_step(client, code(secret, clock))
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_new_password_voids_a_waiting_login(seeded, clock, enrolled):
    secret, _ = enrolled
    client = seeded.test_client()
    log_in(client, "bientap")
    with _db(seeded) as session:
        user = session.scalar(select(User).where(User.username == "bientap"))
        users.end_sessions(session, user, actor=user, reason="logout")
    assert second_step(client, code(secret, clock)).headers["Location"] == "/login"


def test_a_required_role_is_sent_to_enrol_and_the_api_answers_403_until_then(seeded, clock):
    client = seeded.test_client()
    answer = log_in(client, "pheduyet")
    assert answer.headers["Location"] == "/account/two-factor"
    assert client.get("/").headers["Location"].endswith("/account/two-factor")
    refused = client.get("/api/v1/stations")
    assert refused.status_code == 403 and "two-factor" in refused.json["message"]
    # A personal token is a script's second factor: it is not held back.
    with _db(seeded) as session:
        token = users.issue_api_token(session, session.scalar(select(User).where(User.username == "pheduyet")), "t")
    assert seeded.test_client().get("/api/v1/stations", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    secret, _ = enrol(client, clock)
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/stations").status_code == 200
    nxt = seeded.test_client()
    assert log_in(nxt, "pheduyet").headers["Location"] == "/login/code"
    assert second_step(nxt, code(secret, clock)).status_code == 303


def test_a_temporary_password_is_changed_first_then_the_second_factor_set_up(seeded, clock):
    with _db(seeded) as session:
        users.create_user(session, username="quantri2", password="tam-thoi-1234", role=Role.ADMIN,
                          scope_area=None, must_change_password=True)
    client = seeded.test_client()
    log_in(client, "quantri2", "tam-thoi-1234")
    assert client.get("/").headers["Location"] == "/account/password"
    assert client.get("/account/two-factor").headers["Location"] == "/account/password"
    page = client.get("/account/password")
    assert page.status_code == 200
    new = "loa-phuong-ha-giang-9"
    changed = client.post("/account/password", data={"current_password": "tam-thoi-1234", "new_password": new,
                                                      "repeat": new, "csrf_token": csrf_from(page.data)})
    assert changed.status_code == 303
    assert client.get("/").headers["Location"] == "/account/two-factor"
    enrol(client, clock)
    assert client.get("/").status_code == 200


def test_an_optional_role_is_not_asked(seeded):
    client = seeded.test_client()
    assert log_in(client, "vanhanh").headers["Location"] == "/"
    assert client.get("/api/v1/stations").status_code == 200


def test_api_login_needs_the_code_of_an_enrolled_person(seeded, clock, enrolled):
    secret, codes = enrolled
    body = {"username": "bientap", "password": DEMO_PASSWORD}
    client = seeded.test_client()
    assert client.post("/api/v1/auth/login", json=body).status_code == 401
    assert client.post("/api/v1/auth/login", json=body | {"code": "000000"}).status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.post("/api/v1/auth/login", json=body | {"code": code(secret, clock)}).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 200
    other = seeded.test_client()
    assert other.post("/api/v1/auth/login", json=body | {"code": code(secret, clock)}).status_code == 401  # replay
    assert other.post("/api/v1/auth/login", json=body | {"code": codes[0]}).status_code == 200


def test_api_login_of_a_required_role_without_it_gets_403_after(seeded):
    client = seeded.test_client()
    answer = client.post("/api/v1/auth/login", json={"username": "admin", "password": DEMO_PASSWORD})
    assert answer.status_code == 200
    refused = client.get("/api/v1/stations")
    assert refused.status_code == 403 and "/account/two-factor" in refused.json["message"]


def test_turning_it_off_needs_the_password_or_a_code(seeded, clock, enrolled):
    secret, _ = enrolled
    client = seeded.test_client()
    log_in(client, "bientap")
    second_step(client, code(secret, clock))
    clock.step()
    page = client.get("/account/two-factor").data
    assert client.post("/account/two-factor/disable", data={"proof": "123456", "csrf_token": csrf_from(page)}
                       ).status_code == 422
    assert _user(seeded, "bientap").totp_secret is not None
    answer = client.post("/account/two-factor/disable",
                         data={"proof": code(secret, clock), "csrf_token": csrf_from(page)})
    assert answer.status_code == 303 and _user(seeded, "bientap").totp_secret is None
    assert _actions(seeded, "bientap")[-1] == "user.two_factor.disable"
    assert log_in(seeded.test_client(), "bientap").headers["Location"] == "/"


def test_guessing_the_password_to_turn_it_off_is_throttled(seeded, clock, enrolled):
    secret, _ = enrolled
    client = seeded.test_client()
    log_in(client, "bientap")
    second_step(client, code(secret, clock))
    page = client.get("/account/two-factor").data
    statuses = [client.post("/account/two-factor/disable", data={"proof": f"guess-{n}", "csrf_token": csrf_from(page)}
                            ).status_code for n in range(6)]
    assert statuses == [422] * 5 + [429]
    assert client.post("/account/two-factor/disable", data={"proof": DEMO_PASSWORD, "csrf_token": csrf_from(page)}
                       ).status_code == 429
    assert _user(seeded, "bientap").totp_secret is not None


def test_an_admin_resets_a_persons_second_factor(seeded, clock, enrolled):
    admin = seeded.test_client()
    log_in(admin, "admin")
    enrol(admin, clock)  # the admin's own role needs it
    bientap = _user(seeded, "bientap")
    page = admin.get(f"/users/{bientap.id}")
    assert f"/users/{bientap.id}/two_factor_reset" in page.data.decode()
    answer = admin.post(f"/users/{bientap.id}/two_factor_reset", data={"csrf_token": csrf_from(page.data)})
    assert answer.status_code == 303 and _user(seeded, "bientap").totp_secret is None
    with _db(seeded) as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "user.two_factor.reset")).one()
    assert entry.actor == "admin" and entry.details == {"username": "bientap"}
    assert log_in(seeded.test_client(), "bientap").headers["Location"] == "/"


@pytest.fixture
def provider():
    with OidcProviderStandIn([CALLBACK]) as made:
        yield made


def test_a_single_sign_on_login_is_not_asked_for_a_code_nor_sent_to_enrol(settings, provider, clock):
    """The identity provider's own second factor applies (its flow is tested in test_sso.py)."""
    app = sso_app(settings, provider)  # TOTP_REQUIRED_ROLES: admin,approver, the default
    try:
        client = app.test_client()  # pheduyet, an approver without a second factor: not sent to enrol
        assert sso_round_trip(client).location == "/?page=1"
        assert client.get("/").status_code == 200 and client.get("/api/v1/stations").status_code == 200
        with _db(app) as session:
            user = session.scalar(select(User).where(User.username == "pheduyet"))
            secret = two_factor.new_secret()
            two_factor.enrol(session, user, secret, code(secret, clock))
        client = app.test_client()  # enrolled now: still no code asked
        assert sso_round_trip(client).location == "/?page=1"
        assert client.get("/").status_code == 200
        assert log_in(app.test_client(), "pheduyet").headers["Location"] == "/login/code"  # a password login is
    finally:
        app.extensions["database"].dispose()
