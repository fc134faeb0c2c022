"""Compiling the coming days for stations: day playlists and the manifest each station receives.

A day gets a new version only when what airs changes (its fingerprint), and a station's manifest only
when one of its days does, so polls answer 304 and pushes send nothing while nothing changed. Stations
whose inputs are equal (most stations of a commune) are compiled once and share the result, and a large
compile is shared among processes (``COMPILE_WORKERS``).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session, defer, joinedload

import schedules
from broadcast.channels import http_pull, mqtt
from broadcast.config import Settings
from broadcast.db.models import Area, Playlist, Station, StationManifest
from broadcast.db.types import EncodedJSON
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
    return hashlib.sha256(schedules.content_text(body).encode()).hexdigest()


def compile_stations(session: Session, settings: Settings, *, now: datetime,
                     station_ids: Iterable[int] | None = None, days: int | None = None) -> CompileReport:
    """Compile ``days`` (default: the configured horizon) from today for the given stations (default: all)."""
    with collector_paused():
        return _compile_stations(session, settings, now=now, station_ids=station_ids, days=days)


class _Pauses:
    depth = 0  # compiles running in this process
    restore = False  # whether the collector was on before the first of them
    lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a compile runs, and back as it was when the last one running ends.

    A compile builds hundreds of thousands of long-lived objects (rules, entries), and each of them makes
    the collector walk everything built so far again: at 10,000 stations that was a third of the time
    spent reading, with nothing to free (the objects are released by reference counts). Forked workers
    inherit it off, so they never walk (and copy) the pages they share with the parent either.
    """
    with _Pauses.lock:
        if _Pauses.depth == 0:
            _Pauses.restore = gc.isenabled()
            gc.disable()
        _Pauses.depth += 1
    try:
        yield
    finally:
        with _Pauses.lock:
            _Pauses.depth -= 1
            if _Pauses.depth == 0 and _Pauses.restore:
                gc.enable()


def _compile_stations(session: Session, settings: Settings, *, now: datetime,
                      station_ids: Iterable[int] | None, days: int | None) -> CompileReport:
    started = time.perf_counter()
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
    stored_manifests = {m.station_id: (m.version, m.etag) for m in session.execute(
        select(StationManifest.station_id, StationManifest.version, StationManifest.etag)
        .where(StationManifest.station_id.in_([s.id for s in stations])))}
    showlock = timedelta(minutes=settings.showlock_minutes)
    prepared = []
    for station in stations:
        zone = zones[station.id]
        today = todays[zone]
        station_inputs = inputs.for_station(station)
        slots = schedules.effective_slots(station_inputs.chain)
        frozen = _frozen_today(latest, station.id, slots, today, ZoneInfo(zone), now, showlock)
        prepared.append((station, zone, today, station_inputs, slots, frozen))
    # What aired or is about to: read in one query for all the stations whose today is partly frozen.
    kept = _contents(session, [frozen.id for *_, frozen in prepared if frozen is not None])
    groups: dict[tuple, _Group] = {}
    for station, zone, today, station_inputs, slots, frozen in prepared:
        previous = {} if frozen is None else {today: day_from_content(kept[frozen.id])}
        key = (zone, today, station_inputs.group_key(), None if frozen is None else _shared_digest(kept[frozen.id]))
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(zone, today, today + timedelta(days=days - 1), slots,
                                         station_inputs.placements, previous,
                                         schedules.slot_aliases(station_inputs.chain))
        group.members.append((station.id, station.code))
    work = _Work(list(groups.values()), {k: (p.version, p.etag) for k, p in latest.items()}, stored_manifests,
                 now, showlock)
    writes = _Writes()
    workers = _workers(settings, len(groups))
    read = time.perf_counter()
    for result in _compile_all(work, workers):
        for code, outcome in result.stations:
            report.stations += 1
            report.days_changed += len(outcome.playlists)
            report.problems[code] = result.problems
            writes.playlists.extend(outcome.playlists)
            if outcome.manifest is not None:
                row, is_new = outcome.manifest
                (writes.new_manifests if is_new else writes.changed_manifests).append(row)
                report.manifests_changed += 1
                report.new_versions[row["station_id"]] = row["version"]
                report.nudges.append((code, row["version"], row["etag"]))
        if writes.pending() >= FLUSH_ROWS:
            writes.flush(session)  # while the workers compile the next groups
    compiled = time.perf_counter()
    writes.flush(session)
    deliveries.queue_pushes(session, report.new_versions, now)
    session.commit()
    if report.manifests_changed:
        _announce(settings, report)
    log.info("compiled %d stations (%d groups, %d processes): %d days and %d manifests changed in %.2f s "
             "(reading %.2f s, compiling %.2f s, writing %.2f s)", report.stations, len(groups), workers,
             report.days_changed, report.manifests_changed, time.perf_counter() - started, read - started,
             compiled - read, time.perf_counter() - compiled)
    return report


