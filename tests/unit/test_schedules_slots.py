"""Slot inheritance down the area tree, overrides, and overlap validation."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from schedules import SlotRule, effective_slots, slot_aliases, validate_slots


def make_slot(id, start=time(6, 0), duration_s=3600, overrides=None, level=0, **fields) -> SlotRule:
    rule = fields.pop("rrule", "FREQ=DAILY")
    return SlotRule(id=id, name=f"slot {id}", start=start, duration_s=duration_s, rrule=rule,
                    valid_from=date(2026, 3, 2), overrides=overrides, level=level, **fields)


MORNING = make_slot(1, time(6, 0))
AFTERNOON = make_slot(2, time(17, 0))


@pytest.mark.parametrize(
    ("chain", "expected_ids"),
    [
        pytest.param([[MORNING, AFTERNOON], [], []], [1, 2], id="inherited-unchanged"),
        pytest.param([[AFTERNOON, MORNING]], [1, 2], id="sorted-by-start"),
        pytest.param([[MORNING, AFTERNOON], [make_slot(3, time(17, 30), overrides=2, level=2)], []], [1, 3],
                     id="commune-overrides-province"),
        pytest.param([[MORNING, AFTERNOON], [], [make_slot(4, time(16, 0), overrides=1, level=3)]], [4, 2],
                     id="station-overrides-province"),
        pytest.param([[MORNING, AFTERNOON], [make_slot(3, time(17, 30), overrides=2, level=2)],
                      [make_slot(4, time(18, 0), overrides=3, level=3)]], [1, 4],
                     id="station-overrides-commune-override"),
        pytest.param([[MORNING, AFTERNOON], [make_slot(3, time(17, 30), overrides=2, level=2)],
                      [make_slot(4, time(18, 0), overrides=2, level=3)]], [1, 4],
                     id="station-overriding-province-also-replaces-commune-override"),
        pytest.param([[MORNING, AFTERNOON], [make_slot(5, time(6, 30), overrides=1, level=1)],
                      [make_slot(6, time(7, 0), overrides=5, level=2)], []], [6, 2],
                     id="district-between-province-and-commune"),
        pytest.param([[MORNING, AFTERNOON], [make_slot(5, time(6, 30), overrides=1, level=1)], [], []], [5, 2],
                     id="district-override-inherited-by-commune"),
        pytest.param([[MORNING, AFTERNOON], [make_slot(7, time(11, 0), level=2)]], [1, 7, 2],
                     id="commune-adds-slot"),
        pytest.param([[MORNING], [make_slot(8, time(19, 0), overrides=99, level=2)]], [1, 8],
                     id="override-of-missing-slot-stands-alone"),
        pytest.param([[], [], [make_slot(9, time(5, 0), level=3)]], [9], id="station-only"),
    ],
)
def test_effective_slots(chain, expected_ids):
    assert [slot.id for slot in effective_slots(chain)] == expected_ids


def test_slot_aliases_follow_the_override_lineage():
    chain = [[MORNING, AFTERNOON], [make_slot(5, time(6, 30), overrides=1, level=1)],
             [make_slot(6, time(7, 0), overrides=5, level=2)]]
    assert slot_aliases(chain) == {2: frozenset({2}), 6: frozenset({1, 5, 6})}


def _pairs(overlaps):
    return [(o.first.slot_id, o.first.start.isoformat(), o.second.slot_id, o.second.start.isoformat(), o.overlap_ms)
            for o in overlaps]


@pytest.mark.parametrize(
    ("slots", "zone", "day_from", "day_to", "expected"),
    [
        pytest.param([make_slot(1, time(6, 0), 3600), make_slot(2, time(7, 0), 3600)], "Asia/Ho_Chi_Minh",
                     date(2026, 3, 2), date(2026, 3, 3), [], id="touching-is-not-overlap"),
        pytest.param([make_slot(1, time(6, 0), 5400), make_slot(2, time(7, 0), 3600)], "Asia/Ho_Chi_Minh",
                     date(2026, 3, 2), date(2026, 3, 2),
                     [(1, "2026-03-02T06:00:00+07:00", 2, "2026-03-02T07:00:00+07:00", 1_800_000)], id="overlap"),
        pytest.param([make_slot(1, time(6, 0), 3600),
                      make_slot(2, time(6, 30), 600, rrule="FREQ=WEEKLY;BYDAY=WE")], "Asia/Ho_Chi_Minh",
                     date(2026, 3, 2), date(2026, 3, 8),
                     [(1, "2026-03-04T06:00:00+07:00", 2, "2026-03-04T06:30:00+07:00", 600_000)],
                     id="weekly-inside-daily-once-a-week"),
        pytest.param([make_slot(1, time(6, 0), 3600, extra=(datetime(2026, 3, 3, 6, 50),))], "Asia/Ho_Chi_Minh",
                     date(2026, 3, 3), date(2026, 3, 3),
                     [(1, "2026-03-03T06:00:00+07:00", 1, "2026-03-03T06:50:00+07:00", 600_000)],
                     id="extra-session-overlaps-own-slot"),
        pytest.param([make_slot(1, time(6, 0), 7200), make_slot(2, time(6, 30), 600), make_slot(3, time(7, 0), 600)],
                     "Asia/Ho_Chi_Minh", date(2026, 3, 2), date(2026, 3, 2),
                     [(1, "2026-03-02T06:00:00+07:00", 2, "2026-03-02T06:30:00+07:00", 600_000),
                      (1, "2026-03-02T06:00:00+07:00", 3, "2026-03-02T07:00:00+07:00", 600_000)],
                     id="long-slot-overlaps-two"),
        # 02:00 for 90 min ends at 02:30 in winter time (01:30 UTC); 02:45 is the first, summer-time 02:45
        # (00:45 UTC): an overlap a wall-clock comparison would miss.
        pytest.param([make_slot(1, time(2, 0), 5400), make_slot(2, time(2, 45), 600)], "Europe/Berlin",
                     date(2026, 10, 25), date(2026, 10, 25),
                     [(1, "2026-10-25T02:00:00+02:00", 2, "2026-10-25T02:45:00+02:00", 600_000)],
                     id="repeated-hour"),
    ],
)
def test_validate_slots(slots, zone, day_from, day_to, expected):
    assert _pairs(validate_slots(slots, zone, day_from, day_to)) == expected
