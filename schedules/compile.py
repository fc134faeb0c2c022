"""Playlist compilation: one station's day from its slots and placements, deterministic and showlock-aware."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from schedules.fit import fit_runs
from schedules.occurrences import as_zone, occurrences
from schedules.ordering import plan_occurrence
from schedules.placements import CarriedItem, PlacementRule
from schedules.playlist import DayPlaylist, FilledOccurrence
from schedules.showlock import DEFAULT_SHOWLOCK, is_locked, keep_locked
from schedules.slots import SlotRule


def _accepted_ids(slot: SlotRule, aliases: Mapping[int, Iterable[int]] | None) -> tuple[int, ...]:
    if aliases is not None and slot.id in aliases:
        return tuple(sorted(set(aliases[slot.id]) | {slot.id}))
    # Without the full lineage, a slot still airs what was placed in the slot it directly replaces.
    return (slot.id,) if slot.overrides is None else tuple(sorted({slot.id, slot.overrides}))


def compile_day(station_code: str, day: date, zone: ZoneInfo | str, slots: Sequence[SlotRule],
                placements: Iterable[PlacementRule], *, now: datetime,
                showlock: timedelta = DEFAULT_SHOWLOCK, previous: DayPlaylist | None = None,
                carried_over: Sequence[CarriedItem] = (),
                aliases: Mapping[int, Iterable[int]] | None = None) -> DayPlaylist:
    """Compile one station's playlist for local date ``day``.

    ``slots`` are the station's effective slots (see ``effective_slots``) and ``placements`` the placements
    that target this station. A placement applies to an occurrence when its slot id is the occurrence's slot
    (or one that slot replaced, see ``slot_aliases``) and the occurrence's local date matches its dates and
    weekdays. ``previous`` is the last compile of this day, kept where the showlock says so; without it a
    locked occurrence is compiled afresh. ``carried_over`` comes from the previous day's playlist.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    tz = as_zone(zone)
    slot_by_id = {slot.id: slot for slot in slots}
    by_slot: dict[int, list[PlacementRule]] = defaultdict(list)
    placements_by_id: dict[int, PlacementRule] = {}
    for placement in placements:
        by_slot[placement.slot_id].append(placement)
        placements_by_id[placement.id] = placement
    previous_by_key = {} if previous is None else {occ.key: occ for occ in previous.occurrences}
    pending: dict[int, list[CarriedItem]] = defaultdict(list)
    for item in carried_over:
        pending[item.slot_id].append(item)

    filled: list[FilledOccurrence] = []
    for occ in occurrences(slot_by_id.values(), day, day, tz):
        slot = slot_by_id[occ.slot_id]
        incoming = pending.pop(slot.id, [])
        mine = [p for sid in _accepted_ids(slot, aliases) for p in by_slot.get(sid, ()) if p.applies_on(occ.local_date)]
        before = previous_by_key.pop(occ.key, None)
        if before is not None and is_locked(occ, now, showlock):
            result = keep_locked(before, occ, slot, [p for p in mine if p.item_class == "emergency"], tz, now,
                                 placements_by_id)
            aired = {entry.placement_id for entry in result.entries}
            # Airings carried in cannot enter frozen content; they wait for the slot's next occurrence.
            outgoing = [*result.carried, *(item for item in incoming if item.placement.id not in aired)]
        else:
            plan = plan_occurrence(mine, incoming, slot.duration_ms)
            result = fit_runs(occ, slot, plan.runs, plan.victims, tz, placements_by_id)
            outgoing = list(result.carried)
        pending[slot.id].extend(outgoing)
        filled.append(result)
    # A locked occurrence whose slot changed or went away still airs what stations were told: changing it
    # this close to air time is exactly what the showlock forbids.
    filled.extend(replace(occ, locked=True) for occ in previous_by_key.values()
                  if occ.occurrence.local_date == day and is_locked(occ.occurrence, now, showlock))
    filled.sort(key=lambda f: (f.occurrence.start.timestamp(), f.occurrence.slot_id, f.key))
    return DayPlaylist(
        station_code=station_code,
        day=day,
        zone=tz.key,
        occurrences=tuple(filled),
        problems=tuple(problem for f in filled for problem in f.problems),
        carried_over=tuple(item for slot_id in sorted(pending) for item in pending[slot_id]),
    )


def compile_days(station_code: str, day_from: date, day_to: date, zone: ZoneInfo | str, slots: Sequence[SlotRule],
                 placements: Iterable[PlacementRule], *, now: datetime, showlock: timedelta = DEFAULT_SHOWLOCK,
                 previous: Mapping[date, DayPlaylist] | None = None, carried_over: Sequence[CarriedItem] = (),
                 aliases: Mapping[int, Iterable[int]] | None = None) -> list[DayPlaylist]:
    """Compile day_from..day_to in order, each day taking the airings the day before moved on (``move_next``).

    ``previous`` maps a day to its last compile (for the showlock); ``carried_over`` feeds the first day.
    """
    placements = list(placements)
    days: list[DayPlaylist] = []
    carry: Sequence[CarriedItem] = carried_over
    day = day_from
    while day <= day_to:
        playlist = compile_day(station_code, day, zone, slots, placements, now=now, showlock=showlock,
                               previous=None if previous is None else previous.get(day), carried_over=carry,
                               aliases=aliases)
        days.append(playlist)
        carry = playlist.carried_over
        day += timedelta(days=1)
    return days
