"""Compiled schedules for people and other programs: a station's day as JSON or M3U8, an area as iCalendar."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, Playlist, Station, StationManifest
from broadcast.errors import NotFound
from broadcast.i18n import _l
from broadcast.services import slots
from schedules.calendar_export import CalendarSlot, to_ical
from stations import manifest as wire


def _latest(session: Session, station: Station, day: date) -> Playlist:
    playlist = session.scalar(select(Playlist).where(Playlist.station_id == station.id, Playlist.day == day)
                              .order_by(Playlist.version.desc()).limit(1))
    if playlist is None:
        raise NotFound(_l("No playlist has been compiled for %(station)s on %(day)s.", station=station.code,
                          day=day.strftime("%d/%m/%Y")))
    return playlist


def station_day(session: Session, station: Station, day: date) -> dict:
    """The compiled day as stored, with its version and fingerprint."""
    playlist = _latest(session, station, day)
    return {"station": station.code, "day": day.isoformat(), "version": playlist.version, "etag": playlist.etag,
            "compiled_at": playlist.compiled_at.isoformat(), **{k: v for k, v in playlist.content.items()
                                                                 if k in ("zone", "occurrences")}}


def day_m3u8(session: Session, station: Station, day: date) -> str:
    stored = session.get(StationManifest, station.id)
    if stored is None:
        raise NotFound(_l("No playlist has been compiled for %(station)s on %(day)s.", station=station.code,
                          day=day.strftime("%d/%m/%Y")))
    manifest = wire.from_json(stored.body.encode())
    if day not in {d.date for d in manifest.days}:
        raise NotFound(_l("No playlist has been compiled for %(station)s on %(day)s.", station=station.code,
                          day=day.strftime("%d/%m/%Y")))
    return wire.to_m3u8(manifest, day)


def area_calendar(session: Session, area: Area, zone_name: str) -> bytes:
    """The slots airing in ``area`` (inherited and its own) as one iCalendar."""
    zone = ZoneInfo(area.timezone or zone_name)
    events = []
    for slot in slots.inherited_slots(session, area=area):
        exceptions = slot.exceptions or {}
        start = datetime.combine(slot.valid_from, slot.start_time, zone)
        events.append(CalendarSlot(
            uid=f"slot-{slot.id}@commune-radio", summary=slot.name,
            description=f"{slot.area.name if slot.area else ''} · {slot.duration_s // 60} min",
            start=start, duration_s=slot.duration_s,
            rrule=slot.rrule + (f";UNTIL={slot.valid_until.strftime('%Y%m%d')}T235959" if slot.valid_until
                                and "UNTIL" not in slot.rrule and "COUNT" not in slot.rrule else ""),
            exdates=tuple(datetime.combine(date.fromisoformat(d), slot.start_time, zone)
                          for d in exceptions.get("cancelled", [])),
            rdates=tuple(datetime.fromisoformat(e).replace(tzinfo=zone) for e in exceptions.get("extra", []))))
    return to_ical(area.name, zone.key, events)