def _frozen_today(latest, station_id: int, slots, today: date, tz: ZoneInfo, now: datetime,
                  showlock: timedelta) -> Playlist | None:
    """The last compile of today, when one of today's occurrences is already locked or over (showlock)."""
    stored = latest.get((station_id, today))
    if stored is None:
        return None
    locked = any(schedules.is_locked(occ, now, showlock) for occ in schedules.occurrences(slots, today, today, tz))
    return stored if locked else None


def _contents(session: Session, playlist_ids: list[int]) -> dict[int, dict]:
    found: dict[int, dict] = {}
    for start in range(0, len(playlist_ids), 5000):  # well below SQLite's limit on bound parameters
        chunk = playlist_ids[start:start + 5000]
        found.update(session.execute(select(Playlist.id, Playlist.content).where(Playlist.id.in_(chunk))).all())
    return found


# Compiling: pure work on plain data, so that it can run in other processes ---------------------------------

# Below this many groups (distinct inputs), starting processes costs more than it saves.
PARALLEL_MIN_GROUPS = 400
# Rows are written in batches of about this many as results come in, while the workers go on compiling.
FLUSH_ROWS = 2000


@dataclass
class _Group:
    """Stations whose inputs are equal: compiled once, then given each its code, versions and manifest."""

    zone: str
    today: date
    day_to: date
    slots: list
    placements: list
    previous: dict
    aliases: dict
    members: list[tuple[int, str]] = field(default_factory=list)  # (station id, code)


@dataclass
class _Work:
    groups: list[_Group]
    stored_days: dict[tuple[int, date], tuple[int, str]]  # (station id, day) -> (version, fingerprint)
    stored_manifests: dict[int, tuple[int, str]]  # station id -> (version, etag)
    now: datetime
    showlock: timedelta


@dataclass
class _StationOutcome:
    playlists: list[dict]  # the day rows to insert
    manifest: tuple[dict, bool] | None  # (row, whether the station had none) when its content changed


@dataclass
class _GroupResult:
    stations: list[tuple[str, _StationOutcome]]
    problems: list[schedules.Problem]


def _workers(settings: Settings, groups: int) -> int:
    if groups < PARALLEL_MIN_GROUPS:
        return 1
    return settings.compile_workers or min(os.cpu_count() or 1, 4)


_WORK: _Work | None = None  # what forked workers compile: inherited from the parent, never pickled
# Two compiles at once (a web request and a job) must not hand their workers each other's work: the global
# is set, the workers forked (they copy it) and the global cleared, under this lock.
_FORKING = threading.Lock()


