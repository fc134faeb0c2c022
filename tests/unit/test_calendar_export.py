"""iCalendar export of air-time slots: parsed back with icalendar, recurrence expanded across daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar

from schedules.calendar_export import PRODID, CalendarSlot, to_ical

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

MORNING = CalendarSlot(
    uid="slot-4@commune-radio",
    summary="Phiên sáng, Phường Hà Giang 1",
    description="Bản tin tỉnh; tin địa phương\nvà thông báo",
    start=datetime(2026, 3, 21, 6, 0, tzinfo=BERLIN),  # a Saturday, before the change to summer time
    duration_s=5400,
    rrule="FREQ=WEEKLY;BYDAY=SA;UNTIL=20260425T235959Z",
    exdates=(datetime(2026, 4, 11, 6, 0, tzinfo=BERLIN),),
    rdates=(datetime(2026, 4, 1, 17, 0, tzinfo=UTC),),  # an extra session, given in UTC
)
ONCE = CalendarSlot(uid="extra-7@commune-radio", summary="Phiên bổ sung", description="",
                    start=datetime(2026, 3, 30, 19, 30, tzinfo=BERLIN), duration_s=1800)


def export(slots, zone="Europe/Berlin", name="Lịch phát thanh, Hà Giang") -> Calendar:
    return Calendar.from_ical(to_ical(name, zone, slots, stamp=STAMP))


def occurrences(event) -> list[datetime]:
    """Expand an event's RRULE, RDATE and EXDATE the way a calendar app does."""
    rules = rruleset()
    if "RRULE" in event:
        rules.rrule(rrulestr(event["RRULE"].to_ical().decode(), dtstart=event.start))
    for prop, add in (("RDATE", rules.rdate), ("EXDATE", rules.exdate)):
        values = event.get(prop, [])
        for group in values if isinstance(values, list) else [values]:
            for value in group.dts:
                add(value.dt)
    return list(rules)


def test_calendar_properties():
    cal = export([MORNING, ONCE])
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == PRODID
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert cal.calendar_name == "Lịch phát thanh, Hà Giang"
    assert str(cal["X-WR-CALNAME"]) == "Lịch phát thanh, Hà Giang"
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Berlin"
    assert [e.uid for e in cal.events] == ["slot-4@commune-radio", "extra-7@commune-radio"]


def test_event_fields_and_times_are_exact():
    event = export([MORNING]).events[0]
    assert str(event["SUMMARY"]) == "Phiên sáng, Phường Hà Giang 1"
    assert str(event["DESCRIPTION"]) == "Bản tin tỉnh; tin địa phương\nvà thông báo"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.start == datetime(2026, 3, 21, 6, 0, tzinfo=BERLIN)
    assert event["DURATION"].dt == timedelta(minutes=90)
    assert event["DTSTAMP"].dt == STAMP
    assert event["RRULE"] == {"FREQ": ["WEEKLY"], "BYDAY": ["SA"], "UNTIL": [datetime(2026, 4, 25, 23, 59, 59,
                                                                                      tzinfo=ZoneInfo("UTC"))]}
    assert [v.dt for v in event["EXDATE"].dts] == [datetime(2026, 4, 11, 6, 0, tzinfo=BERLIN)]
    # Written in the calendar's zone, whatever zone it came in.
    assert event["RDATE"].params["TZID"] == "Europe/Berlin"
    assert [(v.dt.hour, v.dt.minute) for v in event["RDATE"].dts] == [(19, 0)]


