"""Fit policies (reject, drop, move_next), never-fitting items, underflow filler and unrendered items."""

from __future__ import annotations

from datetime import date, time

import pytest

from schedules import (
    AudioRef,
    CarriedItem,
    PlacementRule,
    Problem,
    SlotRule,
    check_fits,
    fit_runs,
    occurrences,
    plan_occurrence,
)
from schedules.occurrences import as_zone

HCM = as_zone("Asia/Ho_Chi_Minh")
MINUTE = 60_000
KEY = "1@2026-03-02T06:00:00"


def audio(n: int, duration_ms: int) -> AudioRef:
    return AudioRef(f"{n:064x}", 16_000 + n, duration_ms)


def make_slot(policy="reject", duration_s=600, gap_ms=0, filler=None) -> SlotRule:
    return SlotRule(id=1, name="Buổi sáng", start=time(6, 0), duration_s=duration_s, rrule="FREQ=DAILY",
                    valid_from=date(2026, 3, 2), policy=policy, gap_ms=gap_ms, filler=filler)


def place(id, minutes, item_class="normal", *, priority=0, rendered=True, repeat_count=1) -> PlacementRule:
    duration = round(minutes * MINUTE)
    return PlacementRule(id=id, item_id=100 + id, title=f"tin {id}", item_class=item_class,
                         audio=audio(id, duration) if rendered else None, estimated_ms=None if rendered else duration,
                         slot_id=1, date_from=date(2026, 3, 1), priority=priority, repeat_count=repeat_count)


def fit(slot, placements, carried=()):
    occ = occurrences([slot], date(2026, 3, 2), date(2026, 3, 2), HCM)[0]
    plan = plan_occurrence(placements, carried, slot.duration_ms)
    return fit_runs(occ, slot, plan.runs, plan.victims, HCM, {p.id: p for p in placements})


def timeline(filled):
    return [(e.kind, e.placement_id, e.start.strftime("%H:%M:%S"), e.end.strftime("%H:%M:%S"), e.play_ms)
            for e in filled.entries]


THREE = [place(1, 4, priority=2), place(2, 4, priority=1), place(3, 3, priority=0)]  # 11 min in a 10-min slot


def test_reject_never_runs_past_the_end_and_reports_what_it_left_out():
    filled = fit(make_slot("reject"), THREE)
    assert timeline(filled) == [("item", 1, "06:00:00", "06:04:00", 240_000),
                                ("item", 2, "06:04:00", "06:08:00", 240_000)]
    assert filled.problems == (Problem("overflow", "error", 1, KEY, "06:00", 60_000),
                               Problem("dropped", "error", 1, KEY, "06:00", 180_000, (103,), (3,)),
                               Problem("underflow", "warning", 1, KEY, "06:00", 120_000))
    assert filled.carried == ()


@pytest.mark.parametrize(
    ("placements", "aired"),
    [
        # In airing order: what does not fit is left out, and a later one that still fits airs.
        ([place(1, 6, priority=2), place(2, 5, priority=1), place(3, 3)], [1, 3]),
        # An emergency is never left out, even when it alone overruns the slot.
        ([place(1, 11, "emergency"), place(2, 1)], [1]),
        ([place(1, 5, "emergency"), place(2, 4), place(3, 2)], [1, 2]),
    ],
)
def test_reject_airs_what_fits_in_order(placements, aired):
    filled = fit(make_slot("reject"), placements)
    assert [e.placement_id for e in filled.entries] == aired
    ends = [e.end for e in filled.entries if e.item_class != "emergency"]
    assert all(end <= filled.occurrence.end for end in ends)


def test_drop_removes_the_lowest_ranked_and_fills_the_rest():
    filled = fit(make_slot("drop", filler=audio(900, 50_000)), THREE)
    assert timeline(filled) == [
        ("item", 1, "06:00:00", "06:04:00", 240_000), ("item", 2, "06:04:00", "06:08:00", 240_000),
        ("filler", None, "06:08:00", "06:08:50", 50_000), ("filler", None, "06:08:50", "06:09:40", 50_000),
        ("filler", None, "06:09:40", "06:10:00", 20_000)]
    assert filled.problems == (
        Problem("overflow", "warning", 1, KEY, "06:00", 60_000),
        Problem("dropped", "warning", 1, KEY, "06:00", 180_000, (103,), (3,)),
        Problem("underflow", "info", 1, KEY, "06:00", 120_000),
    )
    assert [e.repeat for e in filled.entries if e.kind == "filler"] == [0, 1, 2]
    assert filled.entries[-1].audio.duration_ms == 50_000  # the last filler is cut, not a shorter file


