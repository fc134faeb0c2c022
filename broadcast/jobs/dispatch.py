"""What the scheduler sends to the task queue, each run, instead of doing it (``TASK_BROKER_URL`` set).

Each function picks the work that is due, leaves out what was sent and is not finished yet (see
``broadcast.jobs.queue``), and sends the rest; it returns how many pieces of work it sent.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcast.config import Settings
from broadcast.db.models import Area, CompileRequest, NewsItem, RenderState, Station
from broadcast.jobs import queue
from broadcast.services import deliveries


def renders(session: Session, settings: Settings, *, now: datetime, limit: int = 200) -> int:
    """One task per item waiting to be read aloud."""
    waiting = list(session.scalars(select(NewsItem.id).where(NewsItem.render_state == RenderState.PENDING)
                                   .order_by(NewsItem.updated_at, NewsItem.id).limit(limit)))
    busy = queue.in_flight(session, map(queue.render_key, waiting), now=now, lost_after=_lost_after(settings))
    sent = 0
    for item_id in waiting:
        key = queue.render_key(item_id)
        if key not in busy:
            sent += queue.send(session, settings, queue.RENDER, [item_id], [key], now=now)
    return sent


def compiles(session: Session, settings: Settings, *, now: datetime) -> int:
    """The stations waiting for a compile, in tasks of about ``task_compile_stations``, communes whole."""
    waiting = list(session.execute(
        select(CompileRequest.station_id, Station.commune_id)
        .join(Station, Station.id == CompileRequest.station_id).join(Area, Area.id == Station.commune_id)
        .order_by(Area.path, Station.id)))
    busy = queue.in_flight(session, (queue.compile_key(s) for s, _ in waiting), now=now,
                           lost_after=_lost_after(settings))
    todo = [(s, commune) for s, commune in waiting if queue.compile_key(s) not in busy]
    sent = 0
    for share in _shares(todo, settings.task_compile_stations):
        sent += queue.send(session, settings, queue.COMPILE, [share], [queue.compile_key(s) for s in share], now=now)
    return sent


def pushes(session: Session, settings: Settings, *, now: datetime) -> int:
    """One task per SFTP delivery that is due."""
    due = [d.id for d in deliveries.due_pushes(session, now)]
    session.commit()
    busy = queue.in_flight(session, map(queue.push_key, due), now=now, lost_after=_lost_after(settings))
    sent = 0
    for delivery_id in due:
        key = queue.push_key(delivery_id)
        if key not in busy:
            sent += queue.send(session, settings, queue.PUSH, [delivery_id], [key], now=now)
    return sent


def _shares(stations: list[tuple[int, int]], size: int) -> list[list[int]]:
    """Station ids in shares of about ``size``, in tree order, never splitting a commune."""
    shares: list[list[int]] = []
    for _commune, members in itertools.groupby(stations, key=lambda s: s[1]):
        ids = [s for s, _ in members]
        if not shares or (shares[-1] and len(shares[-1]) + len(ids) > size):
            shares.append([])
        shares[-1].extend(ids)
    return shares


def _lost_after(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.task_lost_after_s)
