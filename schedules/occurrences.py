"""Slot occurrences: the concrete sessions a set of slots gives over a range of local dates.

Local wall-clock times become aware datetimes in the station's zone. Two daylight-saving rules, chosen so
that a session always airs exactly once:

- a time that does not exist (the spring-forward gap) moves forward by the length of the gap: 02:30 on
  2026-03-29 in Europe/Berlin airs at 03:30 CEST;
- a time that exists twice (the autumn repeated hour) takes the first of the two (fold=0): 02:30 on
  2026-10-25 in Europe/Berlin airs at 02:30 CEST, and not again an hour later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from schedules.recurrence import recurring_dates
from schedules.slots import SlotRule

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def as_zone(zone: ZoneInfo | str) -> ZoneInfo:
    """A ZoneInfo from a zone or its IANA name (raises ZoneInfoNotFoundError for an unknown name)."""
    return zone if isinstance(zone, ZoneInfo) else _zone(zone)


def localize(local: datetime, zone: ZoneInfo) -> datetime:
    """The aware moment for a naive wall-clock time, by the module's daylight-saving rules."""
    # fold=0 reads a repeated time as the first one, and reads a time in the gap with the offset in force
    # before the gap; the round trip through UTC then lands on the real wall clock after the gap.
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def shift(moment: datetime, milliseconds: int, zone: ZoneInfo) -> datetime:
    """``moment`` plus elapsed time, in ``zone``; plain ``+`` on an aware datetime adds wall-clock time."""
    return (moment.astimezone(UTC) + timedelta(milliseconds=milliseconds)).astimezone(zone)


class Timeline:
    """Moments at elapsed milliseconds after ``origin``, in ``zone``; cheap when no offset change is near.

    Most occurrences are nowhere near a daylight-saving change (and Asia/Ho_Chi_Minh has none), so when the
    offset is the same at both ends of a span shorter than a day, wall-clock addition is exact and skips two
    zone conversions per entry; otherwise every moment goes through UTC. Zones change offset at most a
    couple of times a year, never twice within a day.
    """

    __slots__ = ("_origin", "_zone", "_fast")

    def __init__(self, origin: datetime, zone: ZoneInfo, horizon_ms: int) -> None:
        self._origin = origin.astimezone(zone)
        self._zone = zone
        self._fast = (0 <= horizon_ms < 86_400_000
                      and self._origin.utcoffset() == shift(self._origin, horizon_ms, zone).utcoffset())

    def __call__(self, milliseconds: int) -> datetime:
        if self._fast:
            return self._origin + timedelta(0, 0, 0, milliseconds)  # positional: measurably cheaper here
        return shift(self._origin, milliseconds, self._zone)


def occurrence_key(slot_id: int, local_start: datetime) -> str:
    """The stable name of an occurrence: slot id and nominal local start, e.g. "7@2026-03-29T02:30:00"."""
    return f"{slot_id}@{local_start.isoformat()}"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One session of one slot. ``local_start`` is the nominal wall-clock start the slot asked for.

    ``key`` names the session across compilations and confirmations; it uses the nominal local start, so a
    session moved by a daylight-saving gap keeps the name its slot gives it.
    """

    slot_id: int
    start: datetime
    end: datetime
    key: str
    local_start: datetime

    @property
    def local_date(self) -> date:
        return self.local_start.date()

    @property
    def duration_ms(self) -> int:
        return round((self.end - self.start).total_seconds() * 1000)


@lru_cache(maxsize=16384)
def slot_occurrences(slot: SlotRule, day_from: date, day_to: date, zone: ZoneInfo) -> tuple[Occurrence, ...]:
    """Occurrences of one slot whose nominal local start falls on a date in [day_from, day_to].

    Cached: thousands of stations share the same inherited slots, and the answer is immutable.
    """
    first = max(day_from, slot.valid_from)
    last = day_to if slot.valid_until is None else min(day_to, slot.valid_until)
    if last < first:
        return ()
    starts = {datetime.combine(day, slot.start) for day in recurring_dates(slot.rrule, slot.valid_from, first, last)
              if day not in slot.cancelled}
    # Cancellations remove recurring sessions only: an extra session is itself an explicit decision
    # (e.g. a holiday broadcast at another hour), but like every session it stays within the validity range.
    starts.update(moment for moment in slot.extra_sessions if first <= moment.date() <= last)
    found = []
    for local_start in sorted(starts):
        start = localize(local_start, zone)
        found.append(Occurrence(slot.id, start, shift(start, slot.duration_ms, zone),
                                occurrence_key(slot.id, local_start), local_start))
    return tuple(found)


def occurrences(slots: Iterable[SlotRule], day_from: date, day_to: date, zone: ZoneInfo | str) -> list[Occurrence]:
    """All occurrences of ``slots`` on local dates day_from..day_to (inclusive), sorted by start then slot id."""
    tz = as_zone(zone)
    found = [occ for slot in slots for occ in slot_occurrences(slot, day_from, day_to, tz)]
    # Sort on the UTC instant: datetimes sharing a tzinfo compare by wall clock, which is wrong in the
    # repeated autumn hour.
    found.sort(key=lambda occ: (occ.start.timestamp(), occ.slot_id))
    return found
