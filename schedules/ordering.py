"""Ordering inside one occurrence: who airs first, and who gives way when the occurrence is too full.

Rank (Circular 39/2020/TT-BTTTT):

1. emergency items, by priority (higher first), then placement id;
2. priority items: first those the commune operator ordered (by ``operator_order``), then the rest with the
   province's items before the commune's own (``level`` ascending: the operator is the one who decides a
   clash, so until they do, the higher authority's items keep the lead), each level by priority, then id;
3. normal items, by priority, then placement id.

Items moved in from a full earlier occurrence (``CarriedItem``) go ahead of the occurrence's own items of the
same class. When something must give way, never-fitting airings go first, then normal before priority
(emergency never), later repeats before first airings, and the lowest-ranked first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from schedules.placements import CarriedItem, PlacementRule
from schedules.sequence import Piece, Run

CLASS_RANK = {"emergency": 0, "priority": 1, "normal": 2}


def rank_key(placement: PlacementRule) -> tuple[int, ...]:
    """Sort key of a placement's first airing within an occurrence (smaller airs earlier)."""
    klass = CLASS_RANK[placement.item_class]
    if placement.item_class == "priority":
        if placement.operator_order is not None:
            return (klass, 0, placement.operator_order, 0, 0, placement.id)
        return (klass, 1, 0, placement.level, -placement.priority, placement.id)
    return (klass, 0, 0, 0, -placement.priority, placement.id)


def rank_placements(placements: Iterable[PlacementRule]) -> list[PlacementRule]:
    """Placements in the order their first airings rank (fixed positions and repeats are applied later)."""
    return sorted(placements, key=rank_key)


@dataclass(frozen=True, slots=True)
class Plan:
    """Runs in rank order, and which airings give way first: (run index, piece index) pairs."""

    runs: tuple[Run, ...]
    victims: tuple[tuple[int, int], ...]


def _run_of(placement: PlacementRule) -> Run:
    pieces = tuple(Piece.of(placement, repeat) for repeat in range(placement.repeat_count))
    return Run(pieces, placement.repeat_gap_s * 1000, placement.position, placement.item_class == "emergency")


def plan_occurrence(placements: Iterable[PlacementRule], carried: Sequence[CarriedItem], slot_ms: int) -> Plan:
    """Runs and give-way order for an occurrence's own placements plus airings carried into it."""
    ranked = rank_placements(placements)
    own_ids = {placement.id for placement in ranked}
    # A carried airing of a placement that airs here anyway would only air twice in a row.
    incoming = [item for item in carried if item.placement.id not in own_ids]
    runs: list[Run] = []
    for klass in ("emergency", "priority", "normal"):
        runs.extend(Run((Piece.of(item.placement, item.repeat),), emergency=klass == "emergency")
                    for item in incoming if item.placement.item_class == klass)
        runs.extend(_run_of(placement) for placement in ranked if placement.item_class == klass)
    return Plan(tuple(runs), give_way_order(runs, slot_ms))


def give_way_order(runs: Sequence[Run], slot_ms: int) -> tuple[tuple[int, int], ...]:
    """Airings that may be dropped or moved, first to go first; emergency airings never give way."""
    candidates = [
        (0 if piece.duration_ms > slot_ms else 1, -CLASS_RANK.get(piece.item_class or "normal", 2),
         -piece.repeat, -run_index, -piece_index, run_index, piece_index)
        for run_index, run in enumerate(runs) if not run.emergency
        for piece_index, piece in enumerate(run.pieces)
    ]
    candidates.sort()
    return tuple((run_index, piece_index) for *_, run_index, piece_index in candidates)
