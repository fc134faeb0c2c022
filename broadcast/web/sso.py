"""Logging in through the province's identity provider (OpenID Connect), beside the password.

The provider proves who the person is; what they may do here (role, area) is still this service's own account
of the same username, found by the ID token claim OIDC_USERNAME_CLAIM. Nobody gets an account by logging in:
a name with no account here, or a deactivated one, is refused with a message and no session.

Authlib's Flask client does the protocol: discovery from the issuer, the authorization code flow with PKCE
(S256), a state and a nonce kept in the session cookie (signed), and the ID token checked against the
provider's published keys (JWKS), for our client id as audience, the configured issuer, its expiry and the
nonce. Its HTTP requests (discovery, keys, token) go through broadcast.channels.outbound, like every request to
an address someone configured: the issuer is set by an administrator, but a mistyped or planted one still must
not make the service call the machines around it. A provider on the province's own network is therefore listed
in OUTBOUND_ALLOW_NETWORKS. Every request has a time limit.

A login that passes starts the same session as a password login (broadcast.web.sessions.begin) and is audited
by the same function (users.logged_in, with via="sso"); a refusal is audited as user.login_refused.
"""

from __future__ import annotations

import logging

import requests
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App, OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import Blueprint, Flask, abort, current_app, flash, redirect, request, session, url_for
from joserfc.errors import JoseError

from broadcast.channels import outbound
from broadcast.errors import NotFound
from broadcast.i18n import _
from broadcast.services import users
from broadcast.services.audit import record
from broadcast.web import sessions
from broadcast.web.context import db, settings
from broadcast.web.ui import _safe_next

log = logging.getLogger(__name__)
bp = Blueprint("sso", __name__)

NAME = "sso"
TIMEOUT_S = 10  # each request to the provider; a login waits on it
LEEWAY_S = 60  # clocks of the two servers may differ this much when checking the ID token's times
NEXT = "_sso_next"  # where to go after the login, kept in the session across the round trip


def _pinned_session_class(policy: outbound.OutboundPolicy) -> type[OAuth2Session]:
    """Authlib's requests session whose connections go only where ``policy`` allows, with no proxy."""

    class PinnedOAuth2Session(OAuth2Session):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.trust_env = False
            adapter = outbound.PinnedAdapter(policy)
            self.mount("http://", adapter)
            self.mount("https://", adapter)

    return PinnedOAuth2Session


def _client() -> FlaskOAuth2App:
    """The provider's client for the current settings, made once per application (it keeps the discovery
    document and the keys it fetched); 404 when single sign-on is off."""
    config = settings()
    if not config.oidc_issuer:
        abort(404)
    key = (config.oidc_issuer, config.oidc_client_id, config.oidc_client_secret, config.oidc_scopes,
           config.outbound_allow_networks)
    cached = current_app.extensions.get("sso_client")
    if cached is None or cached[0] != key:
        client_class = type("ProviderClient", (FlaskOAuth2App,),
                            {"client_cls": _pinned_session_class(
                                outbound.OutboundPolicy.from_text(config.outbound_allow_networks))})
        client = client_class(
            FlaskIntegration(NAME), NAME, client_id=config.oidc_client_id,
            client_secret=config.oidc_client_secret or None,
            server_metadata_url=config.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": config.oidc_scopes, "code_challenge_method": "S256",
                           "default_timeout": TIMEOUT_S})
        cached = (key, client)
        current_app.extensions["sso_client"] = cached
    return cached[1]


def _redirect_uri() -> str:
    """The callback's address as the provider must have it registered: under PUBLIC_URL when that is set
    (behind a reverse proxy the request's own address may be an internal one)."""
    path = url_for("sso.callback")
    return settings().public_url + path if settings().public_url else url_for("sso.callback", _external=True)


def _back_to_login(message: str):
    """The login page again, with ``message``: redirected to, so the address bar holds no used code and the
    password form there posts to the login page."""
    flash(message, "error")
    return redirect(url_for("ui.login"))


@bp.get("/login/sso")
def start():
    client = _client()
    # Only the latest attempt of this browser can come back: each start's state, nonce and PKCE verifier ride in
    # the session cookie, which abandoned attempts would otherwise fill past what a browser keeps.
    for key in [key for key in session if key.startswith(f"_state_{NAME}_")]:
        session.pop(key)
    session[NEXT] = _safe_next(request.args.get("next"))
    try:
        return client.authorize_redirect(_redirect_uri())
    except (requests.RequestException, outbound.Refused, OAuthError, ValueError, RuntimeError) as exc:
        log.warning("single sign-on: the identity provider %s cannot be used: %s", settings().oidc_issuer,
                    outbound.root_cause(exc))
        return _back_to_login(_("The identity provider cannot be reached now. Log in with your password, or try "
                                "again later."))


@bp.get("/login/sso/callback")
def callback():
    client = _client()
    claims_options = {"iss": {"essential": True, "value": settings().oidc_issuer},
                      "aud": {"essential": True, "value": settings().oidc_client_id}}
    try:
        token = client.authorize_access_token(claims_options=claims_options, leeway=LEEWAY_S)
    except (requests.RequestException, outbound.Refused) as exc:
        log.warning("single sign-on: no answer from the identity provider: %s", outbound.root_cause(exc))
        return _back_to_login(_("The identity provider cannot be reached now. Log in with your password, or try "
                                "again later."))
    except (OAuthError, JoseError, ValueError, KeyError) as exc:
        return _refuse(None, f"{type(exc).__name__}: {exc}",
                       _("The identity provider's answer could not be verified, so you are not logged in. "
                         "Try again from the login page."))
    claims = token.get("userinfo")
    if claims is None:  # no ID token came, or it was not checked: nothing proves who this is
        return _refuse(None, "no ID token", _("The identity provider's answer could not be verified, so you are "
                                              "not logged in. Try again from the login page."))
    username = claims.get(settings().oidc_username_claim)
    if not isinstance(username, str) or not username.strip():
        return _refuse(None, f"no {settings().oidc_username_claim} claim",
                       _("The identity provider did not say your username. Ask an administrator."))
    try:
        user = users.get_user(db(), username.strip())
    except NotFound:
        return _refuse(username, "no account",
                       _("The account %(name)s has no access to this service. Ask an administrator to create it "
                         "here; logging in with the province's account does not create one.", name=username))
    if not user.active:
        return _refuse(username, "deactivated",
                       _("The account %(name)s is deactivated. Ask an administrator.", name=username), user)
    sessions.begin(user)
    users.logged_in(db(), user, via=NAME)
    return redirect(session.pop(NEXT, None) or url_for("ui.dashboard"))


def _refuse(username: str | None, reason: str, message: str, user=None):
    """Audit the refusal and show the login page again, with no session."""
    session.pop(NEXT, None)
    log.warning("single sign-on refused (%s): %s", username or "?", reason)
    name = username[:64] if username else None  # the provider's claim, of any length
    record(db(), f"{NAME}:{name}" if name else NAME, "user.login_refused", "user",
           user.id if user is not None else None, {"via": NAME, "username": name, "reason": reason[:200]})
    db().commit()
    return _back_to_login(message)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _sso_button() -> dict:
        config = app.extensions["settings"]
        return {"sso_label": config.oidc_label if config.oidc_issuer else None}
