"""Showlock: an occurrence close to air time keeps the content stations already have; only emergencies change it.

An occurrence is locked when it starts within ``showlock`` of ``now`` or has started. A locked occurrence
keeps its previous entries exactly, unless the emergency items placed in it changed: then the new emergency
airings go first and push the kept items later (the slot's overflow policy still applies, with the kept items
giving way from the end). An occurrence already over keeps its previous entries whatever changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from schedules.fit import fit_runs
from schedules.occurrences import Occurrence
from schedules.ordering import rank_placements
from schedules.placements import CarriedItem, PlacementRule
from schedules.playlist import Entry, FilledOccurrence
from schedules.sequence import Piece, Run
from schedules.slots import SlotRule

DEFAULT_SHOWLOCK = timedelta(minutes=30)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    # Compare in UTC: two datetimes sharing a zone compare by wall clock, wrong in the repeated hour.
    return moment.astimezone(UTC)


def is_locked(occurrence: Occurrence, now: datetime, showlock: timedelta = DEFAULT_SHOWLOCK) -> bool:
    """Whether the occurrence starts within ``showlock`` of ``now``, has started, or is over."""
    return occurrence.start.astimezone(UTC) <= _utc(now) + showlock


def is_over(occurrence: Occurrence, now: datetime) -> bool:
    return occurrence.end.astimezone(UTC) <= _utc(now)


def _emergency_signature(entries: Sequence[Entry]) -> list[tuple]:
    return [(e.placement_id, e.repeat, e.audio, e.play_ms) for e in entries
            if e.kind == "item" and e.item_class == "emergency"]


def keep_locked(previous: FilledOccurrence, occurrence: Occurrence, slot: SlotRule | None,
                emergencies: Sequence[PlacementRule], zone: ZoneInfo, now: datetime,
                placements_by_id: Mapping[int, PlacementRule]) -> FilledOccurrence:
    """The locked occurrence: ``previous`` as it was, or with its emergency airings replaced by ``emergencies``,
    or with audio rendered since filled in for the items it already planned (same items, same order)."""
    kept = replace(previous, locked=True)
    if slot is None or is_over(occurrence, now):
        return kept
    wanted = [(p.id, repeat, p.audio, p.duration_ms) for p in emergencies for repeat in range(p.repeat_count)]
    # An item approved shortly before air is planned on its estimate; its speech may be ready only after the lock
    # began. Giving it its audio changes nothing the showlock protects, and without it the item would not air.
    rendered = {e.placement_id: placements_by_id[e.placement_id] for e in previous.entries
                if e.kind == "item" and e.audio is None and e.placement_id in placements_by_id
                and placements_by_id[e.placement_id].audio is not None}
    if not rendered and sorted(wanted, key=repr) == sorted(_emergency_signature(previous.entries), key=repr):
        return kept
    runs = [Run(tuple(Piece.of(p, r) for r in range(p.repeat_count)), p.repeat_gap_s * 1000, None, True)
            for p in rank_placements(emergencies)]
    first_kept = len(runs)
    runs += [Run((_frozen_piece(e, rendered.get(e.placement_id)),))
             for e in previous.entries if e.kind == "item" and e.item_class != "emergency"]
    # Content frozen by the showlock has no rank left to consult: what aired last gives way first.
    victims = tuple((index, 0) for index in range(len(runs) - 1, first_kept - 1, -1))
    refit = fit_runs(occurrence, slot, runs, victims, zone, placements_by_id, locked=True)
    return replace(refit, carried=_merge(previous.carried, refit.carried))


def _frozen_piece(entry, rendered: PlacementRule | None) -> Piece:
    if rendered is None:
        return Piece(entry.placement_id, entry.item_id, entry.title, entry.item_class, entry.audio, entry.play_ms,
                     entry.repeat)
    return Piece(entry.placement_id, entry.item_id, entry.title, entry.item_class, rendered.audio,
                 rendered.audio.duration_ms, entry.repeat)


def _merge(first: Sequence[CarriedItem], second: Sequence[CarriedItem]) -> tuple[CarriedItem, ...]:
    seen: set[tuple[int, int]] = set()
    merged = []
    for item in (*first, *second):
        if (item.placement.id, item.repeat) not in seen:
            seen.add((item.placement.id, item.repeat))
            merged.append(item)
    return tuple(merged)
