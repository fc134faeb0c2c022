"""Building and running the one scheduler process of the service, and choosing which process that is.

Any number of ``flask jobs run`` processes may be started; exactly one leads (runs the jobs) and the others
stand by, trying again every few seconds, so one of them takes over soon after the leader dies, however
it dies. Leadership is a lease that ends with the leader's process:

- on PostgreSQL, a session-level advisory lock held on a connection of its own, which also works across
  machines: the server frees it when that connection ends;
- on SQLite (one machine), an ``flock`` on ``scheduler.lock`` in the instance folder.

Neither may outlive the leader in a process it forked (a compile worker): see ``_close_in_forked_children``.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from broadcast.config import Settings

log = logging.getLogger(__name__)

# (id, target, trigger arguments)
JOBS = (
    ("mark_offline_stations", "broadcast.jobs.tasks:mark_offline_stations", {"trigger": "interval", "seconds": 60}),
    # Approved items are read aloud ahead of air time; a short interval keeps the editor's wait short.
    ("render_pending_items", "broadcast.jobs.tasks:render_pending_items", {"trigger": "interval", "seconds": 10}),
    # Large changes queue their stations; small ones were compiled in the request already.
    ("compile_queued", "broadcast.jobs.tasks:compile_queued", {"trigger": "interval", "seconds": 15}),
    # Every night the horizon moves a day on: compile everything (unchanged days keep their versions).
    ("compile_nightly", "broadcast.jobs.tasks:compile_all", {"trigger": "cron", "hour": 0, "minute": 5}),
    # Sessions that ended with nothing reported by their station are recorded as missed (late reports fix it).
    ("mark_missed_airings", "broadcast.jobs.tasks:mark_missed_airings", {"trigger": "interval", "minutes": 5}),
    # Push stations get each new manifest version; failed pushes come back on their backoff schedule.
    ("push_deliveries", "broadcast.jobs.tasks:push_deliveries", {"trigger": "interval", "seconds": 15}),
    # Emergency broadcasts also reach push stations' inboxes (MQTT and the long poll carry them at once).
    ("push_emergencies", "broadcast.jobs.tasks:push_emergencies", {"trigger": "interval", "seconds": 5}),
    # A live announcement whose web worker died is ended, and its stations told to stop.
    ("end_abandoned_live", "broadcast.jobs.tasks:end_abandoned_live", {"trigger": "interval", "seconds": 30}),
    # Other systems hear of a published bulletin within seconds; failures are retried with backoff.
    ("deliver_webhooks", "broadcast.jobs.tasks:deliver_webhooks", {"trigger": "interval", "seconds": 15}),
    # Upstream sources are pulled each on its own interval (conditional GETs); this only looks whose turn it is.
    ("pull_sources", "broadcast.jobs.exchange:pull_sources", {"trigger": "interval", "seconds": 30}),
    # The previous day's figures go up to the data-sharing platform once a night, retried until acknowledged.
    ("push_statistics", "broadcast.jobs.exchange:push_statistics", {"trigger": "interval", "minutes": 5}),
)

# A standby asks for the lead this often; with the server's keepalive below, a dead leader is replaced
# within STANDBY_RETRY_S + 20 s even when its machine vanished, and within STANDBY_RETRY_S when it was killed.
STANDBY_RETRY_S = 3.0
# The leader checks this often that it still holds its lease.
HEARTBEAT_S = 5.0
# Exit status of a leader that stopped on purpose, having lost its lease or its loop (EX_TEMPFAIL): a
# supervisor restarts it, and it leads again or stands by.
EXIT_RESTART = 75
# The advisory lock's key: any fixed 64-bit number, derived from a name so that it says whose it is.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"broadcast.jobs.scheduler").digest()[:8], "big", signed=True)
# Both ends of the lease connection probe it when idle, so a vanished peer is noticed in about 20 s: the
# server then ends the session (freeing the lock), and the leader's next heartbeat fails.
_SERVER_KEEPALIVE = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}
_CLIENT_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 5, "keepalives_count": 3,
                     "tcp_user_timeout": 20_000, "connect_timeout": 10}


class SchedulerAlreadyRunning(RuntimeError):
    pass


def build_scheduler(settings: Settings, *, blocking: bool = True) -> BaseScheduler:
    """A scheduler (not started) with the service's jobs, stored in the service's database."""
    scheduler_cls = BlockingScheduler if blocking else BackgroundScheduler
    url = settings.resolved_database_url
    # SQLite lets one writer in at a time, and a large compile writes for seconds: the job store waits for
    # it rather than fail after SQLite's default 5 s, which would end the scheduler's thread.
    engine_options = {"connect_args": {"timeout": 120}} if make_url(url).get_backend_name() == "sqlite" else {}
    scheduler = scheduler_cls(
        jobstores={"default": SQLAlchemyJobStore(url=url, tablename="apscheduler_jobs", engine_options=engine_options)},
        executors={"default": ThreadPoolExecutor(4)},
        # A job missed while the process was down runs once on restart, if it is less than a minute late.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone=settings.zone,
    )
    now = datetime.now(settings.zone)
    for job_id, target, trigger in JOBS:
        # Interval jobs run as soon as a scheduler takes the lead, not one interval later: after a takeover
        # the work the dead leader left (a queued compile, a push) is done at once.
        first = {"next_run_time": now} if trigger["trigger"] == "interval" else {}
        scheduler.add_job(target, id=job_id, replace_existing=True, **first, **trigger)
    return scheduler


# Leases -------------------------------------------------------------------------------------------------


class FileLease:
    """Leadership on one machine: an exclusive ``flock`` on ``scheduler.lock`` in the instance folder."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def describe(self) -> str:
        """What the lease is, for the log."""
        return f"lock file {self.path}"

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())  # for people: which process leads
        self._fd = fd
        _close_in_forked_children(fd)
        return True

    def holder(self) -> str:
        """Who holds the lock, as far as the file says."""
        try:
            pid = self.path.read_text(encoding="ascii").strip()
        except OSError:
            pid = ""
        return f"process {pid}" if pid else "another process"

    def held(self) -> bool:
        """An flock lasts as long as its descriptor: it cannot be lost while this process lives."""
        return self._fd is not None

    def release(self) -> None:
        """Give the lead up (nothing if not held)."""
        if self._fd is None:
            return
        _forget_in_forked_children(self._fd)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


