"""Pages for people: log in, the dashboard of areas and stations, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from broadcast.db.models import Area, Station
from broadcast.i18n import LOCALES, _, _l
from broadcast.services import areas, scope, stations, users
from broadcast.web.auth import login_required, signed_in_user
from broadcast.web.context import db

bp = Blueprint("ui", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(message=_l("Enter your username."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password."))])


def _safe_next(target: str | None) -> str:
    """Only local paths, so the login page cannot bounce people to another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("ui.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = users.authenticate(db(), form.username.data, form.password.data)
        except users.AccountLocked as locked:
            form.password.errors.append(str(locked.message))
            return render_template("login.html", form=form), locked.status
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Wrong username or password."))
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("ui.login"))


@bp.route("/lang/<code>")
def set_language(code: str):
    response = make_response(redirect(_safe_next(request.args.get("next") or request.referrer and
                                                 urlsplit(request.referrer).path)))
    if code in LOCALES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/")
@login_required
def dashboard():
    user = signed_in_user()
    session = db()
    area = areas.get_area(session, request.args.get("area", type=int)) if request.args.get("area") else None
    if area is not None:
        scope.require_area(user, area)
    root_areas = _children(user, area)
    station_list = stations.list_stations(session, user, area=area)
    return render_template(
        "dashboard.html", area=area, children=root_areas, stations=station_list,
        counts=stations.status_counts(session, user), breadcrumbs=_breadcrumbs(user, area),
    )


def _children(user, area: Area | None) -> list[tuple[Area, int]]:
    """The next level down from ``area`` (or the top of the user's scope), with station counts."""
    session = db()
    if area is not None:
        query = select(Area).where(Area.parent_id == area.id)
    elif user.scope_area is not None:
        query = select(Area).where(Area.id == user.scope_area_id)
    else:
        query = select(Area).where(Area.parent_id.is_(None))
    children = list(session.scalars(query.order_by(Area.structure.desc(), Area.code)))
    # One query for the commune paths of all stations below, counted per child by path prefix.
    station_paths = list(session.scalars(
        scope.limit_areas(user, select(Area.path).join(Station, Station.commune_id == Area.id))))
    return [(child, sum(p.startswith(child.path) for p in station_paths)) for child in children]


def _breadcrumbs(user, area: Area | None) -> list[Area]:
    trail = []
    while area is not None and scope.covers(user, area):
        trail.append(area)
        area = area.parent
    return list(reversed(trail))
