"""The scheduler survives its own death: one leads, others stand by, and nothing it forked outlives it.

Real scheduler processes (``flask --app broadcast jobs run``) on the test's database, each in its own
process group with its output in a log file; every process a test starts is stopped before it ends, also
when an assertion fails. Child processes are found through /proc.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text

from broadcast.db.models import (
    Area,
    AudioAsset,
    CompileRequest,
    ContentSource,
    ItemClass,
    ItemStatus,
    Level,
    NewsItem,
    OverflowPolicy,
    Placement,
    PlacementTarget,
    Playlist,
    RenderState,
    Slot,
    Station,
    StationManifest,
    Structure,
)
from broadcast.jobs import scheduler as jobs
from broadcast.services import areas, compiler
from stations import manifest as wire

ROOT = Path(__file__).resolve().parents[2]
FLASK = ROOT / ".venv" / "bin" / "flask"
STATIONS_PER_COMMUNE = 3  # Hà Giang's 193 legacy communes: 579 stations, above compiler.PARALLEL_MIN_STATIONS
WORKERS = 2
LEAD_LIMIT_S = 15  # a scheduler with nobody else leading leads this soon after it starts
TAKEOVER_LIMIT_S = 30  # the limit for a standby to replace a killed leader
GONE_LIMIT_S = 5  # compile workers end this soon after their parent is killed


# Processes ----------------------------------------------------------------------------------------------


class Scheduler:
    """One ``flask jobs run`` process, leader of its own process group, logging to a file."""

    def __init__(self, proc: subprocess.Popen, log: Path):
        self.proc = proc
        self.log = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, needle: str, limit_s: float, after: int = 0) -> float:
        """Seconds until ``needle`` appears in the log (past the first ``after`` characters); fails at the limit."""
        started = time.monotonic()
        while needle not in self.text()[after:]:
            if self.proc.poll() is not None:
                pytest.fail(f"the scheduler exited with {self.proc.returncode} before logging {needle!r}:\n"
                            f"{self.text()[-4000:]}")
            if time.monotonic() - started > limit_s:
                pytest.fail(f"the scheduler did not log {needle!r} within {limit_s} s:\n{self.text()[-4000:]}")
            time.sleep(0.1)
        return time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL to the scheduler alone, as the OOM killer or `kill -9` does: its children get no signal."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def _env(settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("AUDIO_DIR", "AUDIO_STORE_URL", "SECRET_KEY", "MQTT_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update(INSTANCE_PATH=str(settings.instance_path), DATABASE_URL=settings.resolved_database_url,
               COMPILE_WORKERS=str(WORKERS), PYTHONUNBUFFERED="1", **extra)
    return env


@contextmanager
def schedulers(tmp_path: Path, settings) -> Iterator[Callable[[str], Scheduler]]:
    """Start schedulers by name; at the end every one of them, and whatever is left of its group, is killed."""
    started: list[Scheduler] = []

    def start(name: str) -> Scheduler:
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([str(FLASK), "--app", "broadcast", "jobs", "run"], cwd=ROOT,
                                    env=_env(settings), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        started.append(Scheduler(proc, log))
        return started[-1]

    try:
        yield start
    finally:
        for scheduler in started:
            with suppress(ProcessLookupError):
                os.killpg(scheduler.pid, signal.SIGKILL)  # the group: orphaned workers too
            with suppress(subprocess.TimeoutExpired):
                scheduler.proc.wait(timeout=10)


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a process, or None once it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()  # after the command name, which may hold spaces
    return int(fields[1]), fields[0], int(fields[19])


def _descendants(pid: int) -> dict[int, tuple[int, int]]:
    """The live descendants of a process: pid -> (start time, depth); the start time tells a pid reused
    later apart."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and stat[1] != "Z":
            parents[int(entry.name)] = (stat[0], stat[2])
    found: dict[int, tuple[int, int]] = {}
    level, depth = {pid}, 1
    while level:
        level = {child for child, (parent, _) in parents.items() if parent in level}
        found.update({child: (parents[child][1], depth) for child in level})
        depth += 1
    return found


def _alive(pid: int, start: int) -> bool:
    """Whether that process still runs (a zombie waiting for its reaper does not: it holds nothing)."""
    stat = _stat(pid)
    return stat is not None and stat[1] != "Z" and stat[2] == start


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _wait_for_workers(leader: Scheduler, count: int, limit_s: float) -> dict[int, tuple[int, int]]:
    """The scheduler's descendants once ``count`` compile workers run. Forked from a job's thread, they come
    from a fork server, a child of the scheduler (beside multiprocessing's resource tracker); forked
    directly, they are its children."""
    helpers = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")
    started = time.monotonic()
    while True:
        found = _descendants(leader.pid)
        workers = [pid for pid, (_, depth) in found.items()
                   if depth > 1 or not any(helper in _cmdline(pid) for helper in helpers)]
        if len(workers) >= count:
            return found
        if leader.proc.poll() is not None or time.monotonic() - started > limit_s:
            pytest.fail(f"no {count} compile workers under the scheduler within {limit_s} s:\n{leader.text()[-4000:]}")
        time.sleep(0.005)


