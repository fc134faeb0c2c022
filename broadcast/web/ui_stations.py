"""Operator pages: a station's state, its day (planned, reported, confirmed) and the delivery status table.

Server-rendered and usable without JavaScript; times are shown in the service's zone. The JSON equivalents
live in broadcast.web.api.airing and broadcast.web.api.deliveries.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_timedelta
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from broadcast.db.models import ConfirmationStatus, Role, Station, User
from broadcast.errors import InvalidInput, NotFound
from broadcast.i18n import _, _l, format_datetime
from broadcast.services import areas, asrun, deliveries, scope, slots, stations
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import local_today, utc_now

bp = Blueprint("stations_ui", __name__)

CONFIRMERS = (Role.OPERATOR, Role.EDITOR)  # admins always; approvers read only
CHOOSE = _l("Choose “Aired” or “Not aired”.")


class ConfirmForm(FlaskForm):
    occurrence_key = HiddenField(validators=[DataRequired(message=_l("Choose a session to confirm."))])
    # Radio buttons drawn by the template (one group per session); checked here against the two values.
    status = StringField(_l("What aired"), validators=[
        InputRequired(message=CHOOSE), AnyOf([s.value for s in ConfirmationStatus], message=CHOOSE)])
    reason = TextAreaField(_l("Reason"), validators=[
        Length(max=500, message=_l("Keep the reason under %(max)d characters."))])


def _parse_day(day: str) -> date:
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(_l("Give the day as YYYY-MM-DD."), field="day") from None


def _delivery_status(user: User, **kwargs) -> list[deliveries.StationDelivery]:
    return deliveries.delivery_status(db(), user, now=utc_now(), zone=settings().zone,
                                      silence=timedelta(seconds=settings().station_offline_after_s), **kwargs)


def may_confirm(user: User) -> bool:
    return scope.has_role(user, *CONFIRMERS)


def anchor(key: str) -> str:
    """An HTML id for an occurrence key such as ``12@2026-11-29T06:00:00``."""
    return "s-" + re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-")


@bp.route("/stations/<code>")
@login_required
def station(code: str):
    user = signed_in_user()
    found = stations.get_station(db(), code, user)
    status = next((s for s in _delivery_status(user, area=found.commune) if s.code == found.code), None)
    today = local_today()
    return render_template("stations/station.html", station=found, delivery=status, today=today,
                           tomorrow=today + timedelta(days=1), now=utc_now())


@bp.route("/stations/<code>/days/<day>")
@login_required
def station_day(code: str, day: str):
    user = signed_in_user()
    wanted = _parse_day(day)
    return _render_day(user, stations.get_station(db(), code, user), wanted, ConfirmForm(formdata=None))


@bp.route("/stations/<code>/days/<day>", methods=["POST"])
@role_required(*CONFIRMERS)
def confirm(code: str, day: str):
    """Confirm one session from the day page: aired, or not aired and why; back to the page with a message."""
    user = signed_in_user()
    wanted = _parse_day(day)
    found = stations.get_station(db(), code, user)
    form = ConfirmForm()
    if form.validate_on_submit():
        status = ConfirmationStatus(form.status.data)
        try:
            asrun.confirm(db(), user, found, form.occurrence_key.data, status, form.reason.data, utc_now())
        except InvalidInput as error:
            db().rollback()
            getattr(form, error.field or "", form.occurrence_key).errors.append(str(error.message))
        else:
            flash(_("Confirmation saved: aired.") if status is ConfirmationStatus.AIRED
                  else _("Confirmation saved: not aired."), "info")
            return redirect(url_for(".station_day", code=found.code, day=wanted.isoformat(),
                                    _anchor=anchor(form.occurrence_key.data)))
    return _render_day(user, found, wanted, form), 422


def _render_day(user: User, found: Station, day: date, form: ConfirmForm):
    now = utc_now()
    view = asrun.station_day(db(), user, found, day, now, settings().zone)
    return render_template("stations/day.html", station=found, view=view, day=day, now=now, form=form,
                           slot_names=slot_names(user, {o.slot_id for o in view.occurrences}),
                           may_confirm=may_confirm(user), today=local_today(),
                           previous=day - timedelta(days=1), following=day + timedelta(days=1))


def slot_names(user: User, slot_ids: set[int | None]) -> dict[int, str]:
    """The names of the slots the user may read; a slot of another area reaching a station is left out."""
    names = {}
    for slot_id in slot_ids - {None}:
        try:
            names[slot_id] = slots.get_slot(db(), user, slot_id).name
        except NotFound:
            pass  # its times say enough
    return names


@bp.route("/deliveries")
@login_required
def delivery_table():
    """Every station in scope (or in ``area``); only those needing attention, behind or up to date on request."""
    user = signed_in_user()
    attention = request.args.get("attention") in ("1", "true", "on")
    version = request.args.get("version") if request.args.get("version") in ("behind", "current") else None
    area = areas.get_area(db(), request.args.get("area", type=int)) if request.args.get("area") else None
    rows = _delivery_status(user, area=area, attention_only=attention,
                            behind=None if version is None else version == "behind")
    return render_template("stations/deliveries.html", rows=rows, attention=attention, version=version, area=area,
                           now=utc_now())


def entry_title(occurrence: asrun.OccurrenceView, event) -> str:
    """The planned title of what a reported event played (its entry id is ``<key>#<index>``)."""
    key, _hash, index = (event.entry_id or "").rpartition("#")
    if key == occurrence.key and index.isdigit() and int(index) < len(occurrence.entries):
        return occurrence.entries[int(index)]["title"] or ""
    for entry in occurrence.entries:
        if event.item_id is not None and entry["item_id"] == event.item_id:
            return entry["title"] or ""
    return ""


def airing_label(state: str) -> str:
    labels = {"aired": _("Aired"), "partial": _("Partly aired"), "missed": _("Missed"),
              "upcoming": _("Upcoming"), "awaiting_report": _("Awaiting report"),
              asrun.EMPTY: _("Nothing to air"), asrun.BEFORE_STATION: _("Before the station was added")}
    return labels.get(state, state)


def outcome_label(outcome) -> str:
    value = getattr(outcome, "value", outcome)
    return {"played": _("Played"), "skipped": _("Skipped"), "failed": _("Failed")}.get(value, value)


def confirmation_label(status) -> str:
    value = getattr(status, "value", status)
    return {"aired": _("Aired"), "not_aired": _("Not aired")}.get(value, value)


def channel_state_label(state: str) -> str:
    labels = {"queued": _("Queued"), "sent": _("Sent"), "verified": _("Installed"), "failed": _("Failed"),
              "superseded": _("Superseded")}
    return labels.get(state, state)


def clock(moment: datetime | str | None, seconds: bool = False) -> str:
    """Local wall-clock time of a moment (stored, or ISO text from a compiled playlist)."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return format_datetime(moment, "HH:mm:ss" if seconds else "HH:mm")


def overrun_s(end: datetime | str, entries: list[dict]) -> float:
    """How long a session's entries run past its end, in seconds (0 when they end in time).

    The compiler keeps a rejecting slot within its end, but a day frozen by the showlock before that, or an
    emergency longer than what it interrupts, can still run over: operators must see it, not only a total.
    """
    if isinstance(end, str):
        end = datetime.fromisoformat(end)
    ends = [datetime.fromisoformat(e["end"]) if isinstance(e["end"], str) else e["end"] for e in entries]
    return max(0.0, (max(ends) - end).total_seconds()) if ends else 0.0


def long_day(day: date) -> str:
    """A day with its weekday, as people write it ("Chủ Nhật, 29/11/2026")."""
    return format_date(day, "EEEE, dd/MM/yyyy")


def duration(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss``), as people read a programme's length."""
    total = round(seconds or 0)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def ago(moment: datetime | None, now: datetime) -> str:
    """How long ago, in words ("5 phút trước")."""
    if moment is None:
        return ""
    if now - moment < timedelta(minutes=1):
        return _("just now")
    return format_timedelta(moment - now, granularity="minute", add_direction=True, threshold=1)


@bp.context_processor
def _helpers():
    return {"airing_label": airing_label, "outcome_label": outcome_label, "confirmation_label": confirmation_label,
            "channel_state_label": channel_state_label, "clock": clock, "duration": duration, "long_day": long_day,
            "ago": ago, "anchor": anchor, "entry_title": entry_title, "overrun_s": overrun_s}
