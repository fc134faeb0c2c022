"""Keeping stations' schedules right after a change: overlap checks, and compiling what the change touched.

Small changes (a commune's item) are compiled at once, so the editor sees fit problems in the answer;
large ones (a province-wide slot over thousands of stations) are queued for the compile job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

import schedules
from broadcast.config import Settings
from broadcast.db.models import CompileRequest, Placement, Slot, Station, utcnow
from broadcast.errors import Conflict
from broadcast.i18n import _l
from broadcast.services import compiler
from broadcast.services.schedule_inputs import load_inputs

INLINE_LIMIT = 200  # stations compiled within the request; more go to the compile job
OVERLAP_HORIZON_DAYS = 28


def slot_stations(session: Session, slot: Slot) -> set[int]:
    if slot.station_id is not None:
        return {slot.station_id}
    return compiler.stations_under(session, area_ids=[slot.area_id])


def placement_stations(session: Session, placement: Placement) -> set[int]:
    return compiler.stations_under(session, area_ids=[t.area_id for t in placement.targets if t.area_id],
                                   station_ids=[t.station_id for t in placement.targets if t.station_id])


def check_overlaps(session: Session, slot: Slot, settings: Settings, *, today: date) -> None:
    """Refuse a slot whose occurrences would overlap another slot's at any station it reaches (next 4 weeks)."""
    station_ids = slot_stations(session, slot)
    if not station_ids:
        return
    found = list(session.scalars(select(Station).where(Station.id.in_(station_ids))
                                 .options(joinedload(Station.commune))))
    start = max(slot.valid_from, today)
    inputs = load_inputs(session, found, start, start + timedelta(days=OVERLAP_HORIZON_DAYS))
    checked: set[tuple] = set()
    for station in found:
        station_inputs = inputs.for_station(station)
        chain_key = station_inputs.group_key()[0]
        if chain_key in checked:
            continue
        checked.add(chain_key)
        zone = compiler.station_zone(station, settings)
        for overlap in schedules.validate_slots(schedules.effective_slots(station_inputs.chain), zone, start,
                                                start + timedelta(days=OVERLAP_HORIZON_DAYS)):
            if slot.id in (overlap.first.slot_id, overlap.second.slot_id):
                other = overlap.second if overlap.first.slot_id == slot.id else overlap.first
                other_slot = session.get(Slot, other.slot_id)
                raise Conflict(_l("At %(station)s this slot overlaps %(other)s on %(when)s.", station=station.code,
                                  other=other_slot.name if other_slot else other.slot_id,
                                  when=other.start.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M")),
                               field="start_time")


def after_change(session: Session, settings: Settings, station_ids: Iterable[int], *, now: datetime | None = None
                 ) -> compiler.CompileReport | None:
    """Compile the touched stations now when they are few; otherwise queue them for the compile job."""
    station_ids = set(station_ids)
    if not station_ids:
        return None
    if len(station_ids) <= INLINE_LIMIT:
        return compiler.compile_stations(session, settings, now=now or utcnow(), station_ids=station_ids)
    request_compile(session, station_ids)
    return None


def request_compile(session: Session, station_ids: Iterable[int] | None = None) -> int:
    """Queue these stations (default: every active one) for the compile job; committed. Returns how many."""
    if station_ids is None:
        station_ids = session.scalars(select(Station.id).where(Station.active))
    station_ids = set(station_ids)
    now = utcnow()
    queued: set[int] = set()
    for chunk in _chunks(sorted(station_ids), 500):
        queued.update(session.scalars(select(CompileRequest.station_id).where(CompileRequest.station_id.in_(chunk))))
        # A station asked for again while a compile of it runs is compiled once more after: that compile
        # removes only the requests older than its start.
        session.execute(update(CompileRequest).where(CompileRequest.station_id.in_(chunk))
                        .values(requested_at=now))
    session.add_all(CompileRequest(station_id=s, requested_at=now) for s in station_ids - queued)
    session.commit()
    return len(station_ids)


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def compile_queued(session: Session, settings: Settings, *, now: datetime | None = None) -> int:
    """Compile the stations waiting in the queue; returns how many."""
    waiting = set(session.scalars(select(CompileRequest.station_id)))
    if not waiting:
        return 0
    started = utcnow()
    compiler.compile_stations(session, settings, now=now or started, station_ids=waiting)
    session.execute(delete(CompileRequest).where(CompileRequest.station_id.in_(waiting),
                                                 CompileRequest.requested_at <= started))
    session.commit()
    return len(waiting)