# The world ----------------------------------------------------------------------------------------------


def _build_world(database, stations_per_commune: int) -> int:
    """Hà Giang's legacy tree with stations, a daily slot and items for the province, districts and communes,
    so that each commune's stations form a group of their own; returns how many stations."""
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    with database.sessions() as session:
        areas.load_province(session, "Hà Giang", Structure.LEGACY, actor="test")
        province = session.scalar(select(Area).where(Area.level == Level.PROVINCE))
        units = list(session.scalars(select(Area).where(Area.level.in_([Level.DISTRICT, Level.COMMUNE]))))
        session.execute(insert(Station), [
            {"code": f"S{c.code}-{i}", "name": f"{c.name} {i}", "commune_id": c.id, "http_pull": True}
            for c in units if c.level == Level.COMMUNE for i in range(stations_per_commune)])
        slot = Slot(name="Sáng", area_id=province.id, start_time=datetime(2026, 1, 1, 6, 0).time(),
                    duration_s=40 * 60, rrule="FREQ=DAILY", valid_from=today - timedelta(days=1), exceptions={},
                    overflow_policy=OverflowPolicy.DROP, gap_ms=1000)
        session.add(slot)
        session.flush()
        for n, area in enumerate([province, *units], start=1):
            _place(session, slot, area, n, today)
        session.commit()
        return session.scalar(select(func.count()).select_from(Station))


def _place(session, slot: Slot, area: Area, n: int, today) -> None:
    """An approved item with its audio, placed in the slot for ``area`` from yesterday on."""
    item = NewsItem(title=f"Tin {n}", body="Một hai ba.", status=ItemStatus.APPROVED, item_class=ItemClass.NORMAL,
                    content_source=ContentSource.SPEECH, render_state=RenderState.READY, owner_area_id=area.id,
                    audio_asset=AudioAsset(sha256=f"{n:064x}", size_bytes=60 * 8000, duration_ms=60_000 + n,
                                           origin="tts"))
    session.add(Placement(item=item, slot_id=slot.id, date_from=today - timedelta(days=1),
                          date_until=today + timedelta(days=30), placed_by_area_id=area.id,
                          targets=[PlacementTarget(area_id=area.id)]))


def _change_every_station(database) -> None:
    """A new province-wide item, and every station queued for the compile job (as a large change is)."""
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    with database.sessions() as session:
        province = session.scalar(select(Area).where(Area.level == Level.PROVINCE))
        _place(session, session.scalar(select(Slot)), province, 10_000, today)
        session.execute(insert(CompileRequest), [{"station_id": s} for s in session.scalars(select(Station.id))])
        session.commit()


def _manifest_versions(database) -> dict[int, int]:
    with database.sessions() as session:
        return dict(session.execute(select(StationManifest.station_id, StationManifest.version)).all())


def _assert_consistent(database, stations: int, version: int) -> None:
    """Every station has one manifest, of ``version``, naming the newest version of each of its days; no
    (station, day) has two playlists of one version."""
    with database.sessions() as session:
        assert _manifest_versions(database) == {s: version for s in session.scalars(select(Station.id))}
        duplicates = session.execute(select(Playlist.station_id, Playlist.day, Playlist.version)
                                     .group_by(Playlist.station_id, Playlist.day, Playlist.version)
                                     .having(func.count() > 1)).all()
        assert duplicates == []
        newest = {(s, d): v for s, d, v in session.execute(
            select(Playlist.station_id, Playlist.day, func.max(Playlist.version))
            .group_by(Playlist.station_id, Playlist.day))}
        for station_id, body in session.execute(select(StationManifest.station_id, StationManifest.body)):
            manifest = wire.from_json(body.encode())
            assert manifest.days, station_id
            assert {d.date: d.version for d in manifest.days} == {
                d.date: newest[station_id, d.date] for d in manifest.days}, station_id
        assert session.scalar(select(func.count()).select_from(StationManifest)) == stations


# Tests --------------------------------------------------------------------------------------------------


def test_processes_forked_by_the_leader_do_not_keep_its_lease(settings):
    """A child forked while the lease is held (as compile workers are) does not keep it when the leader dies."""
    lease = jobs.leadership_lease(settings)
    assert lease.acquire()
    child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,), daemon=True)
    child.start()
    other = jobs.leadership_lease(settings)
    try:
        assert not other.acquire(), "two leases at once"
        # The leader dies: the kernel drops its descriptor, and nothing is unlocked or said to the server.
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, lease._fd)  # the lock file, or the socket of the lock's session
        os.close(null)
        deadline = time.monotonic() + 5
        while not other.acquire():
            assert time.monotonic() < deadline, "the lease lives on in the forked child"
            time.sleep(0.1)
        assert child.is_alive()
    finally:
        child.kill()
        child.join()
        other.release()
        lease.release()


