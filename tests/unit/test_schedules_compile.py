"""Day compilation: which placements apply, carrying over, showlock, daylight saving and determinism."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest

from schedules import AudioRef, PlacementRule, SlotRule, compile_day, compile_days, fingerprint
from schedules.occurrences import as_zone

HCM = as_zone("Asia/Ho_Chi_Minh")
BERLIN = as_zone("Europe/Berlin")
MINUTE = 60_000
DAY = date(2026, 3, 2)  # a Monday
EARLY = datetime(2026, 3, 1, 12, 0, tzinfo=HCM)


def audio(n: int, duration_ms: int) -> AudioRef:
    return AudioRef(f"{n:064x}", 16_000 + n, duration_ms)


def make_slot(id=1, start=time(6, 0), duration_s=600, policy="reject", **fields) -> SlotRule:
    rule = fields.pop("rrule", "FREQ=DAILY")
    return SlotRule(id=id, name=f"slot {id}", start=start, duration_s=duration_s, rrule=rule,
                    valid_from=date(2026, 3, 1), policy=policy, **fields)


def place(id, minutes=1, item_class="normal", slot_id=1, **fields) -> PlacementRule:
    duration = round(minutes * MINUTE)
    values = {"id": id, "item_id": 100 + id, "title": f"tin {id}", "item_class": item_class,
              "audio": audio(id, duration), "estimated_ms": None, "slot_id": slot_id, "date_from": date(2026, 3, 1)}
    values.update(fields)
    return PlacementRule(**values)


def items(playlist):
    return [[e.placement_id for e in occ.entries if e.kind == "item"] for occ in playlist.occurrences]


@pytest.mark.parametrize(
    ("fields", "airs"),
    [
        ({}, True),
        ({"slot_id": 2}, False),
        ({"date_from": DAY}, True),
        ({"date_from": DAY + timedelta(days=1)}, False),
        ({"date_until": DAY}, True),
        ({"date_until": DAY - timedelta(days=1)}, False),
        ({"weekdays": frozenset({0})}, True),
        ({"weekdays": frozenset({1, 2, 3, 4, 5, 6})}, False),
        ({"weekdays": frozenset()}, False),
    ],
)
def test_which_placements_apply(fields, airs):
    playlist = compile_day("HG-01", DAY, HCM, [make_slot()], [place(1, **fields)], now=EARLY)
    assert items(playlist) == [[1] if airs else []]


def test_two_slots_carry_different_content_and_problems_are_collected():
    slots = [make_slot(1, time(17, 0)), make_slot(2, time(6, 0))]
    placements = [place(1, 4, slot_id=1), place(2, 11, slot_id=2), place(3, 2, slot_id=1)]
    playlist = compile_day("HG-01", DAY, "Asia/Ho_Chi_Minh", slots, placements, now=EARLY)
    assert playlist.zone == "Asia/Ho_Chi_Minh"
    assert [occ.key for occ in playlist.occurrences] == ["2@2026-03-02T06:00:00", "1@2026-03-02T17:00:00"]
    assert items(playlist) == [[], [1, 3]]  # an 11-minute item in a 10-minute slot that rejects overflow
    assert [(p.kind, p.slot_time, p.amount_ms) for p in playlist.problems] == [
        ("never_fits", "06:00", 60_000), ("overflow", "06:00", 60_000), ("dropped", "06:00", 660_000),
        ("underflow", "06:00", 600_000), ("underflow", "17:00", 240_000)]


def test_override_airs_what_was_placed_in_the_slot_it_replaced():
    commune_slot = make_slot(3, time(6, 30), overrides=1, level=2)
    playlist = compile_day("HG-01", DAY, HCM, [commune_slot], [place(1), place(2, slot_id=3)], now=EARLY)
    assert items(playlist) == [[1, 2]]
    deeper = make_slot(4, time(7, 0), overrides=3, level=3)
    without_lineage = compile_day("HG-01", DAY, HCM, [deeper], [place(1), place(2, slot_id=3)], now=EARLY)
    assert items(without_lineage) == [[2]]
    with_lineage = compile_day("HG-01", DAY, HCM, [deeper], [place(1), place(2, slot_id=3)], now=EARLY,
                               aliases={4: frozenset({1, 3, 4})})
    assert items(with_lineage) == [[1, 2]]


def test_move_next_carries_to_the_next_day_ahead_of_its_normal_items():
    slot = make_slot(policy="move_next")
    placements = [place(1, 4, priority=3, date_until=DAY), place(2, 4, priority=2, date_until=DAY),
                  place(3, 3, priority=1, date_until=DAY),
                  place(4, 2, priority=9, date_from=DAY + timedelta(days=1)),
                  place(5, 2, "priority", date_from=DAY + timedelta(days=1))]
    first = compile_day("HG-01", DAY, HCM, [slot], placements, now=EARLY)
    assert items(first) == [[1, 2]]
    assert [(c.placement.id, c.repeat, c.from_key) for c in first.carried_over] == [(3, 0, "1@2026-03-02T06:00:00")]
    second = compile_day("HG-01", DAY + timedelta(days=1), HCM, [slot], placements, now=EARLY,
                         carried_over=first.carried_over)
    assert items(second) == [[5, 3, 4]]
    assert second.carried_over == ()


def test_compile_days_chains_carried_items_across_days():
    slot = make_slot(policy="move_next", rrule="FREQ=WEEKLY;BYDAY=MO,WE")
    placements = [place(1, 6, date_until=DAY), place(2, 6, date_until=DAY), place(3, 5, date_until=DAY)]
    days = compile_days("HG-01", DAY, DAY + timedelta(days=2), HCM, [slot], placements, now=EARLY)
    assert [p.day for p in days] == [DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)]
    # Monday airs item 1; items 2 and 3 wait through Tuesday (no session) and Wednesday airs item 2; item 3
    # (5 min) no longer fits after it and moves on again.
    assert [items(p) for p in days] == [[[1]], [], [[2]]]
    assert [(c.placement.id, c.from_key) for c in days[2].carried_over] == [(3, "1@2026-03-04T06:00:00")]


def test_move_next_within_a_day_goes_to_the_extra_session():
    slot = make_slot(policy="move_next", extra=(datetime(2026, 3, 2, 19, 0),))
    playlist = compile_day("HG-01", DAY, HCM, [slot], [place(1, 6, date_until=DAY), place(2, 6, date_until=DAY)],
                           now=EARLY)
    # Both placements apply to both sessions; the moved airing of item 2 merges with its own airing there.
    assert items(playlist) == [[1], [1]]
    assert [c.placement.id for c in playlist.carried_over] == [2]


def test_carried_items_wait_when_the_slot_has_no_occurrence_that_day():
    weekly = make_slot(rrule="FREQ=WEEKLY;BYDAY=MO", policy="move_next")
    first = compile_day("HG-01", DAY, HCM, [weekly], [place(1, 6), place(2, 6, date_until=DAY)], now=EARLY)
    tuesday = compile_day("HG-01", DAY + timedelta(days=1), HCM, [weekly], [], now=EARLY,
                          carried_over=first.carried_over)
    assert tuesday.occurrences == ()
    assert tuesday.carried_over == first.carried_over


# --- showlock -----------------------------------------------------------------------------------------------

OCC_START = datetime(2026, 3, 2, 6, 0, tzinfo=HCM)
BEFORE = [place(1, 3), place(2, 3)]
AFTER = [place(1, 3), place(3, 4)]  # a normal edit: item 2 replaced by item 3


@pytest.mark.parametrize(
    ("now", "kept"),
    [
        pytest.param(OCC_START - timedelta(minutes=31), False, id="outside"),
        pytest.param(OCC_START - timedelta(minutes=30), True, id="at-the-boundary"),
        pytest.param(OCC_START - timedelta(minutes=10), True, id="inside"),
        pytest.param(OCC_START + timedelta(minutes=5), True, id="already-started"),
        pytest.param(OCC_START + timedelta(minutes=30), True, id="over"),
        pytest.param((OCC_START - timedelta(minutes=10)).astimezone(BERLIN), True, id="now-in-another-zone"),
    ],
)
def test_showlock(now, kept):
    slot = make_slot()
    previous = compile_day("HG-01", DAY, HCM, [slot], BEFORE, now=EARLY)
    again = compile_day("HG-01", DAY, HCM, [slot], AFTER, now=now, previous=previous)
    assert items(again) == ([[1, 2]] if kept else [[1, 3]])
    assert again.occurrences[0].locked is kept
    if kept:
        assert again.occurrences[0].entries == previous.occurrences[0].entries


def test_showlock_length_is_configurable():
    slot = make_slot()
    previous = compile_day("HG-01", DAY, HCM, [slot], BEFORE, now=EARLY)
    now = OCC_START - timedelta(minutes=50)
    assert items(compile_day("HG-01", DAY, HCM, [slot], AFTER, now=now, previous=previous)) == [[1, 3]]
    assert items(compile_day("HG-01", DAY, HCM, [slot], AFTER, now=now, previous=previous,
                             showlock=timedelta(hours=1))) == [[1, 2]]


def test_locked_occurrence_without_previous_is_compiled():
    playlist = compile_day("HG-01", DAY, HCM, [make_slot()], AFTER, now=OCC_START)
    assert items(playlist) == [[1, 3]]
    assert playlist.occurrences[0].locked is False


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # The new emergency goes first and pushes the frozen items; the normal edit stays out.
        pytest.param(OCC_START - timedelta(minutes=10), [9, 1, 2], id="inside"),
        pytest.param(OCC_START + timedelta(minutes=2), [9, 1, 2], id="already-started"),
        pytest.param(OCC_START + timedelta(minutes=11), [1, 2], id="over-nothing-changes"),
        pytest.param(OCC_START - timedelta(minutes=31), [9, 1, 3], id="outside-everything-changes"),
    ],
)
def test_emergency_passes_the_showlock(now, expected):
    slot = make_slot(filler=audio(900, 60_000))
    previous = compile_day("HG-01", DAY, HCM, [slot], BEFORE, now=EARLY)
    again = compile_day("HG-01", DAY, HCM, [slot], [*AFTER, place(9, 1, "emergency")], now=now, previous=previous)
    assert items(again) == [expected]


def test_emergency_change_in_locked_occurrence_lays_out_again():
    slot = make_slot(filler=audio(900, 60_000), policy="drop")
    previous = compile_day("HG-01", DAY, HCM, [slot], [place(1, 4), place(2, 4)], now=EARLY)
    now = OCC_START - timedelta(minutes=5)
    again = compile_day("HG-01", DAY, HCM, [slot], [place(1, 4), place(2, 4), place(9, 3, "emergency")], now=now,
                        previous=previous)
    occ = again.occurrences[0]
    assert [(e.kind, e.placement_id, e.start.strftime("%H:%M"), e.play_ms) for e in occ.entries] == [
        ("item", 9, "06:00", 180_000), ("item", 1, "06:03", 240_000), ("filler", None, "06:07", 60_000),
        ("filler", None, "06:08", 60_000), ("filler", None, "06:09", 60_000)]
    assert [(p.kind, p.placement_ids) for p in occ.problems] == [("overflow", ()), ("dropped", (2,)),
                                                                  ("underflow", ())]
    assert occ.locked is True
    # Withdrawing the emergency again (still inside the showlock) restores the frozen items only.
    back = compile_day("HG-01", DAY, HCM, [slot], [place(1, 4), place(2, 4)], now=now, previous=again)
    assert [(e.kind, e.placement_id, e.start.strftime("%H:%M"), e.play_ms) for e in back.occurrences[0].entries] == [
        ("item", 1, "06:00", 240_000), ("filler", None, "06:04", 60_000), ("filler", None, "06:05", 60_000),
        ("filler", None, "06:06", 60_000), ("filler", None, "06:07", 60_000), ("filler", None, "06:08", 60_000),
        ("filler", None, "06:09", 60_000)]


def test_unchanged_emergency_keeps_the_locked_occurrence_exactly():
    slot = make_slot()
    with_emergency = [*BEFORE, place(9, 1, "emergency")]
    previous = compile_day("HG-01", DAY, HCM, [slot], with_emergency, now=EARLY)
    again = compile_day("HG-01", DAY, HCM, [slot], [*AFTER, place(9, 1, "emergency")],
                        now=OCC_START - timedelta(minutes=1), previous=previous)
    assert again.occurrences[0].entries == previous.occurrences[0].entries


def test_locked_occurrence_of_a_removed_slot_is_kept():
    previous = compile_day("HG-01", DAY, HCM, [make_slot()], BEFORE, now=EARLY)
    again = compile_day("HG-01", DAY, HCM, [], BEFORE, now=OCC_START, previous=previous)
    assert items(again) == [[1, 2]]
    unlocked = compile_day("HG-01", DAY, HCM, [], BEFORE, now=EARLY, previous=previous)
    assert unlocked.occurrences == ()


# --- daylight saving -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "duration_s", "minutes", "expected"),
    [
        pytest.param(date(2026, 3, 29), time(2, 30), 3600, [20, 20],
                     [("2026-03-29T03:30:00+02:00", "2026-03-29T03:50:00+02:00"),
                      ("2026-03-29T03:50:00+02:00", "2026-03-29T04:10:00+02:00"),
                      ("2026-03-29T04:10:00+02:00", "2026-03-29T04:30:00+02:00")], id="spring-forward-gap"),
        pytest.param(date(2026, 3, 29), time(1, 30), 3600, [20, 20],
                     [("2026-03-29T01:30:00+01:00", "2026-03-29T01:50:00+01:00"),
                      ("2026-03-29T01:50:00+01:00", "2026-03-29T03:10:00+02:00"),
                      ("2026-03-29T03:10:00+02:00", "2026-03-29T03:30:00+02:00")], id="spring-forward-across"),
        pytest.param(date(2026, 10, 25), time(2, 0), 5400, [30, 30, 20],
                     [("2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00"),
                      ("2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00"),
                      ("2026-10-25T02:00:00+01:00", "2026-10-25T02:20:00+01:00"),
                      ("2026-10-25T02:20:00+01:00", "2026-10-25T02:30:00+01:00")], id="fall-back-repeated-hour"),
    ],
)
def test_entries_across_daylight_saving(day, start, duration_s, minutes, expected):
    slot = make_slot(start=start, duration_s=duration_s, filler=audio(900, 3_600_000))
    placements = [place(i + 1, m) for i, m in enumerate(minutes)]
    playlist = compile_day("DE-01", day, BERLIN, [slot], placements, now=datetime(2026, 3, 1, tzinfo=BERLIN))
    assert [(e.start.isoformat(), e.end.isoformat()) for e in playlist.occurrences[0].entries] == expected
    assert playlist.zone == "Europe/Berlin"


def test_ho_chi_minh_entries():
    playlist = compile_day("HG-01", DAY, HCM, [make_slot(gap_ms=2000)], [place(1, 2), place(2, 3)], now=EARLY)
    assert [(e.start.isoformat(), e.end.isoformat()) for e in playlist.occurrences[0].entries] == [
        ("2026-03-02T06:00:00+07:00", "2026-03-02T06:02:00+07:00"),
        ("2026-03-02T06:02:02+07:00", "2026-03-02T06:05:02+07:00")]


# --- determinism --------------------------------------------------------------------------------------------------


def test_same_inputs_in_any_order_give_the_same_playlist():
    slots = [make_slot(1, time(6, 0), 3600, "drop", gap_ms=1000, filler=audio(900, 45_000)),
             make_slot(2, time(17, 0), 3600, "move_next", gap_ms=1000),
             make_slot(3, time(11, 0), 1800, "reject", rrule="FREQ=WEEKLY;BYDAY=MO")]
    placements = [place(i, 3 + (i * 7) % 5, ("normal", "priority", "emergency")[i % 3], slot_id=1 + i % 3,
                        priority=i % 4, level=i % 3, repeat_count=1 + i % 2, repeat_gap_s=(i % 3) * 60,
                        position=5 if i == 7 else None) for i in range(1, 37)]
    reference = compile_day("HG-01", DAY, HCM, slots, placements, now=EARLY)
    shuffler = random.Random(4)
    for _ in range(5):
        shuffled_slots, shuffled_placements = slots[:], placements[:]
        shuffler.shuffle(shuffled_slots)
        shuffler.shuffle(shuffled_placements)
        again = compile_day("HG-01", DAY, HCM, shuffled_slots, shuffled_placements, now=EARLY)
        assert again == reference
        assert fingerprint(again) == fingerprint(reference)
    assert [len(occ.entries) for occ in reference.occurrences] == [14, 18, 11]


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        compile_day("HG-01", DAY, HCM, [make_slot()], [], now=datetime(2026, 3, 1))


def test_previous_playlist_unrelated_to_the_day_is_ignored():
    previous = compile_day("HG-01", DAY, HCM, [make_slot()], BEFORE, now=EARLY)
    other_day = compile_day("HG-01", DAY + timedelta(days=1), HCM, [make_slot()], AFTER,
                            now=datetime(2026, 3, 3, 5, 50, tzinfo=HCM), previous=replace(previous))
    assert items(other_day) == [[1, 3]]


@pytest.mark.parametrize(("now", "gets_audio"), [
    pytest.param(OCC_START - timedelta(minutes=10), True, id="locked-before-air"),
    pytest.param(OCC_START + timedelta(minutes=1), True, id="locked-on-air"),
    pytest.param(OCC_START + timedelta(minutes=30), False, id="over"),
])
def test_audio_rendered_after_the_lock_fills_the_planned_item(now, gets_audio):
    slot = make_slot()
    unrendered = place(2, audio=None, estimated_ms=150_000)
    previous = compile_day("HG-01", DAY, HCM, [slot], [place(1, 3), unrendered], now=OCC_START - timedelta(minutes=20))
    assert [e.audio is None for e in previous.occurrences[0].entries if e.kind == "item"] == [False, True]
    rendered = place(2, 2)  # the speech is ready: 2 minutes, not the 2.5 estimated
    # Also a normal edit arrives (item 3): the showlock still keeps it out.
    again = compile_day("HG-01", DAY, HCM, [slot], [place(1, 3), rendered, place(3, 1)], now=now, previous=previous)
    entries = [e for e in again.occurrences[0].entries if e.kind == "item"]
    assert [e.placement_id for e in entries] == [1, 2] and again.occurrences[0].locked
    if gets_audio:
        assert entries[1].audio == rendered.audio and entries[1].play_ms == 120_000
        assert entries[1].start == OCC_START + timedelta(minutes=3)  # right after item 1 (no gap in this slot)
    else:
        assert entries[1].audio is None
