"""Slot recurrence: daily, weekly, intervals, validity, cancellations, extra sessions and daylight saving."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from schedules import SlotRule, localize, occurrences
from schedules.occurrences import as_zone

HCM = "Asia/Ho_Chi_Minh"
BERLIN = "Europe/Berlin"


def make_slot(**fields) -> SlotRule:
    values = {"id": 1, "name": "Buổi sáng", "start": time(6, 0), "duration_s": 3600, "rrule": "FREQ=DAILY",
              "valid_from": date(2026, 3, 2)}
    values.update(fields)
    return SlotRule(**values)


def starts(slots, day_from, day_to, zone=HCM) -> list[str]:
    return [occ.start.isoformat() for occ in occurrences(slots, day_from, day_to, zone)]


@pytest.mark.parametrize(
    ("fields", "day_from", "day_to", "expected"),
    [
        pytest.param({}, date(2026, 3, 2), date(2026, 3, 4),
                     ["2026-03-02T06:00:00+07:00", "2026-03-03T06:00:00+07:00", "2026-03-04T06:00:00+07:00"],
                     id="daily"),
        pytest.param({"rrule": "FREQ=WEEKLY;BYDAY=MO,WE,FR"}, date(2026, 3, 2), date(2026, 3, 8),
                     ["2026-03-02T06:00:00+07:00", "2026-03-04T06:00:00+07:00", "2026-03-06T06:00:00+07:00"],
                     id="weekly-byday"),
        pytest.param({"rrule": "RRULE:FREQ=WEEKLY;BYDAY=SA"}, date(2026, 3, 1), date(2026, 3, 15),
                     ["2026-03-07T06:00:00+07:00", "2026-03-14T06:00:00+07:00"], id="rrule-prefix"),
        pytest.param({"rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"}, date(2026, 3, 1), date(2026, 4, 5),
                     ["2026-03-03T06:00:00+07:00", "2026-03-17T06:00:00+07:00", "2026-03-31T06:00:00+07:00"],
                     id="fortnightly"),
        pytest.param({"rrule": "FREQ=DAILY;INTERVAL=3"}, date(2026, 3, 10), date(2026, 3, 20),
                     ["2026-03-11T06:00:00+07:00", "2026-03-14T06:00:00+07:00", "2026-03-17T06:00:00+07:00",
                      "2026-03-20T06:00:00+07:00"], id="interval-counts-from-valid-from"),
        pytest.param({"rrule": "FREQ=DAILY;COUNT=2"}, date(2026, 3, 1), date(2026, 3, 10),
                     ["2026-03-02T06:00:00+07:00", "2026-03-03T06:00:00+07:00"], id="count"),
        pytest.param({"rrule": "FREQ=MONTHLY;BYMONTHDAY=1"}, date(2026, 3, 1), date(2026, 5, 31),
                     ["2026-04-01T06:00:00+07:00", "2026-05-01T06:00:00+07:00"], id="monthly-before-valid-from"),
        pytest.param({"valid_from": date(2026, 3, 4), "valid_until": date(2026, 3, 5)}, date(2026, 3, 1),
                     date(2026, 3, 10), ["2026-03-04T06:00:00+07:00", "2026-03-05T06:00:00+07:00"], id="validity"),
        pytest.param({"valid_until": date(2026, 3, 2)}, date(2026, 3, 3), date(2026, 3, 10), [], id="expired"),
        pytest.param({"cancelled": frozenset({date(2026, 3, 3)})}, date(2026, 3, 2), date(2026, 3, 4),
                     ["2026-03-02T06:00:00+07:00", "2026-03-04T06:00:00+07:00"], id="cancelled-holiday"),
        pytest.param({"rrule": "FREQ=WEEKLY;BYDAY=MO", "extra": (datetime(2026, 3, 3, 19, 30),)},
                     date(2026, 3, 2), date(2026, 3, 3),
                     ["2026-03-02T06:00:00+07:00", "2026-03-03T19:30:00+07:00"], id="extra-session"),
        pytest.param({"cancelled": frozenset({date(2026, 3, 3)}), "extra": (datetime(2026, 3, 3, 8, 0),)},
                     date(2026, 3, 3), date(2026, 3, 3), ["2026-03-03T08:00:00+07:00"],
                     id="extra-on-cancelled-day-still-airs"),
        pytest.param({"valid_until": date(2026, 3, 5), "extra": (datetime(2026, 3, 6, 8, 0),)},
                     date(2026, 3, 5), date(2026, 3, 6), ["2026-03-05T06:00:00+07:00"],
                     id="extra-outside-validity-ignored"),
        pytest.param({"extra": (datetime(2026, 3, 2, 6, 0),)}, date(2026, 3, 2), date(2026, 3, 2),
                     ["2026-03-02T06:00:00+07:00"], id="extra-equal-to-regular-airs-once"),
    ],
)
def test_recurrence(fields, day_from, day_to, expected):
    assert starts([make_slot(**fields)], day_from, day_to) == expected


def test_occurrences_of_several_slots_sorted_with_keys_and_ends():
    morning = make_slot(id=2, start=time(6, 0), duration_s=5400)
    evening = make_slot(id=1, start=time(17, 0), duration_s=3600)
    found = occurrences([evening, morning], date(2026, 3, 2), date(2026, 3, 3), HCM)
    assert [(o.slot_id, o.key, o.start.isoformat(), o.end.isoformat()) for o in found] == [
        (2, "2@2026-03-02T06:00:00", "2026-03-02T06:00:00+07:00", "2026-03-02T07:30:00+07:00"),
        (1, "1@2026-03-02T17:00:00", "2026-03-02T17:00:00+07:00", "2026-03-02T18:00:00+07:00"),
        (2, "2@2026-03-03T06:00:00", "2026-03-03T06:00:00+07:00", "2026-03-03T07:30:00+07:00"),
        (1, "1@2026-03-03T17:00:00", "2026-03-03T17:00:00+07:00", "2026-03-03T18:00:00+07:00"),
    ]
    assert found[0].duration_ms == 5_400_000
    assert found[0].local_date == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("zone", "local_start", "duration_s", "day", "start", "end"),
    [
        # Spring forward in Berlin: 02:00-03:00 does not exist; 02:30 moves forward by the hour gap.
        pytest.param(BERLIN, time(2, 30), 3600, date(2026, 3, 29),
                     "2026-03-29T03:30:00+02:00", "2026-03-29T04:30:00+02:00", id="berlin-gap"),
        pytest.param(BERLIN, time(2, 30), 3600, date(2026, 3, 28),
                     "2026-03-28T02:30:00+01:00", "2026-03-28T03:30:00+01:00", id="berlin-day-before-gap"),
        # A session across the gap still lasts its full hour of elapsed time.
        pytest.param(BERLIN, time(1, 30), 3600, date(2026, 3, 29),
                     "2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00", id="berlin-across-gap"),
        # Fall back: 02:00-03:00 happens twice; the session takes the first (summer time) one.
        pytest.param(BERLIN, time(2, 30), 3600, date(2026, 10, 25),
                     "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", id="berlin-repeated-hour"),
        pytest.param(BERLIN, time(1, 30), 7200, date(2026, 10, 25),
                     "2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+01:00", id="berlin-across-repeated-hour"),
        pytest.param(HCM, time(2, 30), 3600, date(2026, 3, 29),
                     "2026-03-29T02:30:00+07:00", "2026-03-29T03:30:00+07:00", id="hcm-no-dst"),
    ],
)
def test_daylight_saving(zone, local_start, duration_s, day, start, end):
    found = occurrences([make_slot(start=local_start, duration_s=duration_s)], day, day, zone)
    assert [(o.start.isoformat(), o.end.isoformat(), o.key) for o in found] == [
        (start, end, f"1@{day.isoformat()}T{local_start.isoformat()}")]


def test_repeated_hour_airs_once_and_sorts_on_real_time():
    # 02:45 (first, summer time) is 00:45 UTC; a session at 02:10 is 00:10 UTC; both on the fall-back day.
    late = make_slot(id=1, start=time(2, 45), duration_s=600)
    early = make_slot(id=2, start=time(2, 10), duration_s=600)
    found = occurrences([late, early], date(2026, 10, 25), date(2026, 10, 25), BERLIN)
    assert [(o.slot_id, o.start.isoformat()) for o in found] == [
        (2, "2026-10-25T02:10:00+02:00"), (1, "2026-10-25T02:45:00+02:00")]


def test_localize_uses_the_first_of_a_repeated_time_and_shifts_a_missing_one():
    berlin = as_zone(BERLIN)
    assert localize(datetime(2026, 10, 25, 2, 30), berlin).utcoffset().total_seconds() == 7200
    assert localize(datetime(2026, 3, 29, 2, 30), berlin).isoformat() == "2026-03-29T03:30:00+02:00"


@pytest.mark.parametrize(
    "rule",
    ["", "FREQ=HOURLY", "FREQ=MINUTELY;INTERVAL=30", "FREQ=DAILY;BYHOUR=6", "FREQ=SOMETIMES", "BYDAY=MO",
     "DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "FREQ=WEEKLY;BYDAY=XX"],
)
def test_bad_rules_are_refused_when_the_slot_is_made(rule):
    with pytest.raises(ValueError):
        make_slot(rrule=rule)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"duration_s": 0}, "duration_s"),
        ({"policy": "squeeze"}, "policy"),
        ({"gap_ms": -1}, "gap_ms"),
        ({"valid_until": date(2026, 3, 1)}, "valid_until"),
        ({"extra": (datetime(2026, 3, 3, 8, 0, tzinfo=as_zone(HCM)),)}, "naive"),
        ({"overrides": 1}, "itself"),
    ],
)
def test_bad_slots_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        make_slot(**fields)
