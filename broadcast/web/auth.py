"""Who is asking: a person logged in with a session cookie, a script with a user token, or a station.

Cookie-authenticated requests that change state must carry a CSRF token (form field or X-CSRFToken
header); bearer-token requests need none, since a browser never sends those on its own.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, flash, g, redirect, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from broadcast.db.models import Role, Station, User
from broadcast.errors import Forbidden, Unauthenticated
from broadcast.i18n import _l
from broadcast.services import scope, stations, users
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
        user = db().get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.request_loader
    def _from_token(_request) -> User | None:
        token = bearer_token()
        if token and token.startswith("ut_"):
            return users.user_for_token(db(), token)
        return None

    @login_manager.unauthorized_handler
    def _unauthorized():
        if request.path.startswith("/api/"):
            raise Unauthenticated(_l("Log in, or send a valid token in the Authorization header."))
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))

    @app.before_request
    def _csrf_for_cookies() -> None:
        if request.method in UNSAFE and bearer_token() is None and request.endpoint not in CSRF_EXEMPT:
            csrf.protect()


# Endpoints reachable without a session, where a CSRF token cannot exist yet.
CSRF_EXEMPT = {"auth.login"}


def signed_in_user() -> User:
    """The user making the request, or a 401/redirect."""
    if not current_user.is_authenticated:
        raise Unauthenticated(_l("Log in, or send a valid token in the Authorization header."))
    return current_user._get_current_object()


def role_required(*roles: Role):
    """Allow the view to the given roles (admins always), for API and pages alike."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            scope.require_role(current_user, *roles)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

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
