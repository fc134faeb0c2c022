"""Broadcast reports per area and period, for the province and the ministry.

The period is a range of local days, first to last inclusive, each counted in its station's zone (the station's
own, else its commune's, else the service's). Per station:

- planned: the sessions, bulletins and seconds in the newest compiled playlist of each day. A bulletin is an
  item entry with audio (what a station can air, as the airing records count it); filler is left out. A
  session that began before the station's playlist of its day was first compiled (a station added in the
  evening gets that morning's sessions too) was never the station's to air and is left out.
- delivered: days whose newest playlist reached the station in time, i.e. a verified delivery sent after the
  playlist was compiled and before the day ended.
- sessions aired, partly aired or missed: the occurrence airing records of those days (of the sessions planned,
  as above).
- bulletins played, failed or skipped, and seconds played: the as-run events of planned items (kind item or
  emergency) in a session (``<slot id>@<start>``), scheduled in the period. Only what played counts towards
  the seconds. These alone are compared with the plan (``played_ratio``): airings outside the sessions never
  count as bulletins, so they cannot take the ratio past 100 %.
- confirmed: operators' confirmations of sessions that began in the period (aired, not aired).
- emergency bulletins: as-run events of kind emergency, planned or not, played or not, and the seconds played:
  emergency broadcasts (outside the sessions) and emergency items placed in a session (which are planned, so
  they count as that session's bulletins too).
- "play now": as-run events of kind command, the files operators had a station play at once; outside the plan.

Each measure is one grouped query over all the area's stations (a province has ~10,000), never one per station;
the totals per commune, district and province are sums of the station rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta

from sqlalchemy import String, func, literal, select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, Role, Station, User
from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from broadcast.services import areas, report_queries, scope

MAX_DAYS = 366
DEFAULT_DAYS = 7
REPORT_ROLES = (Role.EDITOR, Role.APPROVER, Role.OPERATOR)  # and admins; each within their own area


@dataclass
class Figures:
    """The measures of one station, area or day; seconds are exact (milliseconds / 1000)."""

    planned_sessions: int = 0
    planned_items: int = 0
    seconds_requested: float = 0.0
    days_planned: int = 0
    days_delivered: int = 0
    sessions_aired: int = 0
    sessions_partial: int = 0
    sessions_missed: int = 0
    items_played: int = 0
    items_failed: int = 0
    items_skipped: int = 0
    seconds_played: float = 0.0
    confirmed_aired: int = 0
    confirmed_not_aired: int = 0
    emergency_played: int = 0
    emergency_not_played: int = 0
    emergency_seconds: float = 0.0
    play_now_played: int = 0
    play_now_not_played: int = 0
    play_now_seconds: float = 0.0

    def add(self, other: Figures) -> None:
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def played_ratio(self) -> float | None:
        """Seconds played over seconds requested (None when nothing was requested): planned bulletins only,
        never emergency or "play now" airings."""
        return self.seconds_played / self.seconds_requested if self.seconds_requested else None

    def any(self) -> bool:
        return any(getattr(self, name) for name in MEASURES)


MEASURES = tuple(f.name for f in fields(Figures))


@dataclass
class StationRow:
    station_id: int
    code: str
    name: str
    active: bool
    commune_code: str
    commune_name: str
    commune_path: str
    zone: str
    figures: Figures = field(default_factory=Figures)


@dataclass
class AreaTotal:
    """One area of the rollup: the report's area first, then its districts and communes in tree order."""

    area: Area
    depth: int  # levels below the report's area
    stations: int = 0
    figures: Figures = field(default_factory=Figures)


@dataclass
class DayTotal:
    day: date
    seconds_requested: float = 0.0
    seconds_played: float = 0.0


@dataclass
class Report:
    area: Area
    first: date
    last: date
    zone: str  # the area's zone, in which the page shows the period
    stations: list[StationRow]
    areas: list[AreaTotal]
    days: list[DayTotal]

    @property
    def totals(self) -> Figures:
        return self.areas[0].figures


