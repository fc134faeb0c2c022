"""Slots, placements, compiled playlists and their exports (M3U8, iCalendar)."""

from __future__ import annotations

from datetime import date

from flask import Response, request, url_for
from flask_smorest import Blueprint

from broadcast.db.models import Level, Role
from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from broadcast.services import areas, compiler, placements, placing, scheduling, slots, stations
from broadcast.services.exports import (
    area_calendar,
    audio_link_expiry,
    audio_link_signature,
    day_m3u8,
    station_day,
)
from broadcast.web.api.schedule_schemas import (
    CompileReportSchema,
    PlacementCreateSchema,
    PlacementResultSchema,
    PlacementUpdateSchema,
    PriorityOrderSchema,
    SlotCreateSchema,
    SlotExceptionSchema,
    SlotQuerySchema,
    SlotSchema,
    SlotUpdateSchema,
)
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import local_today, utc_now

blp = Blueprint("schedule", __name__, url_prefix="/api/v1", description="Air-time slots and placements")


def _report(report: compiler.CompileReport | None) -> dict:
    if report is None:
        return {"compiled": False, "stations": 0, "problems": []}
    return {"compiled": True, "stations": report.stations,
            "problems": [{"kind": s.kind, "severity": s.severity, "slot_time": s.slot_time,
                          "stations": len(s.stations), "text": s.text_vi, "text_en": s.text_en}
                         for s in report.summaries()]}


def _answer(answer: placing.PlacementAnswer) -> dict:
    return {"placement": answer.placement, "compile": _report(answer.report), "airing": {
        "first": answer.first_airing.isoformat() if answer.first_airing else None,
        "days": [d.isoformat() for d in answer.days],
        "days_without_session": [d.isoformat() for d in answer.days_without_session],
        "locked": [m.isoformat() for m in answer.locked],
        "notes": [{"kind": n.kind, "severity": n.severity, "text": n.text_vi, "text_en": n.text_en}
                  for n in answer.notes]}}


@blp.route("/slots")
@blp.arguments(SlotQuerySchema, location="query")
@blp.response(200, SlotSchema(many=True))
@login_required
def list_slots(args):
    """Slots that apply at an area or a station: inherited from above and its own; for an area or station in
    your scope, or an area above it."""
    if "station" in args:
        return slots.inherited_slots(db(), station=stations.get_station(db(), args["station"], signed_in_user()))
    area = areas.find_area(db(), args["area"]) if "area" in args else signed_in_user().scope_area
    if area is None:
        raise InvalidInput(_l("Say which area or station."), field="area")
    slots.require_readable(signed_in_user(), area)
    return slots.inherited_slots(db(), area=area)


@blp.route("/slots", methods=["POST"])
@blp.arguments(SlotCreateSchema)
@blp.response(201, SlotSchema)
@role_required(Role.EDITOR, Role.OPERATOR)
def create_slot(data):
    user = signed_in_user()
    area_code, station_code = data.pop("area", None), data.pop("station", None)
    area = areas.find_area(db(), area_code) if area_code else None
    station = stations.get_station(db(), station_code, user) if station_code else None
    spec = slots.SlotSpec(policy=data.pop("overflow_policy"), **data)
    slot = slots.create_slot(
        db(), user, spec, area=area, station=station,
        check_overlaps=lambda session, s: scheduling.check_overlaps(session, s, settings(), today=local_today()))
    scheduling.after_change(db(), settings(), scheduling.slot_stations(db(), slot), now=utc_now())
    return slot


@blp.route("/slots/<int:slot_id>/exceptions", methods=["POST"])
@blp.arguments(SlotExceptionSchema)
@blp.response(200, SlotSchema)
@role_required(Role.EDITOR, Role.OPERATOR)
def slot_exception(data, slot_id: int):
    """Cancel one day (a holiday), restore it, or add a one-off extra session."""
    user = signed_in_user()
    slot = slots.get_slot(db(), user, slot_id)
    slots.set_exception(db(), user, slot, **data,
                        check_overlaps=lambda s, x: scheduling.check_overlaps(s, x, settings(), today=local_today()))
    scheduling.after_change(db(), settings(), scheduling.slot_stations(db(), slot), now=utc_now())
    return slot


@blp.route("/slots/<int:slot_id>", methods=["PATCH"])
@blp.arguments(SlotUpdateSchema)
@blp.response(200, SlotSchema)
@role_required(Role.EDITOR, Role.OPERATOR)
def update_slot(data, slot_id: int):
    """Change a slot in place (name, time, length, recurrence, end, policy, gap, filler); recompiled at once."""
    user = signed_in_user()
    slot = slots.get_slot(db(), user, slot_id)
    before = scheduling.slot_stations(db(), slot)
    slots.update_slot(db(), user, slot, data,
                      check_overlaps=lambda s, x: scheduling.check_overlaps(s, x, settings(), today=local_today()))
    scheduling.after_change(db(), settings(), before | scheduling.slot_stations(db(), slot), now=utc_now())
    return slot


