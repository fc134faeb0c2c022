"""The administrative area tree: loading official units, counting, and walking the tree."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, AreaSuccession, Level, Structure
from broadcast.errors import NotFound
from broadcast.i18n import _l
from broadcast.services import admin_data
from broadcast.services.audit import record


@dataclass(frozen=True)
class LoadReport:
    province: str
    structure: Structure
    created: Counter
    updated: int
    successions: int


def _resolve_province(structure: Structure, text: str) -> admin_data.Province:
    province = admin_data.find_province(structure.value, text)
    if province:
        return province
    if structure is Structure.CURRENT:
        legacy = admin_data.find_province("legacy", text)
        successor = admin_data.merged_into(legacy) if legacy else None
        if successor:
            raise NotFound(_l("%(old)s no longer exists in the 2025 structure; it is part of %(new)s.",
                              old=legacy.short_name, new=successor.short_name), field="province")
    hints = admin_data.suggest_provinces(structure.value, text)
    if hints:
        raise NotFound(_l("Unknown province %(name)s. Did you mean: %(hints)s?", name=text, hints=", ".join(hints)),
                       field="province")
    raise NotFound(_l("Unknown province %(name)s.", name=text), field="province")


def load_province(session: Session, province_text: str, structure: Structure, *, actor: str = "cli") -> LoadReport:
    """Create or update one province's units; running it again changes nothing that is already right."""
    province = _resolve_province(structure, province_text)
    units = admin_data.units(structure.value, province.code)
    existing = {
        (a.level, a.code): a
        for a in session.scalars(select(Area).where(Area.structure == structure, Area.path.startswith(
            Area.path_for(structure, [province.code]))))
    }
    by_code: dict[tuple[Level, str], Area] = {}
    created: Counter = Counter()
    updated = 0
    for unit in units:
        level = Level(unit.level)
        parent = None
        if unit.parent_code is not None:
            legacy_commune = level is Level.COMMUNE and structure is Structure.LEGACY
            parent_level = Level.DISTRICT if legacy_commune else Level.PROVINCE
            parent = by_code[(parent_level, unit.parent_code)]
        path = (parent.path if parent else Area.path_for(structure, [])) + unit.code + "/"
        values = dict(name=unit.name, short_name=unit.short_name, kind=unit.kind, lat=unit.lat, lon=unit.lon,
                      path=path, parent=parent)
        area = existing.get((level, unit.code))
        if area is None:
            area = Area(structure=structure, level=level, code=unit.code, **values)
            session.add(area)
            created[level.value] += 1
        elif any(getattr(area, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(area, k, v)
            updated += 1
        by_code[(level, unit.code)] = area
    session.flush()
    links = link_successions(session)
    record(session, actor, "areas.load", "area", province.code,
           {"structure": structure.value, "created": dict(created), "updated": updated})
    session.commit()
    return LoadReport(province.name, structure, created, updated, links)


def link_successions(session: Session) -> int:
    """Link loaded legacy communes to the 2025 communes that took them over; returns the links added."""
    legacy = {a.code: a for a in session.scalars(
        select(Area).where(Area.structure == Structure.LEGACY, Area.level == Level.COMMUNE))}
    current = {a.code: a for a in session.scalars(
        select(Area).where(Area.structure == Structure.CURRENT, Area.level == Level.COMMUNE))}
    if not legacy or not current:
        return 0
    have = {(old, new) for old, new in session.execute(select(AreaSuccession.legacy_id, AreaSuccession.current_id))}
    added = 0
    for province in session.scalars(select(Area).where(Area.structure == Structure.CURRENT,
                                                        Area.level == Level.PROVINCE)):
        key_to_current = {u.key: current.get(u.code) for u in admin_data.units("2025", province.code)}
        pairs = admin_data.successors(_province_key("2025", province.code))
        legacy_keys = _legacy_keys_for(pairs)
        for legacy_key, current_key, is_default in pairs:
            old = legacy.get(legacy_keys.get(legacy_key, ""))
            new = key_to_current.get(current_key)
            if old is None or new is None or (old.id, new.id) in have:
                continue
            session.add(AreaSuccession(legacy_id=old.id, current_id=new.id, is_default=is_default))
            have.add((old.id, new.id))
            added += 1
    session.flush()
    return added


def _province_key(structure: str, code: str) -> str:
    return next(p.key for p in admin_data.provinces(structure) if p.code == code)


def _legacy_keys_for(pairs: list[tuple[str, str, bool]]) -> dict[str, str]:
    """Legacy commune key -> code, for the legacy provinces named in ``pairs``."""
    province_keys = {legacy.split("_", 1)[0] for legacy, _, _ in pairs}
    result: dict[str, str] = {}
    for province in admin_data.provinces("legacy"):
        if province.key in province_keys:
            result.update({u.key: u.code for u in admin_data.units("legacy", province.code) if u.level == "commune"})
    return result


def level_counts(session: Session, structure: Structure | None = None) -> dict[str, int]:
    """Units per level, over one structure or both."""
    query = select(Area.level, func.count()).group_by(Area.level)
    if structure is not None:
        query = query.where(Area.structure == structure)
    counts = {level: n for level, n in session.execute(query)}
    return {level.value: counts.get(level, 0) for level in Level}


def get_area(session: Session, area_id: int) -> Area:
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound(_l("Area %(id)s does not exist.", id=area_id))
    return area


def find_area(session: Session, code: str, *, level: Level | None = None, structure: Structure | None = None) -> Area:
    """An area by its statistics-office code; the 2025 unit wins when both structures have the code."""
    query = select(Area).where(Area.code == code)
    if level is not None:
        query = query.where(Area.level == level)
    if structure is not None:
        query = query.where(Area.structure == structure)
    matches = sorted(session.scalars(query), key=lambda a: a.structure is not Structure.CURRENT)
    if not matches:
        raise NotFound(_l("No area has the code %(code)s.", code=code), field="code")
    return matches[0]
