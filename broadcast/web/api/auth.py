"""Logging in and out over the API (cookie session), and who am I."""

from __future__ import annotations

from flask_login import login_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from broadcast.errors import Unauthenticated
from broadcast.i18n import _l
from broadcast.services import users
from broadcast.web.api.schemas import LoginSchema, SessionSchema, UserSchema
from broadcast.web.auth import login_required, signed_in_user
from broadcast.web.context import db

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sessions")


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
@blp.doc(security=[])
def login(credentials):
    user = users.authenticate(db(), credentials["username"], credentials["password"])
    if user is None:
        raise Unauthenticated(_l("Wrong username or password."))
    login_user(user)
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
@blp.doc(security=[{"cookieAuth": []}])
def logout():
    logout_user()


@blp.route("/me")
@blp.response(200, UserSchema)
@login_required
def me():
    return signed_in_user()