def test_a_compile_in_a_job_thread_forks_its_workers_from_a_fork_server(database, settings, monkeypatch):
    """Jobs run in threads, beside other jobs' database work: their workers come from the fork server."""
    stations = _build_world(database, 1)
    monkeypatch.setattr(compiler, "PARALLEL_MIN_STATIONS", 1)
    outcome = {}

    def job():
        outcome["method"] = compiler._start_method()
        with database.sessions() as session:
            outcome["report"] = compiler.compile_stations(
                session, settings.model_copy(update={"compile_workers": WORKERS}), now=datetime.now(UTC))

    thread = threading.Thread(target=job)
    thread.start()
    thread.join(timeout=120)
    assert outcome["method"] == "forkserver"
    assert outcome["report"].stations == stations
    assert set(_manifest_versions(database).values()) == {1}
    assert compiler._start_method() == "fork"  # from the main thread, as the CLI and the tests compile


@pytest.mark.slow
def test_kill_9_mid_compile_leaves_no_worker_and_a_restart_compiles_at_once(database, settings, tmp_path):
    """SIGKILL to the scheduler while its compile workers read: they (and the fork server) end within
    seconds, nothing of that compile is kept, and a new scheduler leads and compiles the queue at once."""
    stations = _build_world(database, STATIONS_PER_COMMUNE)
    assert stations >= compiler.PARALLEL_MIN_STATIONS
    with database.sessions() as session:  # version 1 of everything, compiled here
        compiler.compile_stations(session, settings.model_copy(update={"compile_workers": WORKERS}),
                                  now=datetime.now(UTC))
    _change_every_station(database)

    with schedulers(tmp_path, settings) as start:
        first = start("first")
        # The queued compile starts as soon as the scheduler leads; it is killed once its workers run.
        workers = _wait_for_workers(first, WORKERS, limit_s=60)
        first.kill()
        started = time.monotonic()
        while alive := [pid for pid, (since, _) in workers.items() if _alive(pid, since)]:
            assert time.monotonic() - started < GONE_LIMIT_S, (
                f"processes {alive} of the scheduler's outlived it by {GONE_LIMIT_S} s")
            time.sleep(0.05)
        assert set(_manifest_versions(database).values()) == {1}, "the killed compile committed something"

        second = start("second")
        lead_s = second.wait_for("leading:", LEAD_LIMIT_S)
        compile_s = second.wait_for(f"compiled {stations} stations", 30)
        with database.sessions() as session:
            deadline = time.monotonic() + 10  # the queue is emptied right after the compile commits
            while session.scalar(select(func.count()).select_from(CompileRequest)):
                assert time.monotonic() < deadline, "the compile queue was not emptied"
                time.sleep(0.1)
                session.rollback()
        second.proc.send_signal(signal.SIGTERM)
        assert second.proc.wait(timeout=20) == 0, second.text()[-4000:]
    _assert_consistent(database, stations, version=2)
    print(f"restart: led after {lead_s:.1f} s, compiled {stations} stations {lead_s + compile_s:.1f} s after start")


@pytest.mark.slow
def test_a_second_scheduler_stands_by_and_takes_over_when_the_leader_is_killed(database, settings, tmp_path):
    """A second scheduler waits instead of exiting, leads within 30 s of the leader's SIGKILL and runs jobs."""
    with schedulers(tmp_path, settings) as start:
        leader = start("leader")
        leader.wait_for("leading:", LEAD_LIMIT_S)
        standby = start("standby")
        standby.wait_for("standby:", LEAD_LIMIT_S)
        time.sleep(2 * jobs.STANDBY_RETRY_S)  # it keeps waiting, and does not lead beside the leader
        assert standby.proc.poll() is None, standby.text()
        assert "leading:" not in standby.text()

        leader.kill()
        takeover_s = standby.wait_for("leading:", TAKEOVER_LIMIT_S)
        led_at = standby.text().index("leading:")
        standby.wait_for("executed successfully", 15, after=led_at)  # it runs the jobs now

        # A third one stands by in its turn, and stops at once when told to.
        third = start("third")
        third.wait_for("standby:", LEAD_LIMIT_S)
        third.proc.send_signal(signal.SIGTERM)
        assert third.proc.wait(timeout=10) == 0, third.text()
        assert "leading:" not in third.text()
        standby.proc.send_signal(signal.SIGTERM)
        assert standby.proc.wait(timeout=20) == 0, standby.text()[-4000:]
    print(f"takeover after {takeover_s:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("database", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_leader_whose_lock_connection_drops_exits_for_its_supervisor(database, settings, tmp_path):
    """The server ends the leader's lock session: the leader stops at once with EXIT_RESTART, not leads on."""
    with schedulers(tmp_path, settings) as start:
        leader = start("leader")
        leader.wait_for("leading:", LEAD_LIMIT_S)
        with database.engine.begin() as conn:
            ended = conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = :name"), {"name": f"broadcast-scheduler {os.uname().nodename} "
                                                           f"{leader.pid}"[:63]}).scalars().all()
        assert ended == [True]
        assert leader.proc.wait(timeout=jobs.HEARTBEAT_S + 10) == jobs.EXIT_RESTART, leader.text()[-4000:]
        assert "lost the PostgreSQL advisory lock" in leader.text()