def test_gaps_count_towards_the_fit_and_precede_the_filler():
    # 4 + 4 + 3 min with 30 s pauses is 12 min: dropping the 3-min item (and its pause) leaves 8.5 min.
    filled = fit(make_slot("drop", gap_ms=30_000, filler=audio(900, 50_000)), THREE)
    assert timeline(filled) == [
        ("item", 1, "06:00:00", "06:04:00", 240_000), ("item", 2, "06:04:30", "06:08:30", 240_000),
        ("filler", None, "06:09:00", "06:09:50", 50_000), ("filler", None, "06:09:50", "06:10:00", 10_000)]
    assert [(p.kind, p.amount_ms) for p in filled.problems] == [("overflow", 120_000), ("dropped", 180_000),
                                                               ("underflow", 90_000)]


def test_move_next_hands_the_lowest_ranked_to_the_next_occurrence():
    filled = fit(make_slot("move_next"), THREE)
    assert [e.placement_id for e in filled.entries] == [1, 2]
    assert filled.carried == (CarriedItem(1, THREE[2], 0, KEY),)
    assert filled.problems == (
        Problem("overflow", "warning", 1, KEY, "06:00", 60_000),
        Problem("moved", "warning", 1, KEY, "06:00", 180_000, (103,), (3,)),
        Problem("underflow", "warning", 1, KEY, "06:00", 120_000),
    )


@pytest.mark.parametrize(
    ("placements", "policy", "kept", "gone"),
    [
        pytest.param([place(1, 4, "priority"), place(2, 3, priority=9), place(3, 4)], "drop", [1, 2], [3],
                     id="normal-gives-way-before-priority"),
        pytest.param([place(1, 4, "priority"), place(2, 3, priority=9), place(3, 4)], "move_next", [1, 2], [3],
                     id="move-lowest-normal"),
        pytest.param([place(1, 6, "priority"), place(2, 3, priority=9), place(3, 4)], "drop", [1, 2], [3],
                     id="one-removal-is-enough"),
        # 14 min: item 4 (1 min) then item 3 (4 min) go; 9 min leaves room for item 4 again.
        pytest.param([place(1, 6, "priority"), place(2, 3, priority=9), place(3, 4, priority=1), place(4, 1)],
                     "drop", [1, 2, 4], [3], id="overshoot-let-back-in"),
        # Greedy removal takes item 3 (1 min) then item 2 (4 min); item 3 then fits again and comes back.
        pytest.param([place(1, 8, "emergency"), place(2, 4, "priority"), place(3, 1)], "move_next", [1, 3], [2],
                     id="short-item-let-back-in"),
        pytest.param([place(1, 8, "emergency"), place(2, 2, "priority"), place(3, 1), place(4, 1, priority=1)],
                     "drop", [1, 2], [3, 4], id="priority-kept-normals-dropped"),
        # Greedy removal takes item 3 (1 min) then item 2 (4 min); item 3 then fits again and comes back.
    ],
)
def test_give_way(placements, policy, kept, gone):
    filled = fit(make_slot(policy), placements)
    assert [e.placement_id for e in filled.entries if e.kind == "item"] == kept
    kind = "dropped" if policy == "drop" else "moved"
    assert [p.placement_ids for p in filled.problems if p.kind == kind] == [tuple(gone)]


def test_repeat_gives_way_first():
    filled = fit(make_slot("drop", duration_s=480), [place(1, 3, priority=5, repeat_count=2), place(2, 3)])
    assert [(e.placement_id, e.repeat) for e in filled.entries] == [(1, 0), (2, 0)]
    assert [(p.kind, p.amount_ms, p.placement_ids) for p in filled.problems] == [
        ("overflow", 60_000, ()), ("dropped", 180_000, (1,)), ("underflow", 120_000, ())]


