"""Order inside one occurrence: classes, operator order, province before commune, fixed positions, repeats."""

from __future__ import annotations

from datetime import date

import pytest

from schedules import CarriedItem, PlacementRule, plan_occurrence, rank_placements, sequence_runs

MINUTE = 60_000


def place(id, item_class="normal", *, priority=0, level=0, operator_order=None, position=None, repeat_count=1,
          repeat_gap_s=0, duration_ms=MINUTE) -> PlacementRule:
    return PlacementRule(id=id, item_id=100 + id, title=f"tin {id}", item_class=item_class, audio=None,
                         estimated_ms=duration_ms, slot_id=1, date_from=date(2026, 3, 1), priority=priority,
                         level=level, operator_order=operator_order, position=position, repeat_count=repeat_count,
                         repeat_gap_s=repeat_gap_s)


@pytest.mark.parametrize(
    ("placements", "expected"),
    [
        pytest.param([place(1), place(2, "priority"), place(3, "emergency")], [3, 2, 1], id="classes"),
        pytest.param([place(1, priority=0), place(3, priority=5), place(2, priority=5)], [2, 3, 1],
                     id="normal-by-priority-then-id"),
        pytest.param([place(1, "emergency", priority=1), place(2, "emergency", priority=3), place(3, "emergency")],
                     [2, 1, 3], id="emergency-by-priority"),
        pytest.param([place(1, "priority", level=2, priority=9), place(2, "priority", level=0, priority=0)], [2, 1],
                     id="province-priority-before-commune-priority"),
        pytest.param([place(1, "priority", level=0, priority=1), place(2, "priority", level=0, priority=5),
                      place(3, "priority", level=2, priority=3), place(4, "priority", level=2, priority=7)],
                     [2, 1, 4, 3], id="each-level-by-priority"),
        pytest.param([place(1, "priority", level=1), place(2, "priority", level=2), place(3, "priority", level=0)],
                     [3, 1, 2], id="district-between"),
        pytest.param([place(1, "priority", level=0), place(2, "priority", level=2, operator_order=1),
                      place(3, "priority", level=0, operator_order=2)], [2, 3, 1],
                     id="operator-order-first"),
        pytest.param([place(1, "priority", level=0, operator_order=5), place(2, "priority", level=2, operator_order=5)],
                     [1, 2], id="operator-order-tie-by-id"),
        pytest.param([place(1), place(2, "priority", operator_order=1), place(3, "emergency"),
                      place(4, "priority", level=2, priority=9), place(5, priority=3)], [3, 2, 4, 5, 1],
                     id="mixed"),
    ],
)
def test_rank(placements, expected):
    assert [p.id for p in rank_placements(placements)] == expected


def airings(placements, gap_ms=0, carried=()):
    plan = plan_occurrence(placements, carried, 3_600_000)
    return [(piece.placement_id, piece.repeat) for piece in sequence_runs(plan.runs, gap_ms)]


@pytest.mark.parametrize(
    ("placements", "gap_ms", "expected"),
    [
        pytest.param([place(1), place(2), place(3), place(4, position=1)], 0,
                     [(4, 0), (1, 0), (2, 0), (3, 0)], id="position-1"),
        pytest.param([place(1), place(2), place(3), place(4, position=2)], 0,
                     [(1, 0), (4, 0), (2, 0), (3, 0)], id="position-2"),
        pytest.param([place(1), place(2), place(3), place(4, position=99)], 0,
                     [(1, 0), (2, 0), (3, 0), (4, 0)], id="position-beyond-end-is-last"),
        pytest.param([place(1), place(2), place(4, position=1), place(5, "emergency")], 0,
                     [(5, 0), (4, 0), (1, 0), (2, 0)], id="emergency-before-position-1"),
        pytest.param([place(1), place(2), place(4, position=2, priority=0), place(3, position=2, priority=5)], 0,
                     [(1, 0), (3, 0), (4, 0), (2, 0)], id="same-position-by-rank"),
        pytest.param([place(1, "priority"), place(2, position=1)], 0, [(2, 0), (1, 0)],
                     id="normal-at-position-1-before-priority"),
        pytest.param([place(1, repeat_count=3), place(2)], 0, [(1, 0), (1, 1), (1, 2), (2, 0)],
                     id="repeats-consecutive"),
        # Item 1 ends at 1:00; its repeat may start from 3:00, which is when item 3 ends.
        pytest.param([place(1, repeat_count=2, repeat_gap_s=120, priority=9), place(2), place(3), place(4)], 0,
                     [(1, 0), (2, 0), (3, 0), (1, 1), (4, 0)], id="repeat-after-gap"),
        # With 30 s between entries: item 2 airs 1:30-2:30, so 3:00 is reached one entry earlier.
        pytest.param([place(1, repeat_count=2, repeat_gap_s=120, priority=9), place(2), place(3), place(4)], 30_000,
                     [(1, 0), (2, 0), (1, 1), (3, 0), (4, 0)], id="repeat-after-gap-with-pauses"),
        pytest.param([place(1, repeat_count=3, repeat_gap_s=3600, priority=9), place(2)], 0,
                     [(1, 0), (2, 0), (1, 1), (1, 2)], id="gap-longer-than-content-follows-at-once"),
        pytest.param([place(1, "emergency", repeat_count=2, repeat_gap_s=60), place(2), place(3)], 0,
                     [(1, 0), (2, 0), (1, 1), (3, 0)], id="emergency-repeat-with-gap"),
        pytest.param([place(1, position=1, repeat_count=2), place(2)], 0, [(1, 0), (1, 1), (2, 0)],
                     id="fixed-position-with-repeat"),
    ],
)
def test_sequence(placements, gap_ms, expected):
    assert airings(placements, gap_ms) == expected


def test_carried_items_go_ahead_of_own_items_of_their_class_and_duplicates_are_merged():
    moved_normal = CarriedItem(1, place(7, priority=0), 0, "1@2026-03-01T06:00:00")
    moved_priority = CarriedItem(1, place(8, "priority", level=2), 0, "1@2026-03-01T06:00:00")
    already_here = CarriedItem(1, place(2), 0, "1@2026-03-01T06:00:00")
    own = [place(1, "priority"), place(2, priority=9), place(3, "emergency")]
    assert airings(own, carried=[moved_normal, moved_priority, already_here]) == [
        (3, 0), (8, 0), (1, 0), (7, 0), (2, 0)]


def test_give_way_order():
    # never-fitting first, then normal repeats, normal first airings (lowest rank first), then priority.
    placements = [place(1, "priority"), place(2, priority=5, repeat_count=2), place(3, priority=1),
                  place(4, "emergency"), place(5, duration_ms=2 * 3_600_000)]
    plan = plan_occurrence(placements, (), 3_600_000)
    order = [(plan.runs[r].pieces[i].placement_id, plan.runs[r].pieces[i].repeat) for r, i in plan.victims]
    assert order == [(5, 0), (2, 1), (3, 0), (2, 0), (1, 0)]
