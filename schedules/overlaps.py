"""Overlap checks: two sessions on one station at the same time are an error for the caller to report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from schedules.occurrences import Occurrence, occurrences
from schedules.slots import SlotRule


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two occurrences that overlap; ``first`` starts no later than ``second``."""

    first: Occurrence
    second: Occurrence

    @property
    def overlap_ms(self) -> int:
        end = min(self.first.end.timestamp(), self.second.end.timestamp())
        return round((end - self.second.start.timestamp()) * 1000)


def validate_slots(slots: Iterable[SlotRule], zone: ZoneInfo | str, day_from: date, day_to: date) -> list[Overlap]:
    """Every pair of overlapping occurrences of ``slots`` on the given dates, in order of the second's start.

    A session that ends exactly when another starts does not overlap it. Sessions are compared on the UTC
    instant, so a slot in the repeated autumn hour is checked against what really airs then.
    """
    found: list[Overlap] = []
    active: list[Occurrence] = []  # started and not yet ended, as of the occurrence being looked at
    for occ in occurrences(slots, day_from, day_to, zone):
        start = occ.start.timestamp()
        active = [other for other in active if other.end.timestamp() > start]
        found.extend(Overlap(other, occ) for other in active)
        active.append(occ)
    return found
