"""Area boundaries for the station map: importing them from a GeoJSON file, and the outlines the map draws.

The administrative-units data gives each unit's centre only, so real boundaries come from the province's own
file (its land office, the statistics office, or OpenStreetMap exported to GeoJSON). An import matches each
feature to an area by its statistics-office code, checks every matched boundary, and writes all of them or none.
Areas without a boundary are drawn as estimates from their centres (outline_geometry.estimated_cells), marked so.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, AreaOutline, Level, Role, Structure, User
from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from broadcast.services import outline_geometry as geometry
from broadcast.services import scope
from broadcast.services.audit import record

# A boundary this far from its unit's centre is taken for a wrong code or swapped coordinates, not a boundary.
FAR_FROM_CENTRE_M = 5_000
# How many problems a refusal lists (a national file can have thousands).
PROBLEMS_SHOWN = 10
IMPORTERS = (Role.ADMIN,)


@dataclass
class ImportReport:
    code_property: str
    imported: Counter = field(default_factory=Counter)  # by level
    not_matched: list[str] = field(default_factory=list)  # features whose code names no area
    outside_scope: int = 0  # features of areas outside the importer's own

    @property
    def total(self) -> int:
        return sum(self.imported.values())


def import_outlines(session: Session, actor: User | str, data: bytes, *, source: str,
                    structure: Structure = Structure.CURRENT, code_property: str | None = None) -> ImportReport:
    """Import the boundaries of a GeoJSON file into the areas of ``structure`` they name by code; a boundary
    already held for an area is replaced. Any unreadable or implausible boundary refuses the whole file."""
    if isinstance(actor, User):
        scope.require_role(actor, *IMPORTERS)
    features = geometry.read_features(data)
    areas = list(session.scalars(select(Area).where(Area.structure == structure)))
    by_code: dict[str, list[Area]] = {}
    for area in areas:
        by_code.setdefault(area.code, []).append(area)
    key = code_property or geometry.code_property(features, set(by_code))
    if key is None:
        keys = sorted({k for f in features for k in f.properties})
        raise InvalidInput(_l("No feature's properties hold the code of an area of the %(structure)s map. The "
                              "properties found: %(keys)s.", structure=structure.value,
                              keys=", ".join(keys[:20]) or "-"), field="code_property")
    if not any(key in f.properties for f in features):
        raise InvalidInput(_l("No feature has the property %(key)s.", key=key), field="code_property")

    report = ImportReport(code_property=key)
    found: dict[int, tuple[Area, BaseGeometry]] = {}
    problems: list[str] = []
    for feature in features:
        candidates = [a for code in geometry.code_variants(feature.properties.get(key)) for a in by_code.get(code, [])]
        if not candidates:
            report.not_matched.append(feature.label)
            continue
        try:
            outline = geometry.area_of(feature)
        except InvalidInput as exc:
            problems.append(str(exc.message))
            continue
        area = _nearest(candidates, outline)
        if not _may_import(actor, area):
            report.outside_scope += 1
            continue
        if area.lat is not None and area.lon is not None:
            away = geometry.distance_m(outline, area.lon, area.lat)
            if away > FAR_FROM_CENTRE_M:
                problems.append(str(_l("%(feature)s: the boundary lies %(km).0f km from the centre of %(area)s "
                                       "(code %(code)s); is the code or the order of longitude and latitude "
                                       "wrong?", feature=feature.label, km=away / 1000, area=area.name,
                                       code=area.code)))
                continue
        if area.id in found:
            # Some files split a unit into several features (islands): they make one boundary.
            outline = shapely.union_all([found[area.id][1], outline])
        found[area.id] = (area, outline)
    if problems:
        shown = problems[:PROBLEMS_SHOWN]
        if len(problems) > PROBLEMS_SHOWN:
            shown.append(str(_l("… and %(n)s more.", n=len(problems) - PROBLEMS_SHOWN)))
        raise InvalidInput(_l("Nothing was imported: %(n)s boundaries are wrong. %(list)s", n=len(problems),
                              list=" ".join(shown)), field="file",
                           details={"problems": problems[:100], "count": len(problems)})
    if not found:
        raise InvalidInput(_l("No feature matched an area you may change (property %(key)s; %(n)s features "
                              "unmatched, %(outside)s outside your area).", key=key, n=len(report.not_matched),
                              outside=report.outside_scope), field="file")

    who = actor.username if isinstance(actor, User) else str(actor)
    session.execute(delete(AreaOutline).where(AreaOutline.area_id.in_(list(found))))
    for area, outline in found.values():
        session.add(AreaOutline(area_id=area.id, geometry=json.dumps(geometry.for_drawing(outline)),
                                source=source[:200], imported_by=who[:80]))
        report.imported[area.level.value] += 1
    record(session, actor, "areas.outlines_imported", "area_outlines", None,
           {"source": source[:200], "structure": structure.value, "code_property": key,
            "imported": dict(report.imported), "not_matched": len(report.not_matched)})
    session.commit()
    return report


def _may_import(actor: User | str, area: Area) -> bool:
    return not isinstance(actor, User) or scope.covers(actor, area)


def _nearest(candidates: list[Area], outline: BaseGeometry) -> Area:
    """Of the areas a code may name (02 is a province, 002 a district, 00002 a commune), the one the boundary
    holds; else the nearest."""
    if len(candidates) == 1:
        return candidates[0]

    def away(area: Area) -> float:
        if area.lat is None or area.lon is None:
            return float("inf")
        return geometry.distance_m(outline, area.lon, area.lat)

    return min(candidates, key=lambda a: (away(a), a.level is not Level.COMMUNE))


def held(session: Session, area_ids: list[int]) -> dict[int, BaseGeometry]:
    """The imported boundaries of these areas (those that have one)."""
    found: dict[int, BaseGeometry] = {}
    for start in range(0, len(area_ids), 500):
        rows = session.execute(select(AreaOutline.area_id, AreaOutline.geometry).where(
            AreaOutline.area_id.in_(area_ids[start:start + 500])))
        found.update((area_id, shape(json.loads(text))) for area_id, text in rows)
    return found


def remove(session: Session, actor: User) -> int:
    """Forget the imported boundaries of the actor's area (the map estimates them again)."""
    scope.require_role(actor, *IMPORTERS)
    ids = list(session.scalars(scope.limit_areas(actor, select(AreaOutline.area_id).join(
        Area, Area.id == AreaOutline.area_id))))
    for start in range(0, len(ids), 500):
        session.execute(delete(AreaOutline).where(AreaOutline.area_id.in_(ids[start:start + 500])))
    record(session, actor, "areas.outlines_removed", "area_outlines", None, {"removed": len(ids)})
    session.commit()
    return len(ids)


def counts(session: Session, user: User) -> dict[str, int]:
    """How many areas of the user's scope have an imported boundary, by level."""
    query = scope.limit_areas(user, select(Area.level).join(AreaOutline, AreaOutline.area_id == Area.id))
    return dict(Counter(level.value for level in session.scalars(query)))
