"""Compiled schedules for people and other programs: a station's day as JSON or M3U8 (with signed links to its
audio, which players fetch without a login), an area as iCalendar."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
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


def latest_days(session: Session, stations: list[Station], days: list[date]) -> dict[tuple[int, date], Playlist]:
    """The newest compiled version of each station's ``days``, in one query: ``{(station id, day): playlist}``."""
    ids = [s.id for s in stations]
    if not ids or not days:
        return {}
    newest = (select(Playlist.station_id, Playlist.day, func.max(Playlist.version).label("version"))
              .where(Playlist.station_id.in_(ids), Playlist.day.in_(days))
              .group_by(Playlist.station_id, Playlist.day).subquery())
    rows = session.scalars(select(Playlist).join(newest, (Playlist.station_id == newest.c.station_id)
                                                 & (Playlist.day == newest.c.day)
                                                 & (Playlist.version == newest.c.version)))
    return {(p.station_id, p.day): p for p in rows}


def same_days(stations: list[Station], days: list[date], stored: dict[tuple[int, date], Playlist]
              ) -> dict[tuple[int, date], str]:
    """Days equal to an earlier station's day (most stations of a commune share them): ``{(station id, day):
    the code of the first station with that day}``, so a page lists each playlist once."""
    first: dict[tuple[date, str], str] = {}
    same = {}
    for station in stations:
        for day in days:
            playlist = stored.get((station.id, day))
            if playlist is None:
                continue
            body = json.dumps({k: v for k, v in playlist.content.items() if k != "station"}, sort_keys=True)
            if (day, body) in first:
                same[(station.id, day)] = first[(day, body)]
            else:
                first[(day, body)] = station.code
    return same


def names_audio(session: Session, station: Station, sha256: str) -> bool:
    """Whether the station's current manifest plays the audio ``sha256`` (the rule of the station's own fetches)."""
    stored = session.get(StationManifest, station.id)
    if stored is None or sha256 not in stored.body:  # a substring test turns strangers away before parsing
        return False
    return any(audio["sha256"] == sha256 for day in json.loads(stored.body)["days"]
               for entry in day["entries"] for audio in wire.entry_audio(entry))


def day_m3u8(session: Session, station: Station, day: date, audio_url: Callable[[wire.AudioFile], str]) -> str:
    """The station's current manifest's ``day`` as an M3U playlist, each entry's audio at ``audio_url(audio)``."""
    stored = session.get(StationManifest, station.id)
    if stored is None:
        raise NotFound(_l("No playlist has been compiled for %(station)s on %(day)s.", station=station.code,
                          day=day.strftime("%d/%m/%Y")))
    manifest = wire.from_json(stored.body.encode())
    if day not in {d.date for d in manifest.days}:
        raise NotFound(_l("No playlist has been compiled for %(station)s on %(day)s.", station=station.code,
                          day=day.strftime("%d/%m/%Y")))
    return wire.to_m3u8(manifest, day, audio_url=audio_url)


# Links to audio in a playlist for people: a player fetches them with no login, so each carries its own proof.
AUDIO_LINK_S = 8 * 24 * 3600  # the week of days compiled ahead, and a day to spare
_LINK_ROUND_S = 3600


def audio_link_expiry(now: datetime) -> int:
    """When an audio link made ``now`` stops working (POSIX seconds), rounded up to the hour so that a playlist
    fetched again within the hour reads the same."""
    return -(-int(now.timestamp() + AUDIO_LINK_S) // _LINK_ROUND_S) * _LINK_ROUND_S


def audio_link_signature(secret_key: str, sha256: str, expires: int) -> str:
    """The proof that this service made a link to the audio ``sha256`` good until ``expires`` (HMAC-SHA256 under
    the service's secret key, 128 bits in hex). It opens that one file only, until then only."""
    message = f"audio-link:{sha256}:{expires}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def audio_link_valid(secret_key: str, sha256: str, expires: str, signature: str, now: datetime) -> bool:
    """Whether ``expires`` and ``signature`` (as a link carries them) open the audio ``sha256`` at ``now``."""
    if not (expires.isascii() and expires.isdigit() and len(expires) <= 12) or int(expires) <= now.timestamp():
        return False
    # As bytes: compare_digest refuses str with anything but ASCII, and a link's query may hold anything.
    return hmac.compare_digest(audio_link_signature(secret_key, sha256, int(expires)).encode(), signature.encode())


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
