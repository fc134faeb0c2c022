"""Pages for people: log in, the dashboard of areas and stations, and the language switch."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from broadcast.db.models import Area
from broadcast.i18n import LOCALES, _, _l
from broadcast.services import area_overview, areas, scope, two_factor, users
from broadcast.web import login_throttle, sessions
from broadcast.web import two_factor as web_two_factor
from broadcast.web.auth import login_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.helpers import status_label
from broadcast.web.time import utc_now
from broadcast.web.ui_stations import ago

bp = Blueprint("ui", __name__)

PAGE_SIZE = 50  # stations per page: a province has thousands


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
            login_throttle.admit(form.username.data)
        except login_throttle.LoginThrottled as throttled:
            form.password.errors.append(str(throttled.message))
            return render_template("login.html", form=form), throttled.status, throttled.headers
        user = users.authenticate(db(), form.username.data, form.password.data)
        if user is not None:
            login_throttle.succeeded(form.username.data)
            if two_factor.is_enrolled(user):  # no session before the code (broadcast.web.two_factor)
                return web_two_factor.ask_for_code(user, _safe_next(request.args.get("next")))
            return web_two_factor.begin_password_session(user, _safe_next(request.args.get("next")))
        form.password.errors.append(_("Wrong username or password."))
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        person = current_user._get_current_object()
        users.end_sessions(db(), person, actor=person, reason="logout")
    sessions.forget()
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
    """The selected area (default: the user's whole scope): station states and delivery, per child area, and a
    page of its stations, those needing someone first."""
    user = signed_in_user()
    session = db()
    area = areas.get_area(session, request.args.get("area", type=int)) if request.args.get("area") else None
    if area is not None:
        scope.require_area(user, area)
    status = request.args.get("status")
    status = status if status in area_overview.STATUS_FILTERS else None
    now, silence = utc_now(), timedelta(seconds=settings().station_offline_after_s)
    figures = area_overview.overview(session, user, area, _children(user, area), now=now, silence=silence)
    pages = max(-(-figures.area.matching(status) // PAGE_SIZE), 1)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = area_overview.station_page(session, user, area, status=status, now=now, silence=silence,
                                      limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)

    def page_url(number: int) -> str:
        return url_for(".dashboard", area=area and area.id, status=status, page=number if number > 1 else None,
                       _anchor="stations")

    return render_template(
        "dashboard.html", area=area, figures=figures.area, children=figures.children, rows=rows, status=status,
        page=page, pages=pages, page_url=page_url, now=now, breadcrumbs=_breadcrumbs(user, area),
    )


def _children(user, area: Area | None) -> list[Area]:
    """The next level down from ``area`` (or the top of the user's scope)."""
    if area is not None:
        query = select(Area).where(Area.parent_id == area.id)
    elif user.scope_area is not None:
        query = select(Area).where(Area.id == user.scope_area_id)
    else:
        query = select(Area).where(Area.parent_id.is_(None))
    return list(db().scalars(query.order_by(Area.structure.desc(), Area.code)))


@bp.context_processor
def _helpers():
    return {"ago": ago, "status_filter_label": status_filter_label}


def status_filter_label(status: str) -> str:
    return _("Offline or never connected") if status == "silent" else status_label(status)


def _breadcrumbs(user, area: Area | None) -> list[Area]:
    trail = []
    while area is not None and scope.covers(user, area):
        trail.append(area)
        area = area.parent
    return list(reversed(trail))
