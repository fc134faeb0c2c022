"""Compiling the coming days for stations: day playlists and the manifest each station receives.

A day gets a new version only when what airs changes (its fingerprint), and a station's manifest only
when one of its days does, so polls answer 304 and pushes send nothing while nothing changed. Stations
whose inputs are equal (most stations of a commune) are compiled once and share the result, and a large
compile is shared among processes (``COMPILE_WORKERS``).
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import itertools
import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from queue import Empty
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, make_url, or_, select, update
from sqlalchemy.orm import Session, defer, joinedload

import schedules
from broadcast.channels import http_pull, mqtt
from broadcast.config import Settings
from broadcast.db.engine import Database
from broadcast.db.models import Area, Playlist, Station, StationManifest
from broadcast.db.types import EncodedJSON
from broadcast.services import deliveries
from broadcast.services.playlist_content import before_relays, day_from_content, has_relays, manifest_day
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
    """Compile ``days`` (default: the configured horizon) from today for the given stations (default: all).

    The result is committed. A compile of ``PARALLEL_MIN_STATIONS`` or more stations also commits the session
    before it starts: its workers read on connections of their own, which see only committed data.
    """
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
    stations, plan = _plan(session, settings, now, station_ids, days)
    report = CompileReport()
    if not stations:
        return report
    workers = _workers(settings, len(stations))
    counts = {"groups": 0, "parts": 1}
    if workers > 1:
        session.commit()  # see above: the workers must see what this session holds
        results = _compile_in_workers(settings, _partitions(stations, workers), plan, counts)
    else:
        work = _read_work(session, [station_id for station_id, *_ in stations], plan)
        counts["groups"] = len(work.groups)
        results = (_compile_group(work, group) for group in work.groups)
    writes = _Writes()
    for result in results:
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
    log.info("compiled %d stations (%d groups, %d parts, %d processes): %d days and %d manifests changed in "
             "%.2f s (%.2f s writing after the last result)", report.stations, counts["groups"], counts["parts"],
             workers, report.days_changed, report.manifests_changed, time.perf_counter() - started,
             time.perf_counter() - compiled)
    return report


def preview(session: Session, settings: Settings, *, now: datetime, station_ids: Iterable[int],
            slot_id: int | None = None, first: date | None = None, last: date | None = None
            ) -> list[tuple[list[str], list[schedules.DayPlaylist]]]:
    """What a compile of these stations would give, without writing anything: (station codes, their days).

    Read in the caller's session, so a change it has flushed but not committed is seen: a placement is
    checked against the schedule it would make before it is kept. Stations with equal inputs come as one group.
    ``slot_id`` keeps only that slot's sessions (and those of slots replacing it), and ``first``/``last`` only
    those days of the horizon: a placement's check needs no more, and compiling less is most of its cost.
    """
    stations, plan = _plan(session, settings, now, station_ids, None)
    if not stations:
        return []
    found = []
    with collector_paused():
        work = _read_work(session, [station_id for station_id, *_ in stations], plan)
        for group in work.groups:
            slots = group.slots if slot_id is None else [
                s for s in group.slots if slot_id in (s.id, s.overrides) or slot_id in group.aliases.get(s.id, ())]
            day_from, day_to = max(group.today, first or group.today), min(group.day_to, last or group.day_to)
            if not slots or day_from > day_to:
                continue
            kept = {s.id for s in slots} | {a for s in slots for a in group.aliases.get(s.id, ())}
            found.append(([code for _, code in group.members], schedules.compile_days(
                group.members[0][1], day_from, day_to, ZoneInfo(group.zone), slots,
                [p for p in group.placements if p.slot_id in kept | {slot_id}], now=plan.now, showlock=plan.showlock,
                previous=group.previous, aliases=group.aliases)))
    return found


def _plan(session: Session, settings: Settings, now: datetime, station_ids: Iterable[int] | None,
          days: int | None) -> tuple[list, _Plan | None]:
    """The active stations to compile (plain rows) and what their compile shares."""
    # Plain rows: the zones and the shares of the work need no more (a whole station is read where compiled).
    query = (select(Station.id, Station.commune_id, Area.path, Station.timezone, Area.timezone)
             .join(Area, Station.commune_id == Area.id).where(Station.active).order_by(Station.id))
    if station_ids is not None:
        query = query.where(Station.id.in_(list(station_ids)))
    stations = session.execute(query).all()
    if not stations:
        return stations, None
    days = days or settings.schedule_days
    # station_zone's rule: the station's own zone, else its commune's, else the service's.
    zones = {station_id: own or commune or settings.timezone for station_id, _, _, own, commune in stations}
    todays = {z: now.astimezone(ZoneInfo(z)).date() for z in set(zones.values())}
    return stations, _Plan(zones, todays, min(todays.values()), max(todays.values()) + timedelta(days=days - 1),
                           days, now, timedelta(minutes=settings.showlock_minutes))


@dataclass(frozen=True)
class _Plan:
    """What every part of one compile shares: the stations' zones, today in each zone, the days to compile."""

    zones: dict[int, str]  # station id -> zone
    todays: dict[str, date]  # zone -> today there
    first: date
    last: date
    days: int
    now: datetime
    showlock: timedelta


