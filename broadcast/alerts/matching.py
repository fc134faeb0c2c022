"""Which stations a CAP alert reaches: by statistics-office code, polygon or circle.

Geocodes must be ``VN-NSO`` codes of a province, district or commune. A code that exists in the 2025 structure
means the 2025 unit; a code found only among legacy units is carried to the 2025 communes that took it over
(through ``AreaSuccession``, partial successions included: a warning should rather reach too many than too few).
Stations still attached to legacy communes are reached through the same links the other way.
Polygons and circles are tested against each active station's coordinates, or its commune's when it has none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from broadcast.alerts.cap import CapAlert, CapArea, CapError, Circle
from broadcast.db.models import Area, AreaSuccession, Level, Station, Structure
from broadcast.i18n import _l

GEOCODE_SCHEME = "VN-NSO"
EARTH_RADIUS_KM = 6371.0088


def point_in_polygon(lat: float, lon: float, ring: Sequence[tuple[float, float]]) -> bool:
    """Ray casting over a ring of (lat, lon) points; fine for the few-kilometre shapes of warnings."""
    inside = False
    for (lat1, lon1), (lat2, lon2) in zip(ring, [*ring[1:], ring[0]], strict=True):
        if (lat1 > lat) != (lat2 > lat):
            crossing = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < crossing:
                inside = not inside
    return inside


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance by the haversine formula."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def in_circle(lat: float, lon: float, circle: Circle) -> bool:
    return distance_km(lat, lon, circle.lat, circle.lon) <= circle.radius_km


@dataclass(frozen=True)
class AreaMatch:
    description: str
    stations: tuple[str, ...]  # station codes, sorted


def _commune_ids_for_code(session: Session, code: str) -> set[int] | None:
    """The communes (both structures) a statistics-office code covers; None when no unit has the code."""
    found = list(session.scalars(select(Area).where(Area.code == code)))
    chosen = [a for a in found if a.structure is Structure.CURRENT] or found
    if not chosen:
        return None
    ids: set[int] = set()
    for area in chosen:
        ids |= set(session.scalars(select(Area.id).where(
            Area.structure == area.structure, Area.level == Level.COMMUNE, Area.path.startswith(area.path))))
    if not ids:
        return ids
    links = session.execute(select(AreaSuccession.legacy_id, AreaSuccession.current_id).where(
        or_(AreaSuccession.legacy_id.in_(ids), AreaSuccession.current_id.in_(ids)))).all()
    for legacy_id, current_id in links:
        ids |= {legacy_id, current_id}
    return ids


class _Stations:
    """Active stations with their effective coordinates, loaded once per alert."""

    def __init__(self, session: Session):
        self.all = list(session.scalars(select(Station).options(joinedload(Station.commune))
                                        .where(Station.active.is_(True))))

    def located(self):
        for station in self.all:
            lat = station.lat if station.lat is not None else station.commune.lat
            lon = station.lon if station.lon is not None else station.commune.lon
            if lat is not None and lon is not None:
                yield station, lat, lon


def _match_area(session: Session, area: CapArea, stations: _Stations, unknown: list[str]) -> set[str]:
    codes: set[str] = set()
    for scheme, value in area.geocodes:
        if scheme != GEOCODE_SCHEME:
            raise CapError("geocode", _l("Unsupported geocode %(scheme)s in area %(area)s: use %(wanted)s "
                                         "statistics-office codes.", scheme=scheme, area=area.description,
                                         wanted=GEOCODE_SCHEME))
        ids = _commune_ids_for_code(session, value)
        if ids is None:
            unknown.append(value)
            continue
        codes |= {s.code for s in stations.all if s.commune_id in ids}
    for station, lat, lon in stations.located():
        if any(point_in_polygon(lat, lon, ring) for ring in area.polygons) or any(
                in_circle(lat, lon, circle) for circle in area.circles):
            codes.add(station.code)
    return codes


def match_areas(session: Session, alert: CapAlert) -> list[AreaMatch]:
    """The stations each area of the alert reaches; raises :class:`CapError` listing unknown area codes."""
    stations = _Stations(session)
    unknown: list[str] = []
    matches = [AreaMatch(area.description, tuple(sorted(_match_area(session, area, stations, unknown))))
               for info in alert.infos for area in info.areas]
    if unknown:
        raise CapError("geocode", _l("Unknown area code %(codes)s: no administrative unit has it.",
                                     codes=", ".join(sorted(set(unknown)))))
    return matches


def target_stations(session: Session, alert: CapAlert) -> list[str]:
    """The sorted codes of every station the alert reaches."""
    return sorted({code for match in match_areas(session, alert) for code in match.stations})
