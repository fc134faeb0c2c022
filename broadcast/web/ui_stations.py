"""Operator pages: a station's state, its day (planned, reported, confirmed) and the delivery status table.

Server-rendered and usable without JavaScript; times are shown in the service's zone. The JSON equivalents
live in broadcast.web.api.airing and broadcast.web.api.deliveries.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_date, format_timedelta
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from broadcast import formats
from broadcast.db.models import CommandKind, ConfirmationStatus, Role, Station, StationCommand, User
from broadcast.errors import InvalidInput, NotFound
from broadcast.i18n import _, _l, format_datetime
from broadcast.services import (
    area_outlines,
    areas,
    asrun,
    commands,
    deliveries,
    remote_control,
    scope,
    slots,
    station_map,
    stations,
)
from broadcast.web.agent_replies import agent_reply
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.relay_words import relay_reason
from broadcast.web.security_headers import PAGE_POLICY
from broadcast.web.time import local_today, utc_now

bp = Blueprint("stations_ui", __name__)

CONFIRMERS = (Role.OPERATOR, Role.EDITOR)  # admins always; approvers read only
COMMANDERS = (Role.OPERATOR, Role.EDITOR)  # as the API's POST /stations/<code>/commands
REMOTE_KINDS = (CommandKind.PLAY_NOW, CommandKind.STOP, CommandKind.SET_VOLUME)
LIVE_STATES = ("pending", "delivered")  # the remote control's list refreshes itself while one is in these
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


class RemoteForm(FlaskForm):
    """One of the remote control's buttons: play an item now, stop, or set the volume."""

    kind = StringField(validators=[InputRequired(), AnyOf([k.value for k in REMOTE_KINDS])])
    item_id = IntegerField(_l("Bulletin to play"), validators=[Optional()])
    volume = IntegerField(_l("Volume (0–100)"), validators=[Optional(), NumberRange(
        min=0, max=100, message=_l("The volume is a whole number from 0 to 100."))])


def may_command(user: User) -> bool:
    return scope.has_role(user, *COMMANDERS)


@bp.route("/stations/<code>")
@login_required
def station(code: str):
    user = signed_in_user()
    found = stations.get_station(db(), code, user)
    status = next((s for s in _delivery_status(user, area=found.commune) if s.code == found.code), None)
    today = local_today()
    allowed = may_command(user)
    return render_template("stations/station.html", station=found, delivery=status, today=today,
                           tomorrow=today + timedelta(days=1), now=utc_now(), may_command=allowed,
                           playable=remote_control.playable_items(db(), user, found) if allowed else [],
                           **_command_list(user, found))


def _command_list(user: User, found: Station) -> dict:
    recent = commands.recent(db(), user, found, limit=8)
    shas = {c.args.get("sha256") for c in recent if c.kind is CommandKind.PLAY_NOW and c.args.get("sha256")}
    return {"recent_commands": recent, "played_titles": remote_control.titles_by_sha(db(), shas),
            "commands_live": any(c.state.value in LIVE_STATES for c in recent)}


@bp.route("/stations/<code>/commands")
@login_required
def command_list(code: str):
    """The remote control's list of recent commands alone, for its script to refresh the station page."""
    user = signed_in_user()
    found = stations.get_station(db(), code, user)
    return render_template("stations/commands.html", station=found, now=utc_now(), **_command_list(user, found))


