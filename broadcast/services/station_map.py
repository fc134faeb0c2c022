"""The station map: where each station in a user's area stands and what state it is in, with the outlines to
draw under it when there are no map tiles.

The project holds no boundary polygons: the administrative-units package gives each commune's centre only. So
the offline outlines are honest approximations: the area's outline is the convex hull of its communes' centres
(and its stations), and each commune is drawn as its centre point. The states are those of the dashboard
(broadcast.services.area_overview): the status the agents report, and "behind" from the delivery rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from broadcast.db.models import Area, Level, Station, StationManifest, StationStatus, User
from broadcast.services import deliveries, scope

SILENT = (StationStatus.OFFLINE, StationStatus.UNKNOWN)
# What the map colours a station by, most urgent first: silent ones, then behind, then playing and online.
STATES = ("offline", "unknown", "behind", "playing", "online")


@dataclass
class MapStation:
    code: str
    name: str
    commune: str
    lat: float
    lon: float
    status: str
    behind: bool
    attention: bool

    @property
    def state(self) -> str:
        """The one state the map shows: silence first (a silent station's version says nothing), then behind."""
        if self.status in (s.value for s in SILENT):
            return self.status
        return "behind" if self.behind else self.status


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull of (lon, lat) points, counter-clockwise and closed (first point repeated), by Andrew's
    monotone chain; fewer than three distinct points give what there is."""
    unique = sorted(set(points))
    if len(unique) < 3:
        return unique + unique[:1] if unique else []

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in unique:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(unique):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    return hull + hull[:1]


def stations_on_map(session: Session, user: User, *, now: datetime, silence: timedelta) -> list[MapStation]:
    """Active stations in the user's scope that have coordinates, with their state; one query."""
    query = scope.limit_stations(session, user, select(
        Station, deliveries.is_behind(), deliveries.needs_attention(now, silence)).select_from(Station).outerjoin(
        StationManifest, StationManifest.station_id == Station.id)).where(
        Station.active, Station.lat.is_not(None), Station.lon.is_not(None)).options(
        contains_eager(Station.commune)).order_by(Station.code)
    return [MapStation(station.code, station.name, station.commune.name, station.lat, station.lon,
                       station.status.value, bool(behind), bool(attention))
            for station, behind, attention in session.execute(query)]


def communes_in_scope(session: Session, user: User) -> list[Area]:
    """The communes of the user's area that have a centre (those of the structure its scope belongs to)."""
    query = select(Area).where(Area.level == Level.COMMUNE, Area.lat.is_not(None), Area.lon.is_not(None))
    if scope.covers_everything(user):
        # An administrator of everything: the communes that have stations (all of Vietnam would be 10,000).
        query = query.where(Area.id.in_(select(Station.commune_id)))
    return list(session.scalars(scope.limit_areas(user, query).order_by(Area.code)))


def geojson(found: list[MapStation], communes: list[Area], area_name: str) -> dict:
    """A GeoJSON FeatureCollection: the area's outline (a hull of commune centres and stations), the communes'
    centres, and the stations with their states."""
    points = [(c.lon, c.lat) for c in communes] + [(s.lon, s.lat) for s in found]
    features: list[dict] = []
    hull = convex_hull(points)
    if len(hull) >= 4:
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
            [list(p) for p in hull]]}, "properties": {"kind": "outline", "name": area_name}})
    features += [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                  "properties": {"kind": "commune", "code": c.code, "name": c.name}} for c in communes]
    features += [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                  "properties": {"kind": "station", "code": s.code, "name": s.name, "commune": s.commune,
                                 "status": s.status, "behind": s.behind, "attention": s.attention,
                                 "state": s.state}} for s in found]
    return {"type": "FeatureCollection", "features": features}


def state_counts(found: list[MapStation]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for station in found:
        counts[station.state] += 1
    return counts