class PostgresLease:
    """Leadership across machines: a session-level advisory lock on a dedicated PostgreSQL connection.

    The connection is in autocommit, so it sits idle (not "idle in transaction") while it holds the lock.
    """

    def __init__(self, url: str):
        self.url = url
        self._engine = None
        self._connection: Connection | None = None
        self._fd: int | None = None  # the session's socket

    def describe(self) -> str:
        """What the lease is, for the log."""
        return f"PostgreSQL advisory lock {ADVISORY_KEY} on database {make_url(self.url).database}"

    def holder(self) -> str:
        """Who holds the lock (the server would say only to a role that may read every session)."""
        return "another scheduler"

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits. Raises SQLAlchemyError when the server is unreachable."""
        name = f"broadcast-scheduler {socket.gethostname()} {os.getpid()}"[:63]
        self._engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                     connect_args={**_CLIENT_KEEPALIVE, "application_name": name})
        connection = self._engine.connect()
        try:
            for setting, value in _SERVER_KEEPALIVE.items():
                connection.execute(text(f"SET {setting} = {int(value)}"))
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar_one()
        except BaseException:
            connection.close()
            self._dispose()
            raise
        if not got:
            connection.close()
            self._dispose()
            return False
        self._connection = connection
        self._fd = connection.connection.dbapi_connection.fileno()
        _close_in_forked_children(self._fd)
        return True

    def held(self) -> bool:
        """Whether the session still holds the lock; False once the connection is gone (the lock with it)."""
        if self._connection is None:
            return False
        try:
            return bool(self._connection.execute(text(
                # A bigint key is held as its high half (classid) and low half (objid), objsubid 1.
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND objsubid = 1"
                " AND ((classid::bigint << 32) | objid::bigint) = :key)"
            ), {"key": ADVISORY_KEY}).scalar_one())
        except SQLAlchemyError as exc:
            log.error("the scheduler's lock connection failed: %s", exc)
            return False

    def release(self) -> None:
        """Give the lead up (nothing if not held)."""
        if self._fd is not None:
            _forget_in_forked_children(self._fd)
            self._fd = None
        if self._connection is not None:
            # Either may fail when the connection is gone already; then the lock went with it.
            with suppress(SQLAlchemyError):
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            with suppress(SQLAlchemyError):
                self._connection.close()
            self._connection = None
        self._dispose()

    def _dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def leadership_lease(settings: Settings) -> FileLease | PostgresLease:
    """The lease that decides which scheduler leads: PostgreSQL's advisory lock, else the instance folder's."""
    url = settings.resolved_database_url
    if make_url(url).get_backend_name() == "postgresql":
        return PostgresLease(url)
    return FileLease(settings.instance_path / "scheduler.lock")


@contextmanager
def single_instance(settings: Settings):
    """Hold the lead for the block; raise SchedulerAlreadyRunning at once if another process holds it."""
    lease = leadership_lease(settings)
    if not lease.acquire():
        raise SchedulerAlreadyRunning(f"another scheduler process holds the {lease.describe()}")
    try:
        yield lease
    finally:
        lease.release()


# Forked children ----------------------------------------------------------------------------------------

# Descriptors that carry the lead, by number, with the (device, inode) they stood for when registered.
_LEASE_FDS: dict[int, tuple[int, int]] = {}
_at_fork = threading.Lock()
_hooked = False


def _close_in_forked_children(fd: int) -> None:
    """Close this descriptor in every process forked from now on.

    A fork shares the open file description: an flock, or the socket of the lock's PostgreSQL session,
    would live on in a compile worker that outlived the leader and keep every other scheduler standing by.
    """
    global _hooked
    with _at_fork:
        if not _hooked:
            os.register_at_fork(after_in_child=_close_lease_fds)
            _hooked = True
        info = os.fstat(fd)
        _LEASE_FDS[fd] = (info.st_dev, info.st_ino)


def _forget_in_forked_children(fd: int) -> None:
    """Stop closing this descriptor in forked children: it is about to be closed, and its number reused."""
    with _at_fork:
        _LEASE_FDS.pop(fd, None)


def _close_lease_fds() -> None:
    """In a forked child: close the lease descriptors (never unlock them: the lock is the parent's)."""
    for fd, identity in list(_LEASE_FDS.items()):
        try:
            info = os.fstat(fd)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == identity:  # a number since reused for something else stays open
            os.close(fd)
    _LEASE_FDS.clear()


# Running ------------------------------------------------------------------------------------------------


class _StopRequest:
    """Set by SIGTERM or SIGINT; the main thread sleeps in short steps and looks at it.

    Not a threading.Event: its set() takes a lock that the interrupted main thread may be holding in wait().
    """

    def __init__(self):
        self.requested = False

    def __call__(self, *_) -> None:
        self.requested = True

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; whether a stop was asked for."""
        deadline = time.monotonic() + seconds
        while not self.requested and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.2))
        return self.requested


def run_forever(settings: Settings) -> None:
    """Stand by until this process leads, then run the jobs until SIGTERM or SIGINT.

    A leader whose lease is lost (its database connection dropped) exits at once with EXIT_RESTART
    rather than go on scheduling beside the scheduler that may already have taken over; so does one whose
    APScheduler loop died, rather than lead and run nothing.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = _StopRequest()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    lease = leadership_lease(settings)
    try:
        if _stand_by(lease, stop):
            _lead(settings, lease, stop)
    finally:
        lease.release()


def _stand_by(lease: FileLease | PostgresLease, stop: _StopRequest) -> bool:
    """Wait until the lease is ours (True) or the process is asked to stop (False)."""
    said = None
    while not stop.requested:
        try:
            if lease.acquire():
                return True
            state = f"{lease.holder()} holds the {lease.describe()}"
        except (SQLAlchemyError, OSError) as exc:  # the database is down: a standby waits for it as well
            state = f"cannot take the {lease.describe()}: {exc}".splitlines()[0]
        if state != said:  # once per change, not every few seconds
            log.warning("standby: %s; trying again every %g s", state, STANDBY_RETRY_S)
            said = state
        stop.wait(STANDBY_RETRY_S)
    log.info("standby stopped")
    return False


def _lead(settings: Settings, lease: FileLease | PostgresLease, stop: _StopRequest) -> None:
    """Run the jobs while the lease holds, until asked to stop."""
    scheduler = build_scheduler(settings, blocking=False)
    scheduler.start()
    log.info("leading: scheduler started with %d jobs (pid %d holds the %s)", len(JOBS), os.getpid(),
             lease.describe())
    try:
        while not stop.wait(HEARTBEAT_S):
            if not lease.held():
                _exit_now(f"lost the {lease.describe()}: stopping at once so that another scheduler can lead")
            if not _loop_alive(scheduler):
                _exit_now("the scheduler's loop ended on an error (above): stopping so that it is restarted")
    finally:
        # Running jobs finish while the lease is still held, so that the next leader's do not overlap them.
        scheduler.shutdown(wait=True)
    log.info("scheduler stopped")


def _loop_alive(scheduler: BaseScheduler) -> bool:
    """Whether APScheduler's thread still runs: an error there (the job store's database) ends it silently."""
    thread = getattr(scheduler, "_thread", None)  # BackgroundScheduler's loop; no public way to ask
    return thread is None or thread.is_alive()


def _exit_now(reason: str) -> None:
    """End the process now, with EXIT_RESTART: jobs still running would overlap the next leader's
    (the compile workers die with this process)."""
    log.critical("%s (exit %d)", reason, EXIT_RESTART)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_RESTART)
