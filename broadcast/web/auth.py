"""Who is asking: a person logged in with a session cookie, a script with a user token, or a station.

Cookie-authenticated requests that change state must carry a CSRF token (form field or X-CSRFToken
header); requests that a bearer token authenticates need none, since a browser never sends those on its own.
A request with a bearer header is whoever its token names, never the cookie's user. See ``needs_csrf``.

An API caller that proves nobody gets 401; one that proves who it is but may not do this gets 403 (a station's
token on a person's route, a person on a station's).
"""

from __future__ import annotations

from functools import wraps
from typing import NoReturn

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from broadcast.db.models import Role, Station, User
from broadcast.errors import Forbidden, Unauthenticated
from broadcast.i18n import _l
from broadcast.services import scope, stations, users
from broadcast.web import sessions
from broadcast.web.context import db

login_manager = LoginManager()
csrf = CSRFProtect()
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "ui.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    csrf.init_app(app)

    @login_manager.user_loader
    def _load(user_id: str) -> User | None:
        if bearer_token() is not None:
            return None  # the token decides (the request loader), so a bad token cannot ride on the cookie
        user = db().get(User, int(user_id))
        if user is None or not user.active or not sessions.still_open(user):
            session.clear()  # ended on the server (logout elsewhere, deactivated, expired): forget it here too
            return None
        return user

    @login_manager.request_loader
    def _from_token(_request) -> User | None:
        token = bearer_token()
        if token and token.startswith("ut_"):
            return users.user_for_token(db(), token)
        return None

    @login_manager.unauthorized_handler
    def _unauthorized():
        if request.path.startswith("/api/"):
            refuse_anonymous()
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))

    @app.before_request
    def _csrf_for_cookies() -> None:
        if needs_csrf():
            csrf.protect()

    @app.before_request
    def _temporary_password_first():
        # A password an administrator set is known to two people: until its owner changes it, it opens
        # nothing but the change (and logging out).
        if request.endpoint in WHILE_PASSWORD_TEMPORARY or not current_user.is_authenticated:
            return None
        if not current_user.must_change_password:
            return None
        if request.path.startswith("/api/"):
            raise Forbidden(_l("Your password is a temporary one: change it first (POST /api/v1/auth/password)."))
        return redirect(url_for("account_ui.change_password"))

    @app.before_request
    def _second_factor_first():
        # A role that needs two-factor login, after a password login without it: only enrolling, as above.
        from broadcast.web import two_factor  # it builds on this module

        if (request.endpoint in two_factor.WHILE_ENROLLING or bearer_token() is not None
                or not current_user.is_authenticated or not two_factor.enrolment_due(current_user)):
            return None
        if request.path.startswith("/api/"):
            raise Forbidden(_l("Your role needs two-factor login: set it up first on the page /account/two-factor."))
        return redirect(url_for("two_factor.manage"))

    @app.before_request
    def _who_before_what() -> None:
        # A caller that may not use a person's API route learns that (401, or 403 for a station), not what its
        # body lacks (422): the view's own guard would only run after the body is parsed.
        guarded = getattr(app.view_functions.get(request.endpoint), "requires_person", False)
        if guarded and request.path.startswith("/api/") and not current_user.is_authenticated:
            refuse_anonymous()


# What a person whose password is a temporary one may still do.
WHILE_PASSWORD_TEMPORARY = {"account_ui.change_password", "ui.logout", "ui.set_language", "auth.change_password",
                            "auth.logout", "auth.me", "static"}
# Endpoints reachable without a session, where a CSRF token cannot exist yet.
CSRF_EXEMPT = {"auth.login"}


def needs_csrf() -> bool:
    """Whether this request must carry a CSRF token: whether another site could have made the browser send it.

    A forged request rides on credentials the browser attaches by itself: the session cookie, and Basic
    credentials it remembers. A bearer header is set by a script, which another origin cannot do without a
    CORS preflight this service never grants. So pages are always checked (their login form too, against login
    CSRF), and the API is checked only when the browser brought the session cookie and no bearer token that
    authenticates: a made-up ``Authorization`` header lifts nothing. An API call with neither is anonymous: its
    view answers 401, which a station or script can act on, not 400.
    """
    if request.method not in UNSAFE or request.endpoint in CSRF_EXEMPT or authenticated_by_bearer():
        return False
    if request.path.startswith("/api/"):
        return current_app.config["SESSION_COOKIE_NAME"] in request.cookies
    return True


def authenticated_by_bearer() -> bool:
    """Whether a bearer token proved who makes this request: a live person's token or a station's."""
    if bearer_token() is None:
        return False
    return current_user.is_authenticated or requesting_station() is not None


def refuse_anonymous() -> NoReturn:
    """Raise 401 for an API request that proves nobody, or 403 when it carries a genuine station token."""
    if requesting_station() is not None:
        raise Forbidden(_l("A station's token opens only that station's own routes."))
    raise Unauthenticated(_l("Log in, or send a valid token in the Authorization header."))


def signed_in_user() -> User:
    """The user making the request, or a 401/redirect (403 for a station)."""
    if not current_user.is_authenticated:
        refuse_anonymous()
    return current_user._get_current_object()


# The two guards below mark their views ``requires_person``: the API checks that before reading the body
# (``_who_before_what``), and its OpenAPI document says so (broadcast.web.api).


def role_required(*roles: Role):
    """Allow the view to the given roles (admins always), for API and pages alike."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            scope.require_role(current_user, *roles)
            return view(*args, **kwargs)

        wrapper.requires_person = True
        return wrapper

    return decorate


def login_required(view):
    """Allow the view to anyone signed in (cookie or personal token)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapper.requires_person = True
    return wrapper


def requesting_station() -> Station | None:
    """The station whose token authenticates this request, if any (cached for the request)."""
    if "station" not in g:
        token = bearer_token()
        g.station = stations.station_for_token(db(), token) if token and token.startswith("st_") else None
    return g.station


def require_station(code: str) -> Station:
    """The station ``code``, when the request carries that station's own token."""
    station = requesting_station()
    if station is None:
        raise Unauthenticated(_l("Send the station's token in the Authorization header."))
    if station.code != code:
        raise Forbidden(_l("A station's token reads only its own data."))
    return station
