"""Air-time slots: recurring windows defined on an area, inherited down the area tree, overridable below."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from schedules.media import AudioRef
from schedules.recurrence import parse_rule

POLICIES = ("reject", "move_next", "drop")


@dataclass(frozen=True, slots=True)
class SlotRule:
    """A recurring air-time window in the station's local wall-clock time.

    ``level`` is the level of the area that defined it (0 = province, higher = more specific, a station's own
    slots highest). ``overrides`` names an inherited slot this one replaces at and below its area.
    ``extra`` holds one-off sessions as naive local start datetimes; they last ``duration_s`` as well.
    Durations are absolute: a one-hour slot across a daylight-saving change still lasts 3,600 s.
    """

    id: int
    name: str
    start: time
    duration_s: int
    rrule: str
    valid_from: date
    valid_until: date | None = None
    cancelled: frozenset[date] = frozenset()
    extra: tuple[datetime, ...] = ()
    overrides: int | None = None
    policy: str = "reject"
    gap_ms: int = 0
    filler: AudioRef | None = None
    level: int = 0
    _extra_sorted: tuple[datetime, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.duration_s <= 0:
            raise ValueError(f"slot {self.id}: duration_s must be positive")
        if self.policy not in POLICIES:
            raise ValueError(f"slot {self.id}: policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if self.gap_ms < 0:
            raise ValueError(f"slot {self.id}: gap_ms cannot be negative")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError(f"slot {self.id}: valid_until is before valid_from")
        if self.start.tzinfo is not None or any(moment.tzinfo is not None for moment in self.extra):
            raise ValueError(f"slot {self.id}: start and extra sessions are naive local wall-clock times")
        if self.filler is not None and self.filler.duration_ms <= 0:
            raise ValueError(f"slot {self.id}: filler audio must have a positive duration")
        if self.overrides == self.id:
            raise ValueError(f"slot {self.id} cannot override itself")
        parse_rule(self.rrule, self.valid_from)  # fail at construction, not in the middle of a compile run
        # Keep extras sorted and unique so equal slots behave identically whatever order they were given in.
        object.__setattr__(self, "_extra_sorted", tuple(sorted(set(self.extra))))

    @property
    def duration_ms(self) -> int:
        return self.duration_s * 1000

    @property
    def time_label(self) -> str:
        """The local start as "HH:MM", the way people name a slot ("the 17:00 slot")."""
        return f"{self.start.hour:02d}:{self.start.minute:02d}"

    @property
    def extra_sessions(self) -> tuple[datetime, ...]:
        return self._extra_sorted


def _resolve(chain: Sequence[Sequence[SlotRule]]) -> dict[int, tuple[SlotRule, frozenset[int]]]:
    """Effective slots by id, each with the ids it stands for (itself and everything it replaced)."""
    current: dict[int, tuple[SlotRule, frozenset[int]]] = {}
    for level_slots in chain:
        # Sorting by id makes the result independent of the order a database returned the rows in.
        for slot in sorted(level_slots, key=lambda rule: rule.id):
            lineage = frozenset({slot.id})
            if slot.overrides is not None:
                replaced = next((sid for sid, (_, ids) in current.items() if slot.overrides in ids), None)
                if replaced is not None:
                    lineage |= current.pop(replaced)[1]
                # An override whose target is gone (deleted upstream) still stands as a slot of its own:
                # dropping a locally defined session silently would be worse than airing it.
            current.pop(slot.id, None)
            current[slot.id] = (slot, lineage)
    return current


def effective_slots(chain: Sequence[Sequence[SlotRule]]) -> list[SlotRule]:
    """The slots that apply at the bottom of ``chain`` (root area first, the station's own slots last).

    A slot with ``overrides=X`` replaces X, and also whatever already replaced X higher up; a slot without
    ``overrides`` is added. The result is sorted by local start time, then id.
    """
    resolved = _resolve(chain)
    return sorted((slot for slot, _ in resolved.values()), key=lambda rule: (rule.start, rule.id))


def slot_aliases(chain: Sequence[Sequence[SlotRule]]) -> dict[int, frozenset[int]]:
    """For each effective slot id, every slot id whose placements it airs (itself and the slots it replaced).

    A commune that moves the provincial morning session to 06:30 still airs what the province placed in
    the morning session; pass this to ``compile_day(aliases=...)``.
    """
    return {sid: ids for sid, (_, ids) in sorted(_resolve(chain).items())}
