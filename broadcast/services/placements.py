"""Placements: an item put into a slot's occurrences for chosen areas and stations, over a date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload, selectinload

from broadcast import formats
from broadcast.db.models import (
    Area,
    ContentSource,
    ItemStatus,
    Level,
    NewsItem,
    Placement,
    PlacementTarget,
    PriorityOrder,
    Role,
    Slot,
    Station,
    Structure,
    User,
)
from broadcast.errors import Conflict, InvalidInput, NotFound, Problems
from broadcast.i18n import _l
from broadcast.services import items, scope, slots, webhooks
from broadcast.services.audit import record

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_DAYS = 366


@dataclass
class PlacementSpec:
    item_id: int
    slot_id: int
    targets: list[str]  # statistics-office codes of areas, or "station:<code>"
    date_from: date
    date_until: date
    weekdays: list[str] | None = None
    repeat_count: int = 1
    repeat_gap_s: int = 0
    position: int | None = None
    priority: int = 0


@dataclass(frozen=True)
class Target:
    area: Area | None
    station: Station | None

    @property
    def path(self) -> str:
        return self.station.commune.path if self.station is not None else self.area.path

    @property
    def label(self) -> str:
        return self.station.code if self.station is not None else self.area.name


def resolve_target(session: Session, code: str) -> Target:
    code = code.strip()
    if code.startswith("station:"):
        station = session.scalar(select(Station).where(Station.code == code.removeprefix("station:")))
        if station is None:
            raise NotFound(_l("No station has the code %(code)s.", code=code.removeprefix("station:")),
                           field="targets")
        return Target(None, station)
    matches = list(session.scalars(select(Area).where(Area.code == code)))
    if not matches:
        raise NotFound(_l("No area has the code %(code)s.", code=code), field="targets")
    current = [a for a in matches if a.structure is Structure.CURRENT]
    return Target((current or matches)[0], None)


def _slot_length_ms(slot: Slot) -> int:
    return slot.duration_s * 1000


def airtime_ms(item: NewsItem, repeat_count: int, repeat_gap_s: int, gap_ms: int) -> int:
    """How long the placed item takes in one occurrence, repeats and gaps included."""
    length = item.duration_ms or 0
    return repeat_count * length + (repeat_count - 1) * max(gap_ms, repeat_gap_s * 1000)


def field_problems(spec: PlacementSpec, today: date, *, started: bool = False) -> Problems:
    """Every field of the placement that is wrong on its own (all of them, for one answer). A field left
    empty (``None``, from a form that could not read it) is not judged here."""
    problems = Problems()
    if spec.date_from is not None and spec.date_from < today and not started:
        problems.add("date_from", _l("A placement cannot start in the past (%(day)s).",
                                     day=formats.day(spec.date_from)))
    if spec.date_from is not None and spec.date_until is not None:
        if spec.date_until < spec.date_from:
            problems.add("date_until", _l("The placement cannot end before it starts."))
        if (spec.date_until - spec.date_from) > timedelta(days=MAX_DAYS):
            problems.add("date_until", _l("A placement spans at most a year."))
    if spec.weekdays is not None:
        unknown = [d for d in spec.weekdays if d not in WEEKDAYS]
        if unknown or not spec.weekdays:
            problems.add("weekdays", _l("Weekdays are written MO, TU, WE, TH, FR, SA, SU."))
    if spec.repeat_count is not None and not 1 <= spec.repeat_count <= 10:
        problems.add("repeat_count", _l("An item airs 1 to 10 times in one session."))
    if spec.repeat_gap_s is not None and not 0 <= spec.repeat_gap_s <= 3 * 3600:
        problems.add("repeat_gap_s", _l("The gap between repeats is 0 to 3 hours."))
    if spec.position is not None and not 1 <= spec.position <= 100:
        problems.add("position", _l("A fixed position is 1 to 100."))
    if not spec.targets:
        problems.add("targets", _l("Choose at least one area or station to air the item in."))
    return problems


def _fits(problems: Problems, item: NewsItem, spec: PlacementSpec, slot: Slot, field: str) -> None:
    """Whether the item, repeated as asked, can fit in the slot at all (judged only on valid repeats)."""
    if "repeat_count" in problems or "repeat_gap_s" in problems:
        return
    needed = airtime_ms(item, spec.repeat_count, spec.repeat_gap_s, slot.gap_ms)
    if needed > _slot_length_ms(slot):
        problems.add(field, _l("The item needs %(need)s but the slot lasts %(have)s: it can never fit.",
                               need=formats.spoken_length(needed / 1000), have=formats.spoken_length(slot.duration_s)))


def create_placement(session: Session, user: User, spec: PlacementSpec, *, today: date, commit: bool = True
                     ) -> Placement:
    """Place an item; refuses what can never air (in the past, outside the slot's area, longer than the slot).

    With ``commit=False`` the placement is only flushed, so the caller can still check what it would do to the
    schedule (see ``broadcast.services.placing``) and roll it back.
    """
    scope.require_role(user, Role.EDITOR, Role.OPERATOR)
    problems = field_problems(spec, today)
    item = items.get_item(session, user, spec.item_id)
    if item.status in (ItemStatus.ARCHIVED, ItemStatus.REJECTED):
        raise Conflict(_l("A %(status)s item cannot be placed.", status=items.STATUS_LABELS[item.status]),
                       field="item_id")
    slot = slots.get_slot(session, user, spec.slot_id)
    slot_area = slot.station.commune if slot.station_id else slot.area
    targets = [resolve_target(session, code) for code in dict.fromkeys(spec.targets)]
    for target in targets:
        scope.require_area(user, target.station.commune if target.station else target.area)
        applies = (target.station is not None and target.station.id == slot.station_id) if slot.station_id else \
            target.path.startswith(slot_area.path)
        if not applies:
            problems.add("targets", _l("The slot %(slot)s does not air in %(target)s.", slot=slot.name,
                                       target=target.label))
        if target.area is not None and target.area.level is Level.DISTRICT and user.role is Role.OPERATOR:
            problems.add("targets", _l("A commune operator places items in their own commune."))
    _fits(problems, item, spec, slot, "item_id")
    problems.raise_any()
    position = spec.position
    if position is None and item.content_source is ContentSource.STREAM:
        # A relayed programme starts on its own clock: the relay opens its session (after any emergency) unless
        # the editor gives it another place, so the session's start is the relay's start.
        position = 1
    placement = Placement(item=item, slot=slot, date_from=spec.date_from, date_until=spec.date_until,
                          weekdays=",".join(spec.weekdays) if spec.weekdays else None,
                          repeat_count=spec.repeat_count, repeat_gap_s=spec.repeat_gap_s, position=position,
                          priority=spec.priority, placed_by_area_id=user.scope_area_id, created_by_id=user.id,
                          targets=[PlacementTarget(area_id=t.area.id if t.area else None,
                                                   station_id=t.station.id if t.station else None) for t in targets])
    session.add(placement)
    session.flush()
    record(session, user, "placement.create", "placement", placement.id, {
        "item": item.id, "slot": slot.id, "targets": [t.label for t in targets],
        "from": spec.date_from.isoformat(), "until": spec.date_until.isoformat()})
    # An item already approved with its audio is published for these areas now: tell their webhooks.
    webhooks.publish_item(session, item, today=today)
    if commit:
        session.commit()
    else:
        session.flush()
    return placement


EDITABLE = ("date_from", "date_until", "weekdays", "repeat_count", "repeat_gap_s", "position", "priority")


def update_placement(session: Session, user: User, placement: Placement, changes: dict, *, today: date,
                     commit: bool = True) -> Placement:
    """Change a placement's dates, weekdays, repeats, position or priority in place (item, slot and targets stay:
    changing those is a new placement). Checked as a new one would be; nothing is written when a check fails."""
    scope.require_role(user, Role.EDITOR, Role.OPERATOR)
    placed_by = session.get(Area, placement.placed_by_area_id) if placement.placed_by_area_id else None
    if placed_by is not None:
        scope.require_area(user, placed_by)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(_l("Only dates, weekdays, repeats, position and priority change in place; place the "
                              "item again to change its slot or areas."), field=sorted(unknown)[0])
    current = {"date_from": placement.date_from, "date_until": placement.date_until,
               "weekdays": placement.weekdays.split(",") if placement.weekdays else None,
               "repeat_count": placement.repeat_count, "repeat_gap_s": placement.repeat_gap_s,
               "position": placement.position, "priority": placement.priority}
    spec = PlacementSpec(item_id=placement.item_id, slot_id=placement.slot_id, targets=["kept"],
                         **{**current, **changes})
    started = placement.date_from < today
    if started and spec.date_from != placement.date_from:
        raise InvalidInput(_l("The placement has begun airing: its first day cannot change."), field="date_from")
    problems = field_problems(spec, today, started=started)
    if spec.date_until < today:
        problems.add("date_until", _l("A placement cannot end in the past (%(day)s).",
                                      day=formats.day(spec.date_until)))
    _fits(problems, placement.item, spec, placement.slot, "repeat_count")
    problems.raise_any()
    placement.date_from, placement.date_until = spec.date_from, spec.date_until
    placement.weekdays = ",".join(spec.weekdays) if spec.weekdays else None
    placement.repeat_count, placement.repeat_gap_s = spec.repeat_count, spec.repeat_gap_s
    placement.position, placement.priority = spec.position, spec.priority
    record(session, user, "placement.update", "placement", placement.id,
           {k: (v.isoformat() if isinstance(v, date) else v) for k, v in changes.items()})
    if commit:
        session.commit()
    else:
        session.flush()
    return placement


def get_placement(session: Session, user: User, placement_id: int) -> Placement:
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise NotFound(_l("Placement %(id)s does not exist.", id=placement_id))
    items.get_item(session, user, placement.item_id)  # visible only with its item
    return placement


def item_placements(session: Session, item: NewsItem) -> list[Placement]:
    """An item's placements (the caller has checked the item is the user's to see), latest first."""
    query = (select(Placement).where(Placement.item_id == item.id)
             .options(joinedload(Placement.slot), selectinload(Placement.targets).joinedload(PlacementTarget.area),
                      selectinload(Placement.targets).joinedload(PlacementTarget.station))
             .order_by(Placement.date_from.desc(), Placement.id.desc()))
    return list(session.scalars(query))


def delete_placement(session: Session, user: User, placement: Placement) -> None:
    """Remove a placement (its stations are recompiled by the caller)."""
    scope.require_role(user, Role.EDITOR, Role.OPERATOR)
    placed_by = session.get(Area, placement.placed_by_area_id) if placement.placed_by_area_id else None
    if placed_by is not None:
        scope.require_area(user, placed_by)
    record(session, user, "placement.delete", "placement", placement.id, {"item": placement.item_id})
    session.delete(placement)
    session.commit()


def set_priority_order(session: Session, user: User, commune: Area, placement_ids: list[int]) -> None:
    """The commune operator's order for priority items that clash in their commune."""
    scope.require_role(user, Role.OPERATOR, Role.EDITOR)
    scope.require_area(user, commune)
    if commune.level is not Level.COMMUNE:
        raise InvalidInput(_l("The order of clashing priority items is set per commune."), field="commune")
    known = set(session.scalars(select(Placement.id).where(Placement.id.in_(placement_ids))))
    missing = [p for p in placement_ids if p not in known]
    if missing:
        raise NotFound(_l("Placement %(id)s does not exist.", id=missing[0]), field="placement_ids")
    session.execute(delete(PriorityOrder).where(PriorityOrder.commune_id == commune.id))
    session.add_all(PriorityOrder(commune_id=commune.id, placement_id=p, position=i)
                    for i, p in enumerate(placement_ids, start=1))
    record(session, user, "placement.order", "area", commune.code, {"placements": placement_ids})
    session.commit()
