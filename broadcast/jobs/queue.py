"""Handing work to a task queue (``TASK_BROKER_URL``) when one machine is not enough.

The scheduler still decides what is due; with a broker configured it sends each piece of it (an item to
read aloud, a share of the stations to compile, an SFTP push) to ``flask jobs worker`` processes on any
machine instead of doing it itself. Without a broker nothing here runs.

Each piece is sent once: a ``queued_tasks`` row, keyed by what the work is about, is written before its
message and deleted by the worker in the same transaction as the work's result. Messages are acknowledged
only when their task has finished (``acks_late``), so a worker killed mid-task leaves its message to the
broker, which hands it to another worker: the work is redone, and since every task first looks at what is
still to do (an item still pending, a delivery still open), nothing is done twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

from celery import Celery
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broadcast.config import Settings
from broadcast.db.models import QueuedTask

log = logging.getLogger(__name__)

RENDER = "broadcast.render_item"
COMPILE = "broadcast.compile_stations"
PUSH = "broadcast.push_delivery"


@cache
def celery_app(broker_url: str) -> Celery:
    """The Celery application of the service on this broker; the worker and the sending side use the same."""
    app = Celery("broadcast", broker=broker_url, set_as_current=False)
    app.conf.update(
        # The message stays with the broker until its task has finished; a worker that dies (killed, out of
        # memory, machine gone) gives it back, and another worker does it.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds only the message it works on
        task_ignore_result=True,  # outcomes are in the database (items, playlists, deliveries)
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Redis has no consumer connections to watch: a message taken by a worker that died comes back after
        # this long. Longer than any one task may take.
        broker_transport_options={"visibility_timeout": 3600},
        # A broker that is down must not hold the scheduler's job for long: the work stays due and is sent on
        # a later run.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
        enable_utc=True,
    )
    return app


def render_key(item_id: int) -> str:
    return f"render:{item_id}"


def push_key(delivery_id: int) -> str:
    return f"push:{delivery_id}"


def compile_key(station_id: int) -> str:
    return f"compile:{station_id}"


def in_flight(session: Session, keys: Iterable[str], *, now: datetime, lost_after: timedelta) -> set[str]:
    """Those of ``keys`` whose work was sent and is neither finished nor taken as lost."""
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(session.scalars(select(QueuedTask.key).where(QueuedTask.key.in_(keys[start:start + 500]),
                                                                  QueuedTask.queued_at > now - lost_after)))
    return found


def claim(session: Session, keys: list[str], *, now: datetime) -> None:
    """Record that the work of ``keys`` is being sent (a lost one's row is renewed); committed."""
    existing = {task.key: task for start in range(0, len(keys), 500)
                for task in session.scalars(select(QueuedTask).where(QueuedTask.key.in_(keys[start:start + 500])))}
    for key in keys:
        task = existing.get(key)
        if task is None:
            session.add(QueuedTask(key=key, queued_at=now))
        else:
            log.warning("task %s was sent %s and never finished: sending it again", key, task.queued_at)
            task.queued_at, task.sent = now, task.sent + 1
    session.commit()


def release(session: Session, keys: Iterable[str]) -> None:
    """The work of ``keys`` is finished (or will not be sent after all); not committed: the caller commits it
    with the work's result."""
    keys = list(keys)
    for start in range(0, len(keys), 500):
        session.execute(delete(QueuedTask).where(QueuedTask.key.in_(keys[start:start + 500])))


def send(session: Session, settings: Settings, task: str, args: list, keys: list[str], *, now: datetime) -> bool:
    """Send one task with its work's keys claimed first; False (and the claim undone) if the broker refused."""
    try:
        claim(session, keys, now=now)
    except IntegrityError:  # another scheduler claimed it a moment ago (a takeover in progress)
        session.rollback()
        return False
    task_id = hashlib.sha256(f"{task}|{args}|{now.isoformat()}".encode()).hexdigest()[:32]
    try:
        celery_app(settings.task_broker_url).send_task(task, args=args, task_id=task_id,
                                                       queue=settings.task_queue)
    except Exception as exc:  # the broker is down: the work stays due and is sent on a later run
        log.warning("could not send %s to the task queue: %s", task, exc)
        release(session, keys)
        session.commit()
        return False
    return True