@pytest.mark.parametrize(
    ("policy", "expected_kinds", "carried"),
    [
        ("reject", [("never_fits", "error", 120_000), ("overflow", "error", 180_000),
                    ("dropped", "error", 720_000), ("underflow", "warning", 540_000)], 0),
        ("drop", [("never_fits", "error", 120_000), ("overflow", "warning", 180_000),
                  ("dropped", "warning", 720_000), ("underflow", "warning", 540_000)], 0),
        # Moving an item that can never fit would move it for ever: it is dropped instead.
        ("move_next", [("never_fits", "error", 120_000), ("overflow", "warning", 180_000),
                       ("dropped", "warning", 720_000), ("underflow", "warning", 540_000)], 0),
    ],
)
def test_never_fitting_item(policy, expected_kinds, carried):
    filled = fit(make_slot(policy), [place(1, 1), place(2, 12)])
    assert [(p.kind, p.severity, p.amount_ms) for p in filled.problems] == expected_kinds
    assert len(filled.carried) == carried


def test_emergency_never_gives_way():
    filled = fit(make_slot("drop"), [place(1, 12, "emergency"), place(2, 1)])
    assert [e.placement_id for e in filled.entries] == [1]
    assert [(p.kind, p.severity, p.amount_ms) for p in filled.problems] == [
        ("never_fits", "error", 120_000), ("overflow", "error", 180_000), ("dropped", "warning", 60_000)]


@pytest.mark.parametrize(
    ("placements", "filler", "expected"),
    [
        pytest.param([], audio(900, 240_000), [("filler", None, "06:00:00", "06:04:00", 240_000),
                                               ("filler", None, "06:04:00", "06:08:00", 240_000),
                                               ("filler", None, "06:08:00", "06:10:00", 120_000)],
                     id="empty-occurrence-all-filler"),
        pytest.param([place(1, 9.5)], audio(900, 240_000), [("item", 1, "06:00:00", "06:09:30", 570_000),
                                                            ("filler", None, "06:09:30", "06:10:00", 30_000)],
                     id="one-cut-filler"),
        pytest.param([place(1, 10)], audio(900, 240_000), [("item", 1, "06:00:00", "06:10:00", 600_000)],
                     id="exact-fit-no-filler"),
        pytest.param([place(1, 9.5)], None, [("item", 1, "06:00:00", "06:09:30", 570_000)], id="no-filler"),
    ],
)
def test_underflow_filler(placements, filler, expected):
    filled = fit(make_slot(filler=filler), placements)
    assert timeline(filled) == expected
    underflow = [(p.severity, p.amount_ms) for p in filled.problems if p.kind == "underflow"]
    if expected[-1][3] == "06:10:00" and expected[-1][0] == "item":
        assert underflow == []
    else:
        assert underflow == [("info" if filler else "warning", 600_000 - sum(p.duration_ms for p in placements))]


def test_unrendered_item_uses_its_estimate_and_is_reported():
    filled = fit(make_slot(), [place(1, 2, rendered=False), place(2, 8)])
    assert [(e.placement_id, e.audio is None, e.play_ms) for e in filled.entries] == [(1, True, 120_000),
                                                                                     (2, False, 480_000)]
    assert filled.problems == (Problem("not_rendered", "warning", 1, KEY, "06:00", 0, (101,), (1,)),)


@pytest.mark.parametrize(
    ("minutes", "repeat_count", "gap_ms", "expected"),
    [
        (10, 1, 0, None),
        (11, 1, 0, Problem("never_fits", "error", 1, "", "06:00", 60_000, (101,), (1,))),
        (5, 2, 0, None),
        (5, 2, 1000, Problem("never_fits", "error", 1, "", "06:00", 1000, (101,), (1,))),
        (4, 3, 0, Problem("never_fits", "error", 1, "", "06:00", 120_000, (101,), (1,))),
    ],
)
def test_check_fits(minutes, repeat_count, gap_ms, expected):
    assert check_fits(place(1, minutes, repeat_count=repeat_count), make_slot(gap_ms=gap_ms)) == expected
