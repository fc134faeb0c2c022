"""The editors' timeline: an area's slot occurrences over some days, each with its items and how full it is.

Nothing here decides a schedule: the day is compiled with the same pure scheduler as the stations'
playlists (``schedules.compile_days``), read-only and on the fly, as it airs at one representative station
of the area (its first active station by code). Most stations of an area share the same slots and
placements; one whose commune adds its own shows that commune's items when its commune is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

import schedules
from broadcast.config import Settings
from broadcast.db.models import Area, Placement, Role, Station, User
from broadcast.errors import InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import compiler, placements, scope
from broadcast.services.schedule_inputs import load_inputs

VIEWERS = (Role.EDITOR, Role.APPROVER, Role.OPERATOR)  # admins always
MOVERS = (Role.EDITOR, Role.OPERATOR)  # as for placements: approvers read only
MAX_DAYS = 7


@dataclass(frozen=True)
class TimelineItem:
    """One airing in an occurrence; ``place`` counts the non-emergency airings (a placement's fixed position)."""

    placement_id: int | None
    item_id: int | None
    title: str
    item_class: str
    duration_ms: int
    repeat: int
    start: datetime
    place: int | None  # None for emergency airings: nothing displaces them
    relay: bool = False  # a live relay: its stream for its window


@dataclass(frozen=True)
class TimelineOccurrence:
    key: str
    slot_id: int
    slot_name: str
    start: datetime
    end: datetime
    length_ms: int
    used_ms: int  # items and the gaps between them, as laid out
    overflow_ms: int  # how much the occurrence's items need beyond its length (0 when they fit)
    items: tuple[TimelineItem, ...]
    problems: tuple[str, ...]  # kinds: overflow, dropped, moved, underflow, never_fits, not_rendered
    locked: bool  # within the showlock or over: its order can no longer change
    left_out: tuple[tuple[str, str], ...] = ()  # (kind "dropped" or "moved", title): placed here, not airing here

    @property
    def free_ms(self) -> int:
        return max(self.length_ms - self.used_ms, 0) if not self.overflow_ms else 0


@dataclass(frozen=True)
class Timeline:
    area: Area
    station: Station | None  # the representative station; None when the area has no active station
    zone: str
    days: tuple[tuple[date, tuple[TimelineOccurrence, ...]], ...]


def representative_station(session: Session, user: User, area: Area) -> Station | None:
    scope.require_area(user, area)
    return session.scalar(select(Station).join(Area, Station.commune_id == Area.id)
                          .where(Station.active, Area.path.startswith(area.path))
                          .options(joinedload(Station.commune)).order_by(Station.code).limit(1))


def _occurrence(filled: schedules.FilledOccurrence, slot: schedules.SlotRule, now: datetime,
                showlock: timedelta, titles: dict[int, str]) -> TimelineOccurrence:
    occ = filled.occurrence
    entries = [e for e in filled.entries if e.kind == "item"]
    items, place = [], 0
    for entry in entries:
        emergency = entry.item_class == "emergency"
        place += 0 if emergency else 1
        items.append(TimelineItem(entry.placement_id, entry.item_id, entry.title, entry.item_class or "normal",
                                  entry.play_ms, entry.repeat, entry.start, None if emergency else place,
                                  type(entry.audio) is schedules.StreamRef))
    used = round((entries[-1].end - occ.start).total_seconds() * 1000) if entries else 0
    overflow = max((p.amount_ms for p in filled.problems if p.kind == "overflow"), default=0)
    return TimelineOccurrence(occ.key, occ.slot_id, slot.name if slot else "", occ.start, occ.end, occ.duration_ms,
                              used, overflow, tuple(items), tuple(dict.fromkeys(p.kind for p in filled.problems)),
                              filled.locked or schedules.is_locked(occ, now, showlock),
                              tuple((p.kind, titles.get(i, "")) for p in filled.problems
                                    if p.kind in ("dropped", "moved") for i in p.item_ids))


def area_timeline(session: Session, settings: Settings, user: User, area: Area, first: date, last: date, *,
                  now: datetime) -> Timeline:
    """The occurrences of ``first..last`` (local days) at the area's representative station, compiled now."""
    scope.require_role(user, *VIEWERS)
    if last < first or (last - first).days >= MAX_DAYS:
        raise InvalidInput(_l("Show one day or one week at a time."), field="day")
    station = representative_station(session, user, area)
    if station is None:
        return Timeline(area, None, area.timezone or settings.timezone,
                        tuple((first + timedelta(days=i), ()) for i in range((last - first).days + 1)))
    zone = compiler.station_zone(station, settings)
    inputs = load_inputs(session, [station], first, last).for_station(station)
    slots = schedules.effective_slots(inputs.chain)
    by_id = {slot.id: slot for slot in slots}
    showlock = timedelta(minutes=settings.showlock_minutes)
    compiled = schedules.compile_days(station.code, first, last, zone, slots, inputs.placements, now=now,
                                      showlock=showlock, aliases=schedules.slot_aliases(inputs.chain))
    titles = {p.item_id: p.title for p in inputs.placements}
    days = tuple((day.day, tuple(_occurrence(f, by_id.get(f.occurrence.slot_id), now, showlock, titles)
                                 for f in day.occurrences)) for day in compiled)
    return Timeline(area, station, zone, days)


def find_occurrence(timeline: Timeline, key: str) -> TimelineOccurrence:
    for _day, found in timeline.days:
        for occ in found:
            if occ.key == key:
                return occ
    raise NotFound(_l("This session is no longer in the schedule."), field="key")


def move_placement(session: Session, settings: Settings, user: User, area: Area, key: str, placement_id: int,
                   to: int, *, now: datetime, today: date) -> Placement:
    """Give a placement the fixed place ``to`` (1-based among non-emergency airings) in the occurrence ``key``.

    Airings in between that have a fixed place move by one, so the rest keep their order (a move up or down
    swaps two neighbours). A placement's position holds for all its occurrences, as the API's PATCH does.
    """
    scope.require_role(user, *MOVERS)
    try:
        day = date.fromisoformat(key.split("@", 1)[1][:10])
    except (IndexError, ValueError):
        raise InvalidInput(_l("This session is no longer in the schedule."), field="key") from None
    occurrence = find_occurrence(area_timeline(session, settings, user, area, day, day, now=now), key)
    if occurrence.locked:
        raise InvalidInput(_l("This session airs soon or is over: its order can no longer change."), field="key")
    places = {i.place: i.placement_id for i in occurrence.items if i.place is not None and i.repeat == 0}
    current = next((p for p, pid in places.items() if pid == placement_id), None)
    last = max((i.place for i in occurrence.items if i.place is not None), default=0)
    if current is None:
        raise NotFound(_l("This item is not in this session."), field="placement_id")
    if not 1 <= to <= last:
        raise InvalidInput(_l("The item is already at the end of the session."), field="to")
    moved = placements.get_placement(session, user, placement_id)
    # Pinned airings between the old and the new place shift by one, so the others keep their order.
    step, between = (1, range(to, current)) if to < current else (-1, range(current + 1, to + 1))
    for item in occurrence.items:
        if item.place in between and item.repeat == 0 and item.placement_id not in (None, placement_id):
            other = placements.get_placement(session, user, item.placement_id)
            if other.position is not None:
                placements.update_placement(session, user, other, {"position": item.place + step}, today=today)
    return placements.update_placement(session, user, moved, {"position": to}, today=today)