@bp.route("/stations/<code>/commands", methods=["POST"])
@role_required(*COMMANDERS)
def issue_command(code: str):
    """Play now, stop or set the volume from the station page; back to the page with a message either way."""
    from broadcast.web.api.airing import wake  # the API's own route does the same: one way to send commands

    user = signed_in_user()
    found = stations.get_station(db(), code, user)
    form = RemoteForm()
    back = redirect(url_for(".station", code=found.code, _anchor="remote-h"))
    if not form.validate_on_submit():
        errors = [str(e) for field in (form.volume, form.item_id) for e in field.errors]
        if "csrf_token" in form.errors:
            errors = [_("The form expired; try again.")]
        flash(errors[0] if errors else _("Choose play now, stop or a volume."), "error")
        return back
    kind = CommandKind(form.kind.data)
    try:
        if kind is CommandKind.PLAY_NOW:
            item = remote_control.playable_item(db(), user, found, form.item_id.data)
            args, what = {"sha256": item.audio_asset.sha256}, _("play “%(title)s” now", title=item.title)
        elif kind is CommandKind.SET_VOLUME:
            if form.volume.data is None:
                raise InvalidInput(_l("The volume is a whole number from 0 to 100."), field="volume")
            args, what = {"volume": form.volume.data}, _("set the volume to %(volume)s", volume=form.volume.data)
        else:
            args, what = {}, _("stop")
        command = commands.issue(db(), user, found, kind, args, utc_now())
    except InvalidInput as error:
        db().rollback()
        flash(str(error.message), "error")
        return back
    wake(found, command)
    flash(_("Command sent to the station: %(what)s. Its state is shown below.", what=what), "info")
    return back


def command_label(command: StationCommand, titles: dict[str, str]) -> str:
    """What a command asked, in words."""
    kind, args = command.kind, command.args or {}
    if kind is CommandKind.PLAY_NOW:
        title = titles.get(args.get("sha256", ""))
        return _("Play now: %(title)s", title=title) if title else _("Play it now")
    if kind is CommandKind.SET_VOLUME:
        return _("Volume %(volume)s", volume=args.get("volume", "—"))
    if kind is CommandKind.PLAY_STREAM:
        return _("Live: %(title)s", title=args.get("title") or args.get("url", ""))
    return {CommandKind.STOP: _("Stop playing"), CommandKind.EMERGENCY: _("Emergency: air it"),
            CommandKind.CANCEL_EMERGENCY: _("Emergency: cancel it")}.get(kind, kind.value)


def command_state_label(state) -> str:
    value = getattr(state, "value", state)
    labels = {"pending": _("Waiting for the station"), "delivered": _("Delivered to the station"),
              "done": _("Carried out"), "failed": _("Failed"), "expired": _("Expired: not fetched in time"),
              "held": _("Held for approval")}
    return labels.get(value, value)


@bp.route("/map")
@login_required
def map_page():
    """The stations of the user's area on a map, coloured by state; a plain list too (without JavaScript)."""
    from broadcast.web.api.station_map import map_data

    data = map_data()
    stations_found = [f["properties"] for f in data["features"] if f["properties"]["kind"] == "station"]
    outlines = Counter(f["properties"]["outline"] for f in data["features"] if f["properties"]["kind"] == "commune")
    response = make_response(render_template(
        "stations/map.html", data=data, stations_found=stations_found, states=station_map.STATES,
        imported=outlines["imported"], estimated=outlines["estimated"],
        may_import=scope.has_role(signed_in_user(), *area_outlines.IMPORTERS)))
    tiles = tile_origin(settings().map_tile_url)
    if tiles:  # the page's policy lets images come from the tile server too, and nothing else from it
        response.headers["Content-Security-Policy"] = PAGE_POLICY.replace(
            "img-src 'self' data:", f"img-src 'self' data: {tiles}")
    return response


def tile_origin(url: str) -> str:
    """The scheme and host of a tile URL template (``{s}`` subdomains allowed as a wildcard)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def map_state_label(state: str) -> str:
    return {"online": _("Online"), "playing": _("Playing"), "offline": _("Offline"), "unknown": _("Never heard from"),
            "behind": _("Behind (an old playlist)")}.get(state, state)


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
    """``m:ss`` (or ``h:mm:ss``), as people read a programme's length in a table (broadcast.formats)."""
    return formats.clock_length(seconds)


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
            "ago": ago, "anchor": anchor, "entry_title": entry_title, "overrun_s": overrun_s,
            "command_label": command_label, "command_state_label": command_state_label,
            "map_state_label": map_state_label, "agent_reply": agent_reply,
            "remote_kinds": [k.value for k in REMOTE_KINDS],
            "relay_reason": relay_reason}
