"""The dashboard's view of an area: station states and delivery per child area, and the stations to look at first.

A province has some 10,000 stations, so nothing here loads them one by one: the figures come from one query
grouped by commune (folded into the child areas by path prefix), and the station list is one sorted page.
"Up to date" and "needs attention" are the rules of broadcast.services.deliveries, in their SQL form.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, contains_eager

from broadcast.db.models import Area, Station, StationManifest, StationStatus, User
from broadcast.services import deliveries, scope

SILENT = (StationStatus.OFFLINE, StationStatus.UNKNOWN)
# Filters of the station list: a status, or "silent" (offline or never heard from).
STATUS_FILTERS = {**{s.value: (s,) for s in StationStatus}, "silent": SILENT}


@dataclass
class Figures:
    """Counts of active stations in one area."""

    stations: int = 0
    online: int = 0
    playing: int = 0
    offline: int = 0
    unknown: int = 0
    up_to_date: int = 0
    behind: int = 0
    attention: int = 0

    @property
    def silent(self) -> int:
        """Offline or never heard from."""
        return self.offline + self.unknown

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def matching(self, status: str | None) -> int:
        """How many stations the station list shows with this status filter."""
        return self.stations if status is None else sum(getattr(self, s.value) for s in STATUS_FILTERS[status])


@dataclass
class Overview:
    area: Figures
    children: list[tuple[Area, Figures]]


def _stations(session: Session, user: User, query: Select, area: Area | None) -> Select:
    """Active stations in the user's scope (and ``area``), joined to their commune and current manifest."""
    query = scope.limit_stations(session, user, query.outerjoin(
        StationManifest, StationManifest.station_id == Station.id)).where(Station.active)
    if area is not None:
        scope.require_area(user, area)
        query = query.where(Area.path.startswith(area.path))
    return query


def _count(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def overview(session: Session, user: User, area: Area | None, children: list[Area], *, now: datetime,
             silence: timedelta) -> Overview:
    """The figures of ``area`` (or the user's whole scope) and of each of ``children``, in one query."""
    columns = [func.count(Station.id)] + [_count(Station.status == s) for s in StationStatus] + [
        _count(deliveries.is_up_to_date()), _count(deliveries.is_behind()),
        _count(deliveries.needs_attention(now, silence))]
    query = _stations(session, user, select(Area.path, *columns).select_from(Station), area).group_by(Area.path)
    total, per_child = Figures(), {child.id: Figures() for child in children}
    for path, count, *numbers in session.execute(query):
        by_status = dict(zip([s.value for s in StationStatus], numbers[:len(StationStatus)], strict=True))
        up_to_date, behind, attention = numbers[len(StationStatus):]
        figures = Figures(stations=count, up_to_date=up_to_date, behind=behind, attention=attention, **by_status)
        total.add(figures)
        for child in children:
            if path.startswith(child.path):
                per_child[child.id].add(figures)
    return Overview(total, [(child, per_child[child.id]) for child in children])


@dataclass
class StationRow:
    station: Station
    attention: bool
    up_to_date: bool
    behind: bool


def station_page(session: Session, user: User, area: Area | None, *, status: str | None = None, now: datetime,
                 silence: timedelta, limit: int, offset: int = 0) -> list[StationRow]:
    """One page of the area's stations, those needing someone first: needing attention, then silent, then
    behind, then by code."""
    attention = deliveries.needs_attention(now, silence)
    query = _stations(session, user, select(Station, attention, deliveries.is_up_to_date(), deliveries.is_behind())
                      .select_from(Station), area).options(contains_eager(Station.commune))
    if status is not None:
        query = query.where(Station.status.in_(STATUS_FILTERS[status]))
    query = query.order_by(case((attention, 0), else_=1), case((Station.status.in_(SILENT), 0), else_=1),
                           case((deliveries.is_behind(), 0), else_=1), Station.code)
    return [StationRow(station, bool(needs), bool(current), bool(late))
            for station, needs, current, late in session.execute(query.limit(limit).offset(offset))]


def communes_with_stations(session: Session, user: User, area: Area | None) -> list[tuple[Area, int]]:
    """The communes in ``area`` (or the user's scope) that have active stations, with how many, by name."""
    counted = _stations(session, user, select(Station.commune_id, func.count(Station.id).label("n"))
                        .select_from(Station), area).group_by(Station.commune_id).subquery()
    query = select(Area, counted.c.n).join(counted, counted.c.commune_id == Area.id).order_by(Area.name, Area.code)
    return [(commune, n) for commune, n in session.execute(query)]
