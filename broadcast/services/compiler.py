"""Compiling the coming days for stations: day playlists and the manifest each station receives.

A day gets a new version only when what airs changes (its fingerprint), and a station's manifest only
when one of its days does, so polls answer 304 and pushes send nothing while nothing changed. Stations
whose inputs are equal (most stations of a commune) are compiled once and share the result.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session, defer, joinedload

import schedules
from broadcast.channels import http_pull, mqtt
from broadcast.config import Settings
from broadcast.db.models import Area, Playlist, Station, StationManifest
from broadcast.services import deliveries
from broadcast.services.playlist_content import day_from_content, manifest_day
from broadcast.services.schedule_inputs import load_inputs
from stations import manifest as wire

log = logging.getLogger(__name__)


@dataclass
class CompileReport:
    stations: int = 0
    days_changed: int = 0
    manifests_changed: int = 0
    new_versions: dict[int, int] = field(default_factory=dict)  # station id -> its new manifest version
    nudges: list[tuple[str, int, str]] = field(default_factory=list)  # (station code, version, etag) to announce
    problems: dict[str, list[schedules.Problem]] = field(default_factory=dict)

    def summaries(self) -> list[schedules.ProblemSummary]:
        """Sentences such as "the 17:00 slot overflows at 12 stations by up to 2 min 10 s"."""
        return schedules.summarize_problems({k: v for k, v in self.problems.items() if v})


def station_zone(station: Station, settings: Settings) -> str:
    return station.timezone or station.commune.timezone or settings.timezone


def _latest_playlists(session: Session, station_ids: list[int], first: date, last: date
                      ) -> dict[tuple[int, date], Playlist]:
    newest = (select(Playlist.station_id, Playlist.day, func.max(Playlist.version).label("version"))
              .where(Playlist.station_id.in_(station_ids), Playlist.day >= first, Playlist.day <= last)
              .group_by(Playlist.station_id, Playlist.day).subquery())
    # The content is read only where the showlock needs it (defer): most compiles compare fingerprints only.
    rows = session.scalars(select(Playlist).options(defer(Playlist.content))
                           .join(newest, (Playlist.station_id == newest.c.station_id)
                                 & (Playlist.day == newest.c.day) & (Playlist.version == newest.c.version)))
    return {(p.station_id, p.day): p for p in rows}


def _shared_digest(content: dict) -> str:
    """The previous day's content without the station code, so equal stations still group together."""
    body = {k: v for k, v in content.items() if k != "station"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def compile_stations(session: Session, settings: Settings, *, now: datetime,
                     station_ids: Iterable[int] | None = None, days: int | None = None) -> CompileReport:
    """Compile ``days`` (default: the configured horizon) from today for the given stations (default: all)."""
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # the wire format carries milliseconds
    query = select(Station).where(Station.active).options(joinedload(Station.commune)).order_by(Station.id)
    if station_ids is not None:
        query = query.where(Station.id.in_(list(station_ids)))
    stations = list(session.scalars(query))
    report = CompileReport()
    if not stations:
        return report
    days = days or settings.schedule_days
    zones = {s.id: station_zone(s, settings) for s in stations}
    todays = {z: now.astimezone(ZoneInfo(z)).date() for z in set(zones.values())}
    first, last = min(todays.values()), max(todays.values()) + timedelta(days=days - 1)
    inputs = load_inputs(session, stations, first, last)
    latest = _latest_playlists(session, [s.id for s in stations], first, last)
    manifests = {m.station_id: m for m in session.scalars(
        select(StationManifest).where(StationManifest.station_id.in_([s.id for s in stations])))}
    showlock = timedelta(minutes=settings.showlock_minutes)
    shared: dict[tuple, tuple[list[schedules.DayPlaylist], list[dict], wire.Manifest | None]] = {}
    writes = _Writes()
    for station in stations:
        zone = zones[station.id]
        tz = ZoneInfo(zone)
        today = todays[zone]
        day_to = today + timedelta(days=days - 1)
        station_inputs = inputs.for_station(station)
        slots = schedules.effective_slots(station_inputs.chain)
        previous = _previous_days(latest, station.id, slots, today, tz, now, showlock)
        key = (zone, today, day_to, station_inputs.group_key(),
               tuple(sorted((d, _shared_digest(latest[(station.id, d)].content)) for d in previous)))
        if key not in shared:
            compiled = schedules.compile_days(
                station.code, today, day_to, tz, slots, station_inputs.placements, now=now, showlock=showlock,
                previous=previous, aliases=schedules.slot_aliases(station_inputs.chain))
            shared[key] = (compiled, [schedules.canonical_content(day) for day in compiled], None)
        compiled, contents, template = shared[key]
        changed_days, versions = _store_days(writes, station, compiled, contents, latest, now)
        report.days_changed += changed_days
        template = _store_manifest(writes, station, zone, compiled, versions, manifests.get(station.id), template,
                                   now, report)
        shared[key] = (compiled, contents, template)
        report.problems[station.code] = [p for day in compiled for p in day.problems]
        report.stations += 1
    writes.flush(session)
    deliveries.queue_pushes(session, report.new_versions, now)
    session.commit()
    if report.manifests_changed:
        _announce(settings, report)
    log.info("compiled %d stations: %d days and %d manifests changed", report.stations, report.days_changed,
             report.manifests_changed)
    return report


def _previous_days(latest, station_id: int, slots, today: date, tz: ZoneInfo, now: datetime,
                   showlock: timedelta) -> dict[date, schedules.DayPlaylist]:
    """The last compile of today, when one of today's occurrences is already locked or over (showlock)."""
    stored = latest.get((station_id, today))
    if stored is None:
        return {}
    locked = any(schedules.is_locked(occ, now, showlock) for occ in schedules.occurrences(slots, today, today, tz))
    return {today: day_from_content(stored.content)} if locked else {}


@dataclass
class _Writes:
    """Rows to write, sent in a few bulk statements at the end (one INSERT per row costs 10-15 ms on SQLite)."""

    playlists: list[dict] = field(default_factory=list)
    new_manifests: list[dict] = field(default_factory=list)
    changed_manifests: list[dict] = field(default_factory=list)

    def flush(self, session: Session) -> None:
        if self.playlists:
            session.execute(insert(Playlist), self.playlists)
        if self.new_manifests:
            session.execute(insert(StationManifest), self.new_manifests)
        if self.changed_manifests:
            session.execute(update(StationManifest), self.changed_manifests)


def _store_days(writes: _Writes, station: Station, compiled: list[schedules.DayPlaylist],
                contents: list[dict], latest: dict, now: datetime) -> tuple[int, dict[date, int]]:
    """Store the days whose content changed; ``contents`` are the group's canonical contents, made once."""
    changed, versions = 0, {}
    for day, shared_content in zip(compiled, contents, strict=True):
        content = {**shared_content, "station": station.code}
        fingerprint = schedules.fingerprint_content(content)
        stored = latest.get((station.id, day.day))
        if stored is not None and stored.etag == fingerprint:
            versions[day.day] = stored.version
            continue
        version = stored.version + 1 if stored is not None else 1
        writes.playlists.append({"station_id": station.id, "day": day.day, "version": version, "etag": fingerprint,
                                 "content": content, "compiled_at": now})
        versions[day.day] = version
        changed += 1
    return changed, versions


def _store_manifest(writes: _Writes, station: Station, zone: str, compiled, versions: dict[date, int],
                    stored: StationManifest | None, template: wire.Manifest | None, now: datetime,
                    report: CompileReport) -> wire.Manifest:
    """Build (or reuse the group's) manifest days, and store a new manifest version if the content changed."""
    version = stored.version if stored is not None else 1
    if template is not None and [d.version for d in template.days] == [versions[d.day] for d in compiled]:
        manifest = wire.for_station(template, station.code, version=version, generated_at=now)
    else:
        days = [manifest_day(day, versions[day.day]) for day in compiled]
        manifest = wire.build_manifest(station.code, zone, now, days, version)
        template = manifest
    if stored is not None and stored.etag == manifest.etag:
        return template
    version = stored.version + 1 if stored is not None else 1
    manifest = wire.for_station(manifest, station.code, version=version, generated_at=now)
    row = {"station_id": station.id, "version": version, "etag": manifest.etag,
           "body": wire.to_json(manifest).decode("utf-8"), "compiled_at": now}
    (writes.new_manifests if stored is None else writes.changed_manifests).append(row)
    report.manifests_changed += 1
    report.new_versions[station.id] = version
    report.nudges.append((station.code, version, manifest.etag))
    return template


def _announce(settings: Settings, report: CompileReport) -> None:
    """After the commit: web workers drop their cached ETags, and agents hear of the new versions at once."""
    http_pull.bump(settings.instance_path, http_pull.MANIFESTS)
    if settings.mqtt_url:
        mqtt.nudge(settings.mqtt_url, report.nudges, topic_prefix=settings.mqtt_topic_prefix)


def stations_under(session: Session, area_ids: Iterable[int] = (), station_ids: Iterable[int] = ()) -> set[int]:
    """The stations affected by a change to these areas (with their subtrees) and stations."""
    found = set(station_ids)
    paths = list(session.scalars(select(Area.path).where(Area.id.in_(list(area_ids)))))
    if paths:
        below = or_(*(Area.path.startswith(p) for p in paths))
        found.update(session.scalars(select(Station.id).join(Area, Station.commune_id == Area.id).where(below)))
    return found
