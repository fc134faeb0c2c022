"""Logging in and out over the API (cookie session), and who am I."""

from __future__ import annotations

from flask import session
from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from broadcast.errors import Unauthenticated
from broadcast.i18n import _l
from broadcast.services import two_factor, users
from broadcast.web import login_throttle, sessions
from broadcast.web import two_factor as web_two_factor
from broadcast.web.api.account_schemas import PasswordChangeSchema
from broadcast.web.api.schemas import LoginSchema, SessionSchema, UserSchema
from broadcast.web.auth import authenticated_by_bearer, login_required, signed_in_user
from broadcast.web.context import db, settings

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sessions")


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
@blp.doc(security=[])
def login(credentials):
    """Log in with a session cookie. A person with two-factor login sends ``code`` too (from the app, or a
    recovery code); one whose role needs it and who has none gets 403 on everything until they enrol on the page
    /account/two-factor. Personal API tokens never need a code. Too many attempts from one address, or on one
    account, are answered 429 with ``details.retry_after_s`` and a Retry-After header, the same for every name (see
    broadcast.web.login_throttle); the right password from an address that is not guessing still gets in."""
    login_throttle.admit(credentials["username"])
    user = users.authenticate(db(), credentials["username"], credentials["password"])
    if user is None:
        raise Unauthenticated(_l("Wrong username or password."))
    login_throttle.succeeded(credentials["username"])
    if two_factor.is_enrolled(user):
        # One request carries both factors, so no half-logged-in state exists; codes have their own throttle.
        login_throttle.admit_code(user.username)
        if not credentials.get("code") or not two_factor.verify(db(), user, credentials["code"]):
            raise Unauthenticated(_l("Two-factor login: send the code of your authenticator app (or a recovery "
                                     "code) in the field code."))
        login_throttle.code_succeeded(user.username)
    sessions.begin(user)
    if two_factor.must_enrol(user, settings().totp_required_roles):
        session[web_two_factor.ENROL_FIRST] = True  # the API then answers 403 until they enrol on the page
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
@blp.doc(security=[{"cookieAuth": []}])
def logout():
    """End the session on the server: the cookie, and any copy of it, stops working (every session of this
    person ends, see broadcast.web.sessions)."""
    if current_user.is_authenticated:
        person = current_user._get_current_object()
        users.end_sessions(db(), person, actor=person, reason="logout")
    sessions.forget()


@blp.route("/me")
@blp.response(200, UserSchema)
@login_required
def me():
    return signed_in_user()


@blp.route("/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@login_required
def change_password(body):
    """Change your own password. Every session of yours ends; a cookie caller gets a new session cookie and
    carries on (its CSRF token stays the same), a token caller keeps its token."""
    user = signed_in_user()
    users.change_password(db(), user, current=body["current_password"], new=body["new_password"])
    if not authenticated_by_bearer():
        sessions.begin(user)
