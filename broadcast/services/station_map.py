"""The station map: where each station in a user's area stands and what state it is in, with the outlines to
draw under it.

Outlines are the boundaries a province imported (broadcast.services.area_outlines) where it did; elsewhere they
are estimated from the communes' centres, which is all the administrative-units data gives: each commune is the
land nearer its centre than any other commune's, within the province's imported boundary or the centres' widened
hull. Each outline says which it is, and the page says so too. The states are those of the dashboard
(broadcast.services.area_overview): the status the agents report, and "behind" from the delivery rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from broadcast.db.models import Area, Level, Station, StationManifest, StationStatus, User
from broadcast.services import area_outlines, deliveries, scope
from broadcast.services import outline_geometry as geometry

SILENT = (StationStatus.OFFLINE, StationStatus.UNKNOWN)
# What the map colours a station by, most urgent first: silent ones, then behind, then playing and online.
STATES = ("offline", "unknown", "behind", "playing", "online")


@dataclass
class MapStation:
    code: str
    name: str
    commune: str
    commune_code: str
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


@dataclass
class Outline:
    geometry: BaseGeometry
    imported: bool

    @property
    def source(self) -> str:
        return "imported" if self.imported else "estimated"


def stations_on_map(session: Session, user: User, *, now: datetime, silence: timedelta) -> list[MapStation]:
    """Active stations in the user's scope that have coordinates, with their state; one query."""
    query = scope.limit_stations(session, user, select(
        Station, deliveries.is_behind(), deliveries.needs_attention(now, silence)).select_from(Station).outerjoin(
        StationManifest, StationManifest.station_id == Station.id)).where(
        Station.active, Station.lat.is_not(None), Station.lon.is_not(None)).options(
        contains_eager(Station.commune)).order_by(Station.code)
    return [MapStation(station.code, station.name, station.commune.name, station.commune.code, station.lat,
                       station.lon, station.status.value, bool(behind), bool(attention))
            for station, behind, attention in session.execute(query)]


def communes_in_scope(session: Session, user: User) -> list[Area]:
    """The communes of the user's area that have a centre (those of the structure its scope belongs to)."""
    query = select(Area).where(Area.level == Level.COMMUNE, Area.lat.is_not(None), Area.lon.is_not(None))
    if scope.covers_everything(user):
        # An administrator of everything: the communes that have stations (all of Vietnam would be 10,000).
        query = query.where(Area.id.in_(select(Station.commune_id)))
    return list(session.scalars(scope.limit_areas(user, query).order_by(Area.code)))


def commune_outlines(session: Session, communes: list[Area]) -> dict[int, Outline]:
    """Each commune's outline: its imported boundary, else its estimated cell among all the communes of its
    province (so an operator's one commune is cut as it is on the province's map)."""
    provinces: dict[str, list[Area]] = {}
    for commune in communes:
        provinces.setdefault(province_path(commune), []).append(commune)
    province_rows = {area.path: area for area in session.scalars(select(Area).where(
        Area.level == Level.PROVINCE, Area.path.in_(list(provinces))))}
    held = area_outlines.held(session, [c.id for c in communes] + [p.id for p in province_rows.values()])
    outlines = {c.id: Outline(held[c.id], True) for c in communes if c.id in held}
    for path, shown in provinces.items():
        if all(c.id in outlines for c in shown):
            continue
        neighbours = session.execute(select(Area.id, Area.lon, Area.lat).where(
            Area.level == Level.COMMUNE, Area.path.startswith(path), Area.lat.is_not(None), Area.lon.is_not(None)))
        province = province_rows.get(path)
        cells = geometry.estimated_cells([(str(i), lon, lat) for i, lon, lat in neighbours],
                                         held.get(province.id) if province is not None else None)
        for commune in shown:
            if commune.id not in outlines and str(commune.id) in cells:
                outlines[commune.id] = Outline(cells[str(commune.id)], False)
    return outlines


def province_path(area: Area) -> str:
    """The path prefix of the province an area lies in ("2025/08/")."""
    structure, province = area.path.split("/")[:2]
    return f"{structure}/{province}/"


def area_outline(session: Session, user: User, communes: dict[int, Outline]) -> Outline | None:
    """The user's area's outline: its imported boundary, else the union of its communes' outlines (imported only
    when all of them are)."""
    if user.scope_area_id is not None:
        held = area_outlines.held(session, [user.scope_area_id])
        if user.scope_area_id in held:
            return Outline(held[user.scope_area_id], True)
    if not communes:
        return None
    union = shapely.union_all([o.geometry for o in communes.values()])
    return Outline(union, all(o.imported for o in communes.values()))


def geojson(found: list[MapStation], communes: list[Area], area_name: str, *,
            outlines: dict[int, Outline] | None = None, outline: Outline | None = None) -> dict:
    """A GeoJSON FeatureCollection: the area's outline, the communes (each its outline, else its centre, with its
    station count and their most urgent state), and the stations with their states."""
    outlines = outlines or {}
    features: list[dict] = []
    if outline is not None:
        features.append({"type": "Feature", "geometry": geometry.for_drawing(outline.geometry), "properties": {
            "kind": "outline", "name": area_name, "outline": outline.source}})
    by_commune: dict[str, list[MapStation]] = {}
    for station in found:
        by_commune.setdefault(station.commune_code, []).append(station)
    for commune in communes:
        theirs = by_commune.get(commune.code, [])
        drawn = outlines.get(commune.id)
        features.append({"type": "Feature", "geometry": (
            geometry.for_drawing(drawn.geometry) if drawn else mapping(shapely.Point(commune.lon, commune.lat))),
            "properties": {"kind": "commune", "code": commune.code, "name": commune.name,
                           "centre": [commune.lon, commune.lat], "outline": drawn.source if drawn else "centre",
                           "stations": len(theirs), "state": most_urgent(theirs)}})
    features += [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                  "properties": {"kind": "station", "code": s.code, "name": s.name, "commune": s.commune,
                                 "status": s.status, "behind": s.behind, "attention": s.attention,
                                 "state": s.state}} for s in found]
    return {"type": "FeatureCollection", "features": features}


def most_urgent(found: list[MapStation]) -> str | None:
    """The state a commune is tinted by: its most urgent station's (None without stations)."""
    states = {s.state for s in found}
    return next((state for state in STATES if state in states), None)


def state_counts(found: list[MapStation]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for station in found:
        counts[station.state] += 1
    return counts
