"""Building and running the one scheduler process of the service."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
from contextlib import contextmanager

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

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
    # Other systems hear of a published bulletin within seconds; failures are retried with backoff.
    ("deliver_webhooks", "broadcast.jobs.tasks:deliver_webhooks", {"trigger": "interval", "seconds": 15}),
)


class SchedulerAlreadyRunning(RuntimeError):
    pass


def build_scheduler(settings: Settings, *, blocking: bool = True) -> BaseScheduler:
    scheduler_cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_cls(
        jobstores={"default": SQLAlchemyJobStore(url=settings.resolved_database_url, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(4)},
        # A job missed while the process was down runs once on restart, if it is less than a minute late.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone=settings.zone,
    )
    for job_id, target, trigger in JOBS:
        scheduler.add_job(target, id=job_id, replace_existing=True, **trigger)
    return scheduler


@contextmanager
def single_instance(settings: Settings):
    """Hold a lock in the instance folder so that a second scheduler process refuses to start."""
    path = settings.instance_path / "scheduler.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SchedulerAlreadyRunning(f"another scheduler process holds {path.name}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_forever(settings: Settings) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with single_instance(settings):
        scheduler = build_scheduler(settings, blocking=True)
        signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
        log.info("scheduler started with %d jobs", len(JOBS))
        try:
            scheduler.start()
        except KeyboardInterrupt:
            pass