def _compile_all(work: _Work, workers: int) -> Iterator[_GroupResult]:
    """Each group's result, in order: in this process, or shared among ``workers`` forked processes.

    Fork, not spawn: the workers inherit the loaded inputs instead of receiving them pickled, and send back
    only rows of text. They run pure code (no database, no network, no logging) and are ended by the pool,
    so the parent's connections are neither used nor closed by them.
    """
    global _WORK
    if workers <= 1:
        for group in work.groups:
            yield _compile_group(work, group)
        return
    size = max(1, -(-len(work.groups) // (workers * 8)))  # a few chunks per worker, so none waits long
    chunks = [(start, min(start + size, len(work.groups))) for start in range(0, len(work.groups), size)]
    with _FORKING:
        _WORK = work
        try:
            pool = multiprocessing.get_context("fork").Pool(workers)  # forks every worker now
        finally:
            _WORK = None
    with pool:
        for results in pool.imap(_compile_chunk, chunks):
            yield from results


def _compile_chunk(bounds: tuple[int, int]) -> list[_GroupResult]:
    work = _WORK
    if work is None:  # a worker the pool started again later, without the work it was forked with
        raise RuntimeError("a compile worker has no work: it was not forked by _compile_all")
    return [_compile_group(work, group) for group in work.groups[bounds[0]:bounds[1]]]


def _compile_group(work: _Work, group: _Group) -> _GroupResult:
    tz = ZoneInfo(group.zone)
    first_code = group.members[0][1]
    compiled = schedules.compile_days(
        first_code, group.today, group.day_to, tz, group.slots, group.placements, now=work.now,
        showlock=work.showlock, previous=group.previous, aliases=group.aliases)
    contents = [schedules.SharedContent.of(day) for day in compiled]
    template: wire.Manifest | None = None
    stations = []
    for station_id, code in group.members:
        playlists, versions = _day_rows(work, station_id, code, compiled, contents)
        manifest, template = _manifest_row(work, station_id, code, group.zone, compiled, versions, template)
        stations.append((code, _StationOutcome(playlists, manifest)))
    return _GroupResult(stations, [p for day in compiled for p in day.problems])


def _day_rows(work: _Work, station_id: int, code: str, compiled: list[schedules.DayPlaylist],
              contents: list[schedules.SharedContent]) -> tuple[list[dict], dict[date, int]]:
    """The rows of the days whose content changed, and every day's version."""
    rows, versions = [], {}
    for day, shared in zip(compiled, contents, strict=True):
        text, fingerprint = shared.for_station(code)
        stored = work.stored_days.get((station_id, day.day))
        if stored is not None and stored[1] == fingerprint:
            versions[day.day] = stored[0]
            continue
        version = stored[0] + 1 if stored is not None else 1
        # The text is what was hashed: stored as it is rather than encoded again.
        rows.append({"station_id": station_id, "day": day.day, "version": version, "etag": fingerprint,
                     "content": text, "compiled_at": work.now})
        versions[day.day] = version
    return rows, versions


def _manifest_row(work: _Work, station_id: int, code: str, zone: str, compiled, versions: dict[date, int],
                  template: wire.Manifest | None) -> tuple[tuple[dict, bool] | None, wire.Manifest]:
    """Build (or reuse the group's) manifest days; a row for a new manifest version if the content changed."""
    stored = work.stored_manifests.get(station_id)
    version = stored[0] if stored is not None else 1
    if template is not None and [d.version for d in template.days] == [versions[d.day] for d in compiled]:
        manifest = wire.for_station(template, code, version=version, generated_at=work.now)
    else:
        days = [manifest_day(day, versions[day.day]) for day in compiled]
        manifest = wire.build_manifest(code, zone, work.now, days, version)
        template = manifest
    if stored is not None and stored[1] == manifest.etag:
        return None, template
    version = stored[0] + 1 if stored is not None else 1
    manifest = wire.for_station(manifest, code, version=version, generated_at=work.now)
    row = {"station_id": station_id, "version": version, "etag": manifest.etag,
           "body": wire.to_json(manifest).decode("utf-8"), "compiled_at": work.now}
    return (row, stored is None), template


@dataclass
class _Writes:
    """Rows to write, sent in a few bulk statements at the end (one INSERT per row costs 10-15 ms on SQLite)."""

    playlists: list[dict] = field(default_factory=list)
    new_manifests: list[dict] = field(default_factory=list)
    changed_manifests: list[dict] = field(default_factory=list)

    def pending(self) -> int:
        return len(self.playlists) + len(self.new_manifests) + len(self.changed_manifests)

    def flush(self, session: Session) -> None:
        """Send the rows gathered so far (in the caller's transaction) and start again."""
        if self.playlists:
            for row in self.playlists:
                row["content"] = EncodedJSON(row["content"])
            session.execute(insert(Playlist), self.playlists)
        if self.new_manifests:
            session.execute(insert(StationManifest), self.new_manifests)
        if self.changed_manifests:
            session.execute(update(StationManifest), self.changed_manifests)
        self.playlists, self.new_manifests, self.changed_manifests = [], [], []


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
