"""The tasks a ``flask jobs worker`` process does for the scheduler (``TASK_BROKER_URL`` set).

Each task first looks at what is still to do, since its message may come a second time (its first worker
died before finishing): an item already read aloud is not read again, a delivery already sent is not sent
again, and a compile that changes nothing makes no new playlist versions. Each ends by deleting its
``queued_tasks`` rows with its result, so the scheduler may send that work again when it is next due.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import Celery
from sqlalchemy import delete

from broadcast.audio_setup import audio_tools
from broadcast.config import Settings, load_settings
from broadcast.db.models import CompileRequest, NewsItem, RenderState
from broadcast.jobs import queue
from broadcast.jobs.tasks import database
from broadcast.services import compiler, pushing, rendering, scheduling

log = logging.getLogger(__name__)


def render_item(item_id: int) -> None:
    """Read one item aloud (if it still waits for it), then recompile the stations that air it."""
    settings = load_settings()
    key = queue.render_key(item_id)
    with _releasing([key]), database(settings).session() as session:
        item = session.get(NewsItem, item_id)
        if item is not None and item.render_state is RenderState.PENDING:
            rendering.render_item(session, item, audio_tools(settings))
        if item is not None and item.render_state is RenderState.READY:
            # Also when a first attempt rendered it and died before this: a compile that finds the
            # playlists unchanged writes nothing.
            affected = {s for placement in rendering.placements_of(session, item)
                        for s in scheduling.placement_stations(session, placement)}
            scheduling.after_change(session, settings, affected)
        queue.release(session, [key])
        session.commit()


def compile_stations(station_ids: list[int]) -> None:
    """Compile these stations (one share of the queue's waiting stations) in this process."""
    settings = load_settings()
    keys = [queue.compile_key(s) for s in station_ids]
    started = datetime.now(UTC)
    with _releasing(keys), database(settings).session() as session:
        # The worker is the unit of parallel work here: no compile processes of its own.
        compiler.compile_stations(session, _one_process(settings), now=started, station_ids=station_ids)
        # A station asked for again while this compile ran stays asked for.
        session.execute(delete(CompileRequest).where(CompileRequest.station_id.in_(station_ids),
                                                     CompileRequest.requested_at <= started))
        queue.release(session, keys)
        session.commit()


def push_delivery(delivery_id: int) -> None:
    """Push one SFTP delivery if it is still due."""
    settings = load_settings()
    key = queue.push_key(delivery_id)
    with _releasing([key]), database(settings).session() as session:
        pushing.push_due(session, settings, now=datetime.now(UTC), delivery_ids=[delivery_id])
        queue.release(session, [key])
        session.commit()


class _releasing:
    """On an error, delete the task's rows anyway, so the scheduler sends the work again on its next run
    rather than after ``task_lost_after_s`` (as it would do the work again itself without a queue)."""

    def __init__(self, keys: list[str]):
        self.keys = keys

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is not None:
            log.error("task for %s failed: %s", ", ".join(self.keys[:3]), exc)
            with database(load_settings()).session() as session:
                queue.release(session, self.keys)
                session.commit()
        return False


def _one_process(settings: Settings) -> Settings:
    return settings.model_copy(update={"compile_workers": 1})


def worker_app(settings: Settings) -> Celery:
    """The service's Celery application with its tasks registered, for a worker process."""
    app = queue.celery_app(settings.task_broker_url)
    for name, function in ((queue.RENDER, render_item), (queue.COMPILE, compile_stations),
                           (queue.PUSH, push_delivery)):
        if name not in app.tasks:
            app.task(name=name)(function)
    return app
