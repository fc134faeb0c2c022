"""Air-time slots as an iCalendar (RFC 5545) file, so people can see an area's schedule in any calendar app.

Depends only on the standard library and ``icalendar``: callers turn their slots into :class:`CalendarSlot`
values. Output is deterministic (same slots and stamp, same bytes), so it can be cached by its hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vRecur

PRODID = "-//commune-radio//air-time schedule//VI"
# icalendar writes VTIMEZONE transitions up to here unless a slot needs later ones.
_LAST_TRANSITION = date(2038, 1, 1)


@dataclass(frozen=True, slots=True)
class CalendarSlot:
    """One air-time slot as a calendar event: a first start, a length and how it recurs.

    ``rrule`` is an RFC 5545 RRULE value such as ``FREQ=WEEKLY;BYDAY=MO,WE,FR`` (None: once). ``exdates``
    are cancelled starts (holidays) and ``rdates`` extra ones; all times are aware.
    """

    uid: str
    summary: str
    description: str
    start: datetime
    duration_s: int
    rrule: str | None = None
    exdates: tuple[datetime, ...] = ()
    rdates: tuple[datetime, ...] = ()


def to_ical(calendar_name: str, zone_name: str, slots: Sequence[CalendarSlot], *,
            stamp: datetime | None = None) -> bytes:
    """Return a VCALENDAR with one VEVENT per slot, times in ``zone_name`` and its VTIMEZONE.

    Times are written as wall-clock times in the zone (``DTSTART;TZID=…``), so a weekly 06:00 slot stays at
    06:00 across daylight-saving changes. ``stamp`` is the DTSTAMP of every event; pass the time the schedule
    was read (the default is now) to keep the output byte-stable. Raises ValueError for an unknown zone, a
    naive time, a duplicate UID, a non-positive duration or an RRULE that does not parse.
    """
    try:
        tz = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone_name!r}") from None
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", calendar_name)
    # The X-WR names are what Google Calendar and Outlook show; NAME is the RFC 7986 one.
    cal.add("x-wr-calname", calendar_name)
    cal.add("x-wr-timezone", zone_name)
    seen: set[str] = set()
    dates: list[date] = []
    for slot in slots:
        if slot.uid in seen:
            raise ValueError(f"two slots have the UID {slot.uid!r}")
        seen.add(slot.uid)
        event, used = _event(slot, tz, stamp)
        cal.add_component(event)
        dates.extend(used)
    if dates:
        cal.add_missing_timezones(first_date=min(dates), last_date=max(_LAST_TRANSITION, max(dates)))
    return cal.to_ical()


def _event(slot: CalendarSlot, tz: ZoneInfo, stamp: datetime) -> tuple[Event, list[date]]:
    if not isinstance(slot.duration_s, int) or slot.duration_s <= 0:
        raise ValueError(f"slot {slot.uid}: duration_s must be a positive number of seconds")
    start = _local(slot.start, tz, slot.uid, "start")
    event = Event()
    event.add("uid", slot.uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    # DURATION rather than DTEND: every occurrence lasts the slot's length, even on a daylight-saving day.
    event.add("duration", timedelta(seconds=slot.duration_s))
    event.add("summary", slot.summary)
    if slot.description:
        event.add("description", slot.description)
    used = [start.date()]
    if slot.rrule is not None:
        rule = _rule(slot.rrule, tz, slot.uid)
        event.add("rrule", rule)
        used.extend(u.date() for u in rule.get("UNTIL", ()))
    if slot.rdates:
        rdates = [_local(moment, tz, slot.uid, "rdate") for moment in slot.rdates]
        event.add("rdate", rdates)
        used.extend(moment.date() for moment in rdates)
    if slot.exdates:
        exdates = [_local(moment, tz, slot.uid, "exdate") for moment in slot.exdates]
        event.add("exdate", exdates)
        used.extend(moment.date() for moment in exdates)
    return event, used


def _rule(text: str, tz: ZoneInfo, uid: str) -> vRecur:
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:"):]
    try:
        rule = vRecur.from_ical(body)
    except ValueError as exc:
        raise ValueError(f"slot {uid}: RRULE {text!r} does not parse: {exc}") from None
    if "FREQ" not in rule:
        raise ValueError(f"slot {uid}: RRULE {text!r} has no FREQ")
    if "UNTIL" in rule and "COUNT" in rule:
        raise ValueError(f"slot {uid}: RRULE {text!r} has both UNTIL and COUNT")
    if "UNTIL" in rule:
        # RFC 5545 wants UNTIL in UTC when DTSTART has a TZID; a date or a wall-clock time is read in the zone,
        # a date meaning "up to the end of that day".
        rule["UNTIL"] = [_until(u, tz) for u in rule["UNTIL"]]
    return rule


def _until(value: date | datetime, tz: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59))
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _local(moment: datetime, tz: ZoneInfo, uid: str, what: str) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"slot {uid}: {what} {moment!r} must be a datetime with a time zone")
    return moment.astimezone(tz)