def test_recurrence_keeps_the_wall_clock_across_daylight_saving():
    # Summer time starts in Berlin on 2026-03-29: 06:00 stays 06:00, so its UTC time moves an hour earlier.
    starts = occurrences(export([MORNING]).events[0])
    assert [s.astimezone(UTC) for s in starts] == [
        datetime(2026, 3, 21, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 28, 5, 0, tzinfo=UTC),
        datetime(2026, 4, 1, 17, 0, tzinfo=UTC),  # the extra session
        datetime(2026, 4, 4, 4, 0, tzinfo=UTC),
        datetime(2026, 4, 18, 4, 0, tzinfo=UTC),  # 2026-04-11 is cancelled
        datetime(2026, 4, 25, 4, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("zone", "offsets"),
    [
        # Summer time in Berlin from 2026-03-29 to 2026-10-25, and in later years too.
        ("Europe/Berlin", {datetime(2026, 3, 28, 12): 1, datetime(2026, 3, 29, 12): 2, datetime(2026, 10, 24, 12): 2,
                           datetime(2026, 10, 25, 12): 1, datetime(2031, 7, 1): 2}),
        ("Asia/Ho_Chi_Minh", {datetime(2026, 3, 28, 12): 7, datetime(2036, 1, 1): 7}),
    ],
)
def test_vtimezone_describes_the_zone(zone, offsets):
    cal = export([CalendarSlot("u", "s", "", datetime(2026, 3, 21, 6, tzinfo=ZoneInfo(zone)), 60, "FREQ=DAILY")],
                 zone=zone)
    [vtimezone] = cal.timezones
    assert vtimezone.tz_name == zone
    # Read the VTIMEZONE itself, not the zone database its TZID names.
    tz = vtimezone.to_tz(lookup_tzid=False)
    assert {moment: tz.utcoffset(moment) for moment in offsets} == {
        moment: timedelta(hours=hours) for moment, hours in offsets.items()}


def test_daily_slot_in_ho_chi_minh():
    slot = CalendarSlot("slot-1", "Phiên chiều", "", datetime(2026, 11, 28, 10, 0, tzinfo=UTC), 3600,
                        "FREQ=DAILY;COUNT=3")
    event = export([slot], zone="Asia/Ho_Chi_Minh").events[0]
    assert event["DTSTART"].to_ical() == b"20261128T170000"
    assert event["DTSTART"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert [s.isoformat() for s in occurrences(event)] == [
        "2026-11-28T17:00:00+07:00", "2026-11-29T17:00:00+07:00", "2026-11-30T17:00:00+07:00"]


@pytest.mark.parametrize(
    ("rule", "until"),
    [
        ("FREQ=DAILY;UNTIL=20261231", b"20261231T165959Z"),  # a date: to the end of that local day
        ("FREQ=DAILY;UNTIL=20261231T060000", b"20261230T230000Z"),  # a wall-clock time in the zone
        ("RRULE:FREQ=DAILY;UNTIL=20261231T060000Z", b"20261231T060000Z"),  # already UTC, prefix allowed
    ],
)
def test_until_is_written_in_utc(rule, until):
    slot = CalendarSlot("u", "s", "", datetime(2026, 12, 1, 6, tzinfo=HCM), 60, rule)
    data = to_ical("c", "Asia/Ho_Chi_Minh", [slot], stamp=STAMP)
    assert f"RRULE:FREQ=DAILY;UNTIL={until.decode()}".encode() in data


def test_output_is_deterministic_and_well_formed():
    first = to_ical("Lịch", "Europe/Berlin", [MORNING, ONCE], stamp=STAMP)
    assert first == to_ical("Lịch", "Europe/Berlin", [MORNING, ONCE], stamp=STAMP)
    assert first.startswith(b"BEGIN:VCALENDAR\r\n") and first.endswith(b"END:VCALENDAR\r\n")
    lines = first.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75  # RFC 5545 folds lines at 75 octets
    assert b"\n" not in first.replace(b"\r\n", b"")


def test_no_slots_gives_an_empty_calendar():
    cal = export([])
    assert cal.events == [] and cal.timezones == []


@pytest.mark.parametrize(
    ("zone", "slots", "message"),
    [
        ("Mars/Olympus", [ONCE], "unknown time zone 'Mars/Olympus'"),
        ("Europe/Berlin", [ONCE, ONCE], "two slots have the UID 'extra-7@commune-radio'"),
        ("Europe/Berlin", [CalendarSlot("u", "s", "", datetime(2026, 3, 1, 6), 60)],  # noqa: DTZ001
         "slot u: start datetime.datetime(2026, 3, 1, 6, 0) must be a datetime with a time zone"),
        ("Europe/Berlin", [CalendarSlot("u", "s", "", ONCE.start, 60, exdates=(date(2026, 3, 2),))],
         "slot u: exdate datetime.date(2026, 3, 2) must be a datetime with a time zone"),
        ("Europe/Berlin", [CalendarSlot("u", "s", "", ONCE.start, 0)], "slot u: duration_s must be a positive"),
        ("Europe/Berlin", [CalendarSlot("u", "s", "", ONCE.start, 60, "FREQ=SOMETIMES")],
         "slot u: RRULE 'FREQ=SOMETIMES' does not parse"),
        ("Europe/Berlin", [CalendarSlot("u", "s", "", ONCE.start, 60, "BYDAY=MO")], "has no FREQ"),
        ("Europe/Berlin", [CalendarSlot("u", "s", "", ONCE.start, 60, "FREQ=DAILY;COUNT=2;UNTIL=20261231")],
         "has both UNTIL and COUNT"),
    ],
)
def test_refuses(zone, slots, message):
    with pytest.raises(ValueError) as caught:
        to_ical("c", zone, slots, stamp=STAMP)
    assert message in str(caught.value)
