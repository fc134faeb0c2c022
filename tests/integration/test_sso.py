"""Single sign-on against a real OpenID Connect provider on 127.0.0.1 (tests/standins/oidc_provider.py, Authlib's
authorization server with PKCE and signed ID tokens): the whole round trip, the service's pages driven by the
Flask test client and the provider's by requests, and each way an answer must be refused with no session.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select

from broadcast import create_app, load_settings
from broadcast.db.models import AuditLog
from broadcast.services import users
from tests.standins.oidc_provider import OidcProviderStandIn

CALLBACK = "http://localhost/login/sso/callback"  # the test client's own address


@pytest.fixture
def provider():
    with OidcProviderStandIn([CALLBACK]) as made:
        yield made


def _app(settings, provider, **changes):
    values = {"instance_path": settings.instance_path, "database_url": settings.database_url,
              "oidc_issuer": provider.issuer, "oidc_client_id": provider.client.client_id,
              "oidc_client_secret": provider.client.client_secret, "outbound_allow_networks": "127.0.0.0/8",
              **changes}
    app = create_app(load_settings(**values))
    app.config.update(TESTING=True)
    from broadcast.services import demo

    with app.app_context(), app.extensions["database"].sessions() as session:
        list(demo.seed(session))
    return app


@pytest.fixture
def sso_app(settings, provider):
    app = _app(settings, provider)
    yield app
    app.extensions["database"].dispose()


def _round_trip(client, *, next_path="/?page=1", state=None):
    """Log in through the provider; returns the service's answer to the callback."""
    start = client.get("/login/sso?" + urlencode({"next": next_path}))
    assert start.status_code == 302, start.data
    at_provider = requests.get(start.location, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert f"http://{back.netloc}{back.path}" == CALLBACK
    query = parse_qs(back.query)
    assert "code" in query, back.query
    if state is not None:
        query["state"] = [state]
    return client.get(back.path + "?" + urlencode(query, doseq=True))


def _signed_in(client) -> bool:
    """Whether the client's cookie opens the dashboard; a refused login leaves not even a user id in it."""
    with client.session_transaction() as session:
        has_user = "_user_id" in session
    opens = client.get("/").status_code == 200
    assert has_user or not opens
    return opens


def _no_session(client) -> bool:
    with client.session_transaction() as session:
        if "_user_id" in session or "_epoch" in session:
            return False
    return not _signed_in(client)


def _shown_after(client, answer) -> str:
    """The login page a refused login is sent back to, with its message."""
    assert answer.status_code == 302 and answer.location == "/login", (answer.status_code, answer.location)
    return client.get("/login").text


def _audit(app, action: str) -> list[AuditLog]:
    with app.extensions["database"].sessions() as session:
        found = list(session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
        session.expunge_all()
        return found


def test_a_good_login_starts_a_session_of_the_mapped_account(sso_app, provider):
    client = sso_app.test_client()
    login_page = client.get("/login")
    assert "Đăng nhập một lần (SSO)" in login_page.text and 'href="/login/sso' in login_page.text

    answer = _round_trip(client)

    assert answer.status_code == 302 and answer.location == "/?page=1"
    assert _signed_in(client)
    with client.session_transaction() as session:
        assert "_epoch" in session and not any(key.startswith("_state_sso") for key in session)
    asked = provider.authorize_requests[0]
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"] and asked["nonce"]
    assert asked["state"] and asked["scope"] == "openid profile email"
    logins = _audit(sso_app, "user.login")
    assert [(entry.actor, entry.details) for entry in logins] == [("pheduyet", {"via": "sso"})]
    with sso_app.extensions["database"].sessions() as session:
        assert users.get_user(session, "pheduyet").last_login_at is not None


def test_the_session_ends_on_the_server_like_a_password_one(sso_app, provider):
    client = sso_app.test_client()
    _round_trip(client)
    with client.session_transaction() as session:
        copied = dict(session)
    page = client.get("/")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    with client.session_transaction() as session:
        session.update(copied)  # a copy of the cookie from before the logout
    assert not _signed_in(client)


@pytest.mark.parametrize("mischief", [
    pytest.param({"sign_with_rogue_key": True}, id="signed-with-another-key-under-the-real-key-id"),
    pytest.param({"claims": {"aud": ["cong-dich-vu-cong"], "azp": "dai-truyen-thanh"}}, id="another-audience"),
    pytest.param({"claims": {"aud": ["cong-dich-vu-cong"]}}, id="another-audience-no-azp"),
    pytest.param({"claims": {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}}, id="expired"),
    pytest.param({"nonce": "a-nonce-from-another-login"}, id="another-nonce"),
    pytest.param({"claims": {"iss": "https://sso.example.org/realms/egov"}}, id="another-issuer"),
])
def test_an_id_token_that_does_not_verify_is_refused(sso_app, provider, mischief):
    for name, value in mischief.items():
        setattr(provider, name, value)
    client = sso_app.test_client()

    answer = _round_trip(client)

    assert "Không kiểm chứng được" in _shown_after(client, answer)
    assert provider.token_requests == 1  # it came as far as the token, which was then refused
    assert _no_session(client)
    assert _audit(sso_app, "user.login") == []
    refused = _audit(sso_app, "user.login_refused")
    assert len(refused) == 1 and refused[0].details["via"] == "sso" and refused[0].entity_id is None


def test_it_goes_back_only_to_a_page_of_this_service(sso_app, provider):
    client = sso_app.test_client()
    assert _round_trip(client, next_path="//evil.example/login").location == "/"


def test_an_earlier_attempt_of_the_same_browser_cannot_come_back(sso_app, provider):
    # Each start replaces the last one's state, so abandoned attempts cannot fill the session cookie.
    client = sso_app.test_client()
    first = requests.get(client.get("/login/sso").location, allow_redirects=False, timeout=10)
    client.get("/login/sso")
    with client.session_transaction() as session:
        assert len([key for key in session if key.startswith("_state_sso_")]) == 1
    back = urlsplit(first.headers["Location"])

    assert "Không kiểm chứng được" in _shown_after(client, client.get(back.path + "?" + back.query))
    assert _no_session(client)


def test_a_new_signing_key_of_the_provider_is_fetched(sso_app, provider):
    client = sso_app.test_client()
    assert _round_trip(client).location == "/?page=1"
    provider.rotate_key("egov-2027")
    client = sso_app.test_client()

    assert _round_trip(client).location == "/?page=1" and _signed_in(client)
    assert provider.jwks_requests == 2  # the keys were read again for the new key id


def test_a_tampered_state_is_refused_before_the_code_is_used(sso_app, provider):
    client = sso_app.test_client()

    answer = _round_trip(client, state="a-state-made-up-by-someone-else")

    assert "Không kiểm chứng được" in _shown_after(client, answer)
    assert provider.token_requests == 0
    assert _no_session(client)
    assert "MismatchingStateError" in _audit(sso_app, "user.login_refused")[0].details["reason"]


def test_a_callback_from_another_browser_is_refused(sso_app, provider):
    # Login CSRF: someone sends their own callback link to a victim, whose session holds no such state.
    first, second = sso_app.test_client(), sso_app.test_client()
    start = first.get("/login/sso")
    at_provider = requests.get(start.location, allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["Location"])

    answer = second.get(back.path + "?" + back.query)

    assert "Không kiểm chứng được" in _shown_after(second, answer) and _no_session(second)


def test_a_person_with_no_account_here_gets_none(sso_app, provider):
    provider.login_as = "nguyenvana"
    client = sso_app.test_client()

    answer = _round_trip(client)

    shown = _shown_after(client, answer)
    assert "Tài khoản nguyenvana" in shown and "không tự tạo" in shown
    assert _no_session(client)
    with sso_app.extensions["database"].sessions() as session:
        assert session.scalar(select(AuditLog.id).where(AuditLog.actor == "nguyenvana")) is None
    refused = _audit(sso_app, "user.login_refused")
    assert [(entry.actor, entry.details["reason"]) for entry in refused] == [("sso:nguyenvana", "no account")]


def test_a_deactivated_account_is_refused(sso_app, provider):
    with sso_app.extensions["database"].sessions() as session:
        users.deactivate(session, users.get_user(session, "vanhanh"), actor="admin")
    provider.login_as = "vanhanh"
    client = sso_app.test_client()

    answer = _round_trip(client)

    assert "Tài khoản vanhanh đã bị khóa" in _shown_after(client, answer)
    assert _no_session(client)
    refused = _audit(sso_app, "user.login_refused")
    assert [entry.details["reason"] for entry in refused] == ["deactivated"] and refused[0].entity_id is not None


def test_the_username_is_read_from_the_configured_claim(settings, provider):
    # The provider's e-mail is pheduyet@tuyenquang.gov.vn: no such username here, so the claim decides.
    app = _app(settings, provider, oidc_username_claim="email")
    try:
        client = app.test_client()
        assert "pheduyet@tuyenquang.gov.vn" in _shown_after(client, _round_trip(client)) and _no_session(client)
        assert _audit(app, "user.login_refused")[0].actor == "sso:pheduyet@tuyenquang.gov.vn"
    finally:
        app.extensions["database"].dispose()


def test_behind_a_proxy_the_callback_is_under_the_public_address(settings, provider):
    public = "https://radio.tuyenquang.gov.vn"
    provider.client.redirect_uris.append(public + "/login/sso/callback")
    app = _app(settings, provider, public_url=public)
    try:
        client = app.test_client()
        at_provider = requests.get(client.get("/login/sso").location, allow_redirects=False, timeout=10)
        back = urlsplit(at_provider.headers["Location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == public + "/login/sso/callback"
        assert provider.authorize_requests[0]["redirect_uri"] == public + "/login/sso/callback"

        assert client.get(back.path + "?" + back.query).location == "/"  # the token request names the same one
        assert _signed_in(client)
    finally:
        app.extensions["database"].dispose()


def test_a_provider_on_an_internal_address_is_not_called_unless_allowed(settings, provider):
    app = _app(settings, provider, outbound_allow_networks="")
    try:
        client = app.test_client()
        answer = client.get("/login/sso")
        assert "Không kết nối được" in _shown_after(client, answer)
        assert provider.discovery_requests == 0 and _no_session(client)
    finally:
        app.extensions["database"].dispose()


def test_without_an_issuer_there_is_no_button_and_no_route(client):
    assert "/login/sso" not in client.get("/login").text
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404


@pytest.mark.parametrize(("changes", "message"), [
    ({"oidc_issuer": "https://sso.tuyenquang.gov.vn/realms/egov"}, "client id"),
    ({"oidc_issuer": "http://sso.tuyenquang.gov.vn/realms/egov", "oidc_client_id": "x"}, "https://"),
    ({"oidc_issuer": "https://sso.tuyenquang.gov.vn/realms/egov", "oidc_client_id": "x", "oidc_scopes": "profile"},
     "openid"),
])
def test_settings_that_cannot_work_stop_the_start(tmp_path, changes, message):
    from broadcast.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        load_settings(instance_path=tmp_path / "instance", **changes)