@blp.route("/slots/<int:slot_id>", methods=["DELETE"])
@blp.response(204)
@role_required(Role.EDITOR, Role.OPERATOR)
def delete_slot(slot_id: int):
    user = signed_in_user()
    slot = slots.get_slot(db(), user, slot_id)
    affected = scheduling.slot_stations(db(), slot)
    slots.delete_slot(db(), user, slot)
    scheduling.after_change(db(), settings(), affected, now=utc_now())


@blp.route("/placements", methods=["POST"])
@blp.arguments(PlacementCreateSchema)
@blp.response(201, PlacementResultSchema)
@role_required(Role.EDITOR, Role.OPERATOR)
def create_placement(data):
    """Place an item; the answer says when it airs, what it cannot reach and what gave way, and carries the fit
    problems of the stations it reaches (compiled at once). Refused (nothing written) when it would never air or
    would overflow a slot that rejects overflow: 409 with the fit report in ``details``."""
    answer = placing.place(db(), settings(), signed_in_user(), placements.PlacementSpec(**data),
                           today=local_today(), now=utc_now())
    return _answer(answer)


@blp.route("/placements/<int:placement_id>", methods=["PATCH"])
@blp.arguments(PlacementUpdateSchema)
@blp.response(200, PlacementResultSchema)
@role_required(Role.EDITOR, Role.OPERATOR)
def update_placement(data, placement_id: int):
    """Change dates, weekdays, repeats, position or priority in place; the answer carries the new fit report."""
    placement = placements.get_placement(db(), signed_in_user(), placement_id)
    answer = placing.change(db(), settings(), signed_in_user(), placement, data, today=local_today(), now=utc_now())
    return _answer(answer)


@blp.route("/placements/<int:placement_id>", methods=["DELETE"])
@blp.response(204)
@role_required(Role.EDITOR, Role.OPERATOR)
def delete_placement(placement_id: int):
    placement = placements.get_placement(db(), signed_in_user(), placement_id)
    affected = scheduling.placement_stations(db(), placement)
    placements.delete_placement(db(), signed_in_user(), placement)
    scheduling.after_change(db(), settings(), affected, now=utc_now())


@blp.route("/priority-orders", methods=["PUT"])
@blp.arguments(PriorityOrderSchema)
@blp.response(200, CompileReportSchema)
@role_required(Role.OPERATOR, Role.EDITOR)
def set_priority_order(data):
    """The commune operator's order for clashing priority items in their commune."""
    commune = areas.find_area(db(), data["commune"], level=Level.COMMUNE)
    placements.set_priority_order(db(), signed_in_user(), commune, data["placement_ids"])
    return _report(scheduling.after_change(db(), settings(), compiler.stations_under(db(), area_ids=[commune.id]),
                                           now=utc_now()))


@blp.route("/compile", methods=["POST"])
@blp.response(200, CompileReportSchema)
@role_required(Role.EDITOR)
def compile_now():
    """Compile every station in the caller's area now (the scheduler also does this nightly)."""
    user = signed_in_user()
    ids = [s.id for s in stations.list_stations(db(), user)]
    return _report(compiler.compile_stations(db(), settings(), now=utc_now(), station_ids=ids))


@blp.route("/stations/<code>/playlists/<day>")
@login_required
def playlist_json(code: str, day: str):
    """One station's compiled day: entries with local start times, audio, and the problems found."""
    station = stations.get_station(db(), code, signed_in_user())
    return station_day(db(), station, _day(day))


@blp.route("/stations/<code>/playlists/<day>.m3u8")
@login_required
def playlist_m3u8(code: str, day: str):
    """One station's compiled day as an extended M3U playlist (also a VOD HLS one) that players play from the top.

    Each entry's audio is an absolute link (under ``PUBLIC_URL``, else this request's address) to
    ``/api/v1/audio/<sha256>.mp3``, signed for that one file for about a week: the player that opens the saved
    playlist has no login to send.
    """
    station = stations.get_station(db(), code, signed_in_user())
    expires = audio_link_expiry(utc_now())

    def link(audio) -> str:
        signature = audio_link_signature(settings().secret_key, audio.sha256, expires)
        return _absolute(url_for("station_sync.audio_mp3", sha256=audio.sha256, expires=expires,
                                 signature=signature))

    response = Response(day_m3u8(db(), station, _day(day), link), content_type="audio/x-mpegurl; charset=utf-8")
    response.cache_control.private = True  # its links open audio without a login: not for shared caches
    return response


def _absolute(path: str) -> str:
    """``path`` (as url_for gives it) as an absolute URL: under PUBLIC_URL when set, else this request's root."""
    root = settings().public_url or request.url_root.rstrip("/")
    return root + path.removeprefix(request.script_root)


@blp.route("/areas/<code>/schedule.ics")
@login_required
def area_ics(code: str):
    """The area's slots (its own and inherited) as an iCalendar feed; for an area in your scope or above it."""
    area = areas.find_area(db(), code)
    slots.require_readable(signed_in_user(), area)
    # content_type, not mimetype: Flask adds "; charset=utf-8" to a text/* mimetype a second time.
    return Response(area_calendar(db(), area, settings().timezone), content_type="text/calendar; charset=utf-8")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_l("Write the day as YYYY-MM-DD."), field="day") from None