def check_period(first: date, last: date) -> None:
    """A period runs forward and covers at most ``MAX_DAYS`` days."""
    if first > last:
        raise InvalidInput(_l("The period starts after it ends: choose a start day on or before the end day."),
                           field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(_l("A report covers at most %(days)s days: choose a shorter period.", days=MAX_DAYS),
                           field="to")


def default_period(today: date, first: date | None = None, last: date | None = None) -> tuple[date, date]:
    """The period asked for, completed: up to today, and a week long unless the start is given."""
    last = last or today
    return first or last - timedelta(days=DEFAULT_DAYS - 1), last


def report_area(session: Session, user: User, code: str | None) -> Area:
    """The area named by its code, or the user's own area."""
    if code:
        return areas.find_area(session, code)
    if user.scope_area is None:
        raise InvalidInput(_l("Choose the area to report on."), field="area")
    return user.scope_area


def area_zone(area: Area, default_zone: str) -> str:
    """The zone of an area's days: its own or an ancestor's (areas above rarely differ), else the default."""
    while area is not None:
        if area.timezone:
            return area.timezone
        area = area.parent
    return default_zone


def report_areas(session: Session, user: User) -> list[Area]:
    """The areas a user may report on that have stations (and the user's own area), in tree order."""
    paths = set(session.scalars(scope.limit_areas(user, select(Area.path).join(Station, Station.commune_id == Area.id))
                                .distinct()))
    # "2025/08/00694/" lies in "2025/08/" and is "2025/08/00694/"; "2025/" alone is no area.
    prefixes = {path[:i + 1] for path in paths for i, char in enumerate(path) if char == "/" and path.index("/") < i}
    query = scope.limit_areas(user, select(Area).where(Area.path.in_(prefixes) if prefixes else False))
    found = {a.id: a for a in session.scalars(query)}
    if user.scope_area is not None:
        found.setdefault(user.scope_area.id, user.scope_area)
    return sorted(found.values(), key=lambda a: (a.structure.value != "2025", a.path))


def broadcast_report(session: Session, user: User, area: Area, first: date, last: date, *,
                     default_zone: str) -> Report:
    """Planned, delivered, aired, confirmed and emergency figures per station of ``area`` over first..last."""
    scope.require_role(user, *REPORT_ROLES)
    scope.require_area(user, area)
    check_period(first, last)
    zone = func.coalesce(Station.timezone, Area.timezone, literal(default_zone, String))
    in_area = Area.path.startswith(area.path)
    rows = [StationRow(*row) for row in session.execute(
        select(Station.id, Station.code, Station.name, Station.active, Area.code, Area.name, Area.path, zone)
        .join(Area, Station.commune_id == Area.id).where(in_area).order_by(Area.path, Station.code))]
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    totals = {d: DayTotal(d) for d in days}
    if rows:
        stations = (select(Station.id.label("station_id"), Station.code, zone.label("zone"))
                    .join(Area, Station.commune_id == Area.id).where(in_area).subquery("scoped"))
        measured = report_queries.Measures(session, stations, {r.zone for r in rows}, days, default_zone)
        by_id = {r.station_id: r.figures for r in rows}
        for kind, key, found in measured.plan():
            if kind == "day":
                totals[key].seconds_requested = found
            else:
                vars(by_id[key]).update(found)
        for found in (measured.airings(), measured.events(), measured.confirmations()):
            for station_id, figures in found:
                vars(by_id[station_id]).update(figures)
        for day, played in measured.played_per_day():
            totals[day].seconds_played = played
    rows = [r for r in rows if r.active or r.figures.any()]  # a station closed since still counts for its past
    return Report(area, first, last, area_zone(area, default_zone), rows, _rollup(session, area, rows),
                  list(totals.values()))


def _rollup(session: Session, area: Area, rows: list[StationRow]) -> list[AreaTotal]:
    """Totals for the report's area and every district and commune below it that has stations."""
    wanted: dict[str, list[StationRow]] = {area.path: list(rows)}
    for row in rows:
        path = row.commune_path
        for i in range(len(area.path), len(path)):
            if path[i] == "/":
                wanted.setdefault(path[:i + 1], []).append(row)
    found = {a.path: a for a in session.scalars(select(Area).where(Area.path.in_(list(wanted))))}
    found[area.path] = area
    result = []
    for path in sorted(wanted):
        if path not in found:
            continue
        total = AreaTotal(found[path], path.count("/") - area.path.count("/"), len(wanted[path]))
        for row in wanted[path]:
            total.figures.add(row.figures)
        result.append(total)
    return result