def _read_work(session: Session, station_ids: list[int], plan: _Plan) -> _Work:
    """Read these stations and their inputs, and put the stations whose inputs are equal into one group."""
    stations = list(session.scalars(select(Station).where(Station.id.in_(station_ids))
                                    .options(joinedload(Station.commune)).order_by(Station.id)))
    inputs = load_inputs(session, stations, plan.first, plan.last)
    latest = _latest_playlists(session, station_ids, plan.first, plan.last)
    stored_manifests = {m.station_id: (m.version, m.etag) for m in session.execute(
        select(StationManifest.station_id, StationManifest.version, StationManifest.etag)
        .where(StationManifest.station_id.in_(station_ids)))}
    prepared = []
    for station in stations:
        zone = plan.zones[station.id]
        today = plan.todays[zone]
        station_inputs = inputs.for_station(station)
        slots = schedules.effective_slots(station_inputs.chain)
        frozen = _frozen_today(latest, station.id, slots, today, ZoneInfo(zone), plan.now, plan.showlock)
        prepared.append((station, zone, today, station_inputs, slots, frozen))
    # What aired or is about to: read in one query for all the stations whose today is partly frozen.
    kept = _contents(session, [frozen.id for *_, frozen in prepared if frozen is not None])
    groups: dict[tuple, _Group] = {}
    for station, zone, today, station_inputs, slots, frozen in prepared:
        previous = {} if frozen is None else {today: day_from_content(kept[frozen.id])}
        key = (zone, today, station_inputs.group_key(), None if frozen is None else _shared_digest(kept[frozen.id]))
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(zone, today, today + timedelta(days=plan.days - 1), slots,
                                         station_inputs.placements, previous,
                                         schedules.slot_aliases(station_inputs.chain))
        group.members.append((station.id, station.code))
    return _Work(list(groups.values()), {k: (p.version, p.etag) for k, p in latest.items()}, stored_manifests,
                 plan.now, plan.showlock, {s.id for s in stations if before_relays(s.agent_version)})


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

# Below this many stations, starting processes costs more than it saves.
PARALLEL_MIN_STATIONS = 400
# A worker reads and compiles its stations in parts of about this many, so that the database reads stay
# small (a part's areas and stations fit the IN lists of one query each).
PART_STATIONS = 5000
# Rows are written in batches of about this many as results come in, while the workers go on compiling.
FLUSH_ROWS = 2000
# A worker sends its results in messages of this many groups.
GROUPS_PER_MESSAGE = 200
# A compile gives up on workers that send nothing for this long (a message takes well under a second).
WORKER_SILENCE_S = 300


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
    old_agents: set[int] = field(default_factory=set)  # stations whose agent cannot relay (see before_relays)


@dataclass
class _StationOutcome:
    playlists: list[dict]  # the day rows to insert
    manifest: tuple[dict, bool] | None  # (row, whether the station had none) when its content changed


@dataclass
class _GroupResult:
    stations: list[tuple[str, _StationOutcome]]
    problems: list[schedules.Problem]


