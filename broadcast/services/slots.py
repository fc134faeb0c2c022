"""Air-time slots: recurring windows on an area (inherited below it) or on one station, with exceptions.

Overlapping occurrences at any station are refused with the times that clash, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from dateutil.rrule import rrulestr
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from broadcast.db.models import Area, Level, OverflowPolicy, Role, Slot, Station, User
from broadcast.errors import InvalidInput, NotFound, Problems
from broadcast.i18n import _l
from broadcast.services import scope
from broadcast.services.audit import record

MIN_SLOT_S, MAX_SLOT_S = 60, 6 * 3600


@dataclass
class SlotSpec:
    name: str
    start_time: time
    duration_s: int
    valid_from: date
    rrule: str = "FREQ=DAILY"
    valid_until: date | None = None
    cancelled: list[date] = field(default_factory=list)
    extra: list[datetime] = field(default_factory=list)  # naive local start times
    overrides_id: int | None = None
    policy: OverflowPolicy = OverflowPolicy.REJECT
    gap_ms: int = 1000
    filler_asset_id: int | None = None


def check_rrule(rule: str) -> str:
    """An RRULE body that dateutil understands, without DTSTART (the slot's dates give it)."""
    rule = rule.strip().removeprefix("RRULE:")
    if not rule or "DTSTART" in rule.upper() or "\n" in rule:
        raise InvalidInput(_l("The recurrence must be an RRULE such as FREQ=WEEKLY;BYDAY=MO,WE,FR."), field="rrule")
    try:
        rrulestr(f"RRULE:{rule}", dtstart=datetime(2026, 1, 1))  # noqa: DTZ001 - only parsed
    except (ValueError, TypeError) as exc:
        raise InvalidInput(_l("The recurrence is not a valid RRULE: %(error)s", error=str(exc)),
                           field="rrule") from None
    return rule


def _check(spec: SlotSpec) -> None:
    """Refuse a slot with every field that is wrong, not only the first."""
    problems = Problems()
    if not spec.name or not spec.name.strip():
        problems.add("name", _l("Give the slot a name, e.g. Morning session."))
    if not MIN_SLOT_S <= spec.duration_s <= MAX_SLOT_S:
        problems.add("duration_s", _l("A slot lasts between 1 minute and 6 hours."))
    if spec.valid_until is not None and spec.valid_until < spec.valid_from:
        problems.add("valid_until", _l("The slot cannot end before it starts."))
    if not 0 <= spec.gap_ms <= 60_000:
        problems.add("gap_ms", _l("The gap between items is 0 to 60 seconds."))
    try:
        spec.rrule = check_rrule(spec.rrule)
    except InvalidInput as error:
        problems.add("rrule", error.message)
    problems.raise_any()


def _require_planner(user: User, area: Area) -> None:
    """Editors plan for the province and below; a commune operator only for their own commune's stations."""
    scope.require_role(user, Role.EDITOR, Role.OPERATOR)
    scope.require_area(user, area)
    if user.role is Role.OPERATOR and area.level is not Level.COMMUNE:
        raise InvalidInput(_l("A commune operator sets slots for their commune or its stations only."), field="area")


def ancestors_and_self(session: Session, area: Area) -> list[Area]:
    """The chain from the root of the area's structure down to the area itself."""
    chain, current = [], area
    while current is not None:
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


def inherited_slots(session: Session, *, area: Area | None = None, station: Station | None = None) -> list[Slot]:
    """Every slot that applies at this area or station: its ancestors' and its own, root first."""
    commune = station.commune if station is not None else area
    ids = [a.id for a in ancestors_and_self(session, commune)]
    found = list(session.scalars(select(Slot).where(Slot.area_id.in_(ids))))
    if station is not None:
        found += list(session.scalars(select(Slot).where(Slot.station_id == station.id)))
    depth = {a_id: i for i, a_id in enumerate(ids)}
    return sorted(found, key=lambda s: (depth.get(s.area_id, len(ids)), s.start_time, s.id))


def usable_slots(session: Session, user: User, *, today: date) -> list[Slot]:
    """The slots a user may place items into, not ended before ``today``: those of their area and the areas above
    it (inherited), then those of the areas and the stations inside it; by level, then start time."""
    current = (Slot.valid_until.is_(None)) | (Slot.valid_until >= today)
    on_areas = select(Slot).join(Area, Slot.area_id == Area.id).where(current).options(joinedload(Slot.area))
    on_stations = scope.limit_stations(session, user, select(Slot).join(Station, Slot.station_id == Station.id)
                                       ).where(current).options(joinedload(Slot.station))
    if not scope.covers_everything(user):
        if user.scope_area is None:
            return []
        above = [a.id for a in ancestors_and_self(session, user.scope_area)]
        on_areas = on_areas.where(Area.path.startswith(user.scope_area.path) | Area.id.in_(above))
    found = sorted(session.scalars(on_areas), key=lambda s: (s.area.path.count("/"), s.area.path, s.start_time,
                                                             s.id))
    return found + sorted(session.scalars(on_stations), key=lambda s: (s.station.code, s.start_time, s.id))


def create_slot(session: Session, user: User, spec: SlotSpec, *, area: Area | None = None,
                station: Station | None = None, check_overlaps=None) -> Slot:
    """Add a slot on an area or a station. ``check_overlaps(session, slot)`` raises on clashing occurrences."""
    if (area is None) == (station is None):
        raise InvalidInput(_l("A slot belongs to an area or to one station."), field="area")
    _require_planner(user, station.commune if station is not None else area)
    _check(spec)
    if spec.overrides_id is not None:
        available = {s.id for s in inherited_slots(session, area=area, station=station)}
        if spec.overrides_id not in available:
            raise InvalidInput(_l("A slot can only replace a slot inherited from above."), field="overrides_id")
    slot = Slot(name=spec.name.strip(), area=area, station=station, start_time=spec.start_time,
                duration_s=spec.duration_s, rrule=spec.rrule, valid_from=spec.valid_from,
                valid_until=spec.valid_until, overrides_id=spec.overrides_id, overflow_policy=spec.policy,
                gap_ms=spec.gap_ms, filler_asset_id=spec.filler_asset_id,
                exceptions={"cancelled": sorted(d.isoformat() for d in spec.cancelled),
                            "extra": sorted(_moment(e) for e in spec.extra)})
    session.add(slot)
    session.flush()
    if check_overlaps is not None:
        check_overlaps(session, slot)
    record(session, user, "slot.create", "slot", slot.id,
           {"area": area.code if area else None, "station": station.code if station else None,
            "start": spec.start_time.isoformat(), "duration_s": spec.duration_s, "rrule": spec.rrule})
    session.commit()
    return slot


def set_exception(session: Session, user: User, slot: Slot, *, cancel: date | None = None,
                  extra: datetime | None = None, restore: date | None = None, check_overlaps=None) -> Slot:
    """Cancel one day's occurrence (a holiday), restore it, or add a one-off extra session."""
    _require_planner(user, slot.station.commune if slot.station_id else slot.area)
    exceptions = {key: list(slot.exceptions.get(key, [])) for key in ("cancelled", "extra")}
    if cancel is not None and cancel.isoformat() not in exceptions["cancelled"]:
        exceptions["cancelled"].append(cancel.isoformat())
    if restore is not None and restore.isoformat() in exceptions["cancelled"]:
        exceptions["cancelled"].remove(restore.isoformat())
    if extra is not None:
        exceptions["extra"].append(_moment(extra))
    slot.exceptions = {k: sorted(set(v)) for k, v in exceptions.items()}
    session.flush()
    if check_overlaps is not None:
        check_overlaps(session, slot)
    record(session, user, "slot.exception", "slot", slot.id, {
        "cancel": cancel and cancel.isoformat(), "restore": restore and restore.isoformat(),
        "extra": extra and _moment(extra)})
    session.commit()
    return slot


def get_slot(session: Session, user: User, slot_id: int) -> Slot:
    slot = session.get(Slot, slot_id)
    area = None if slot is None else (slot.station.commune if slot.station_id else slot.area)
    if slot is None or not scope.covers(user, area) and not _is_ancestor_of_scope(user, area):
        raise NotFound(_l("Slot %(id)s does not exist.", id=slot_id))
    return slot


def require_readable(user: User, area: Area) -> None:
    """Slots are read in the user's own subtree and at the areas above it, whose slots it inherits; another
    commune's or district's are "outside your area" (403, as for its reports: areas are public, slots are not)."""
    if not _is_ancestor_of_scope(user, area):
        scope.require_area(user, area)


def _is_ancestor_of_scope(user: User, area: Area) -> bool:
    """Province slots are visible (read-only) to the communes that inherit them."""
    return user.scope_area is not None and user.scope_area.path.startswith(area.path)


SLOT_EDITABLE = ("name", "start_time", "duration_s", "rrule", "valid_until", "policy", "gap_ms", "filler_asset_id")


def update_slot(session: Session, user: User, slot: Slot, changes: dict, *, check_overlaps=None) -> Slot:
    """Change a slot in place; checked as a new slot would be (overlaps at every station it reaches included).
    Nothing is written when a check fails. The showlock still keeps sessions close to air as they were."""
    _require_planner(user, slot.station.commune if slot.station_id else slot.area)
    unknown = set(changes) - set(SLOT_EDITABLE)
    if unknown:
        raise InvalidInput(_l("This cannot change in place: %(fields)s.", fields=", ".join(sorted(unknown))),
                           field=sorted(unknown)[0])
    spec = SlotSpec(name=changes.get("name", slot.name), start_time=changes.get("start_time", slot.start_time),
                    duration_s=changes.get("duration_s", slot.duration_s), valid_from=slot.valid_from,
                    rrule=changes.get("rrule", slot.rrule), valid_until=changes.get("valid_until", slot.valid_until),
                    policy=changes.get("policy", slot.overflow_policy), gap_ms=changes.get("gap_ms", slot.gap_ms),
                    filler_asset_id=changes.get("filler_asset_id", slot.filler_asset_id))
    _check(spec)
    slot.name, slot.start_time, slot.duration_s = spec.name.strip(), spec.start_time, spec.duration_s
    slot.rrule, slot.valid_until, slot.overflow_policy = spec.rrule, spec.valid_until, spec.policy
    slot.gap_ms, slot.filler_asset_id = spec.gap_ms, spec.filler_asset_id
    session.flush()
    if check_overlaps is not None:
        check_overlaps(session, slot)
    record(session, user, "slot.update", "slot", slot.id,
           {k: (v.isoformat() if hasattr(v, "isoformat") else getattr(v, "value", v)) for k, v in changes.items()})
    session.commit()
    return slot


def delete_slot(session: Session, user: User, slot: Slot) -> None:
    _require_planner(user, slot.station.commune if slot.station_id else slot.area)
    record(session, user, "slot.delete", "slot", slot.id, {"name": slot.name})
    session.delete(slot)
    session.commit()


def _moment(local: datetime) -> str:
    """A stored extra session's local start: to the minute, or to the second when it has seconds."""
    return local.isoformat(timespec="seconds" if local.second else "minutes")