def _workers(settings: Settings, stations: int) -> int:
    if stations < PARALLEL_MIN_STATIONS or _in_memory(settings.resolved_database_url):
        return 1
    return settings.compile_workers or min(os.cpu_count() or 1, 4)


def _in_memory(url: str) -> bool:
    """An in-memory SQLite database exists only on the connection that made it: no worker could read it."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def _partitions(stations: list[tuple[int, int, str]], workers: int) -> list[list[list[int]]]:
    """Each worker's share of the stations (id, commune id, commune path), as parts of station ids.

    Communes stay whole and in tree order: neighbours in the tree usually share their inputs (and so their
    group), and a commune is never split.
    """
    ordered = sorted(stations, key=lambda s: (s[2], s[0]))
    target = len(ordered) / workers
    part_size = math.ceil(target / math.ceil(target / PART_STATIONS))  # a share's parts come out even too
    shares: list[list[list[int]]] = [[] for _ in range(workers)]
    placed = 0
    for _commune, members in itertools.groupby(ordered, key=lambda s: s[1]):
        ids = [s[0] for s in members]
        # To the share its middle station falls in, so shares come out even.
        share = shares[min(workers - 1, int((placed + len(ids) / 2) // target))]
        if not share or (share[-1] and len(share[-1]) + len(ids) > part_size):
            share.append([])
        share[-1].extend(ids)
        placed += len(ids)
    return [share for share in shares if share]


class CompileWorkerFailed(RuntimeError):
    """A worker process could not read or compile its stations; nothing of the compile is committed."""


def _compile_in_workers(settings: Settings, shares: list[list[list[int]]], plan: _Plan,
                        counts: dict) -> Iterator[_GroupResult]:
    """Every group's result, from one forked process per share, each reading its stations on its own.

    Reading is most of what is left when compiling is shared out, so the workers read too, each on its
    own database connection. Forked, not spawned: a worker starts with the code already loaded (see
    ``_start_method`` for where it is forked from). Results come back through a queue whose feeder thread
    sends them while the worker compiles on, so a worker never waits for the parent, which writes the rows
    as they come.
    """
    context = multiprocessing.get_context(_start_method())
    queue = context.Queue()
    running = []
    for share in shares:
        worker = context.Process(target=_work_in_child, args=(queue, settings, share, plan), daemon=True)
        worker.start()  # forks now; forked directly, the worker has its share and the plan unpickled
        running.append(worker)
    counts["parts"] = sum(map(len, shares))
    done = 0
    heard = time.monotonic()
    try:
        while done < len(running):
            try:
                kind, payload = queue.get(timeout=1)
            except Empty:
                dead = [w for w in running if w.exitcode not in (None, 0)]
                if dead:
                    raise CompileWorkerFailed(f"a compile worker ended with code {dead[0].exitcode} "
                                              "before sending its results") from None
                if time.monotonic() - heard > WORKER_SILENCE_S:  # stuck, e.g. on a lock forked while held
                    raise CompileWorkerFailed(f"no word from the compile workers for {WORKER_SILENCE_S} s") from None
                continue
            heard = time.monotonic()
            if kind == "failed":
                raise CompileWorkerFailed(f"a compile worker failed: {payload}")
            if kind == "done":
                done += 1
                counts["groups"] += payload
                continue
            yield from payload
    finally:
        for worker in running:
            if done < len(running):  # after a failure: the others' work is of no use any more
                worker.kill()
            worker.join()
        queue.close()


def _start_method() -> str:
    """Fork workers from the main thread; from any other thread, from a fork server.

    A fork copies the locks other threads hold at that moment, held, with nobody left to release them. In
    the scheduler, other jobs' threads are inside SQLite (whose mutexes guard its file and memory state)
    all the time: a worker forked then hangs on its first read. Measured: 56 of 300 children forked while
    three threads read SQLite never started. The fork server is a process of one thread, started once
    (with this module loaded), that forks the workers on request; the plan is pickled to reach it. A
    compile started from the main thread (the CLI, benchmarks, tests) forks at once, as nothing of ours
    uses the database in other threads there.
    """
    if threading.current_thread() is threading.main_thread():
        return "fork"
    multiprocessing.get_context("forkserver").set_forkserver_preload([__name__])  # used when it starts
    return "forkserver"


def _work_in_child(queue, settings: Settings, parts: list[list[int]], plan: _Plan) -> None:
    """In a forked worker: read and compile these parts of stations, sending the results to the parent.

    It opens its own engine: the connections inherited from the parent belong to the parent, and are
    neither used nor closed here (the process ends with os._exit, so no pool of the parent's is even
    finalized; psycopg closes a connection on collection only in the process that opened it). It ends
    with the parent too, whatever ends that (see ``_die_with_parent``).
    """
    _die_with_parent()
    gc.disable()  # as in the parent (collector_paused); a worker from the fork server starts with it on
    database = None
    try:
        database = Database(settings.resolved_database_url)
        groups = 0
        for part in parts:
            with database.sessions() as session:
                work = _read_work(session, part, plan)
                session.rollback()  # it only read
            groups += len(work.groups)
            for start in range(0, len(work.groups), GROUPS_PER_MESSAGE):
                batch = work.groups[start:start + GROUPS_PER_MESSAGE]
                queue.put(("results", [_compile_group(work, group) for group in batch]))
        queue.put(("done", groups))
    except BaseException as exc:  # noqa: BLE001 - the parent reports it; a worker has nobody else to tell
        queue.put(("failed", "".join(traceback.format_exception_only(exc)).strip()))
    finally:
        if database is not None:
            database.dispose()
        queue.close()
        queue.join_thread()  # everything sent before the process ends


# prctl(2) option: the signal this process gets when the thread that forked it ends.
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In a worker: end when the parent ends, even by SIGKILL, instead of living on as an orphan.

    An orphan would go on holding its database transaction, and its inherited descriptors (the scheduler's
    lock among them), with nobody to read its results.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not started as a process (called in place): nothing to outlive
        return
    if multiprocessing.get_start_method(allow_none=True) != "fork":
        # From the fork server: the parent's end of this worker's pipe closes when the parent ends. (The
        # fork server itself ends only after its workers: they hold the pipe it waits on.)
        threading.Thread(target=_exit_after, args=(parent,), name="parent-watch", daemon=True).start()
        return
    # Forked directly: Linux signals the death of the forking thread, the compile's, which waits for the
    # workers. (The parent's end of the pipe is no sign here: a sibling forked later holds it too.)
    if not _set_parent_death_signal(signal.SIGKILL):
        threading.Thread(target=_watch_parent_pid, args=(parent.pid,), name="parent-watch", daemon=True).start()
    if os.getppid() != parent.pid:  # the parent died before prctl: nothing will signal this process
        os._exit(1)


def _set_parent_death_signal(signum: int) -> bool:
    """Ask Linux for ``signum`` when the parent ends; False where that cannot be had."""
    if not sys.platform.startswith("linux"):
        return False
    return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0


def _exit_after(parent) -> None:
    """End this process as soon as the parent has ended (at once if it already has)."""
    parent.join()  # returns when the parent's end of the pipe is closed: at its end, however it ends
    os._exit(1)


def _watch_parent_pid(parent: int) -> None:
    """Without prctl: look every second whether the parent is still there."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


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
        if station_id in work.old_agents and any(has_relays(day) for day in compiled):
            # Its own manifest, the relays' windows as their filler: an older agent refuses a stream entry, and
            # with it the whole manifest. The group's template is left for the others.
            manifest, _ = _manifest_row(work, station_id, code, group.zone, compiled, versions, None, relays=False)
        else:
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
                  template: wire.Manifest | None, *, relays: bool = True
                  ) -> tuple[tuple[dict, bool] | None, wire.Manifest]:
    """Build (or reuse the group's) manifest days; a row for a new manifest version if the content changed."""
    stored = work.stored_manifests.get(station_id)
    version = stored[0] if stored is not None else 1
    if template is not None and [d.version for d in template.days] == [versions[d.day] for d in compiled]:
        manifest = wire.for_station(template, code, version=version, generated_at=work.now)
    else:
        days = [manifest_day(day, versions[day.day], relays=relays) for day in compiled]
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
