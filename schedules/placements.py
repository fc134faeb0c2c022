"""Placements: an item put into a slot's occurrences, with its class, dates, repeats and order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from schedules.media import AudioRef

ITEM_CLASSES = ("emergency", "priority", "normal")


@dataclass(frozen=True, slots=True)
class PlacementRule:
    """An item placed into the occurrences of one slot, as it applies to one station.

    ``audio`` is None until the item is rendered; ``estimated_ms`` then stands in for its duration.
    ``weekdays`` uses 0 = Monday; None means every day. ``repeat_gap_s`` is the least time between the end
    of one airing and the start of the next (0: the repeats follow one another). ``position`` is a fixed
    1-based place among the occurrence's items. ``level`` is the placing area's level (province 0, higher
    is more local), which tells a commune's own items from the province's. ``operator_order`` is set by the
    commune operator to order clashing priority items. ``date_until`` None means open-ended.
    """

    id: int
    item_id: int
    title: str
    item_class: str
    audio: AudioRef | None
    estimated_ms: int | None
    slot_id: int
    date_from: date
    date_until: date | None = None
    weekdays: frozenset[int] | None = None
    repeat_count: int = 1
    repeat_gap_s: int = 0
    position: int | None = None
    priority: int = 0
    level: int = 0
    operator_order: int | None = None

    def __post_init__(self) -> None:
        if self.item_class not in ITEM_CLASSES:
            raise ValueError(f"placement {self.id}: item_class must be one of {', '.join(ITEM_CLASSES)}")
        if self.repeat_count < 1:
            raise ValueError(f"placement {self.id}: repeat_count must be at least 1")
        if self.repeat_gap_s < 0:
            raise ValueError(f"placement {self.id}: repeat_gap_s cannot be negative")
        if self.position is not None and self.position < 1:
            raise ValueError(f"placement {self.id}: position is 1-based")
        if self.estimated_ms is not None and self.estimated_ms < 0:
            raise ValueError(f"placement {self.id}: estimated_ms cannot be negative")
        if self.date_until is not None and self.date_until < self.date_from:
            raise ValueError(f"placement {self.id}: date_until is before date_from")
        if self.weekdays is not None and not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"placement {self.id}: weekdays are 0 (Monday) to 6 (Sunday)")

    @property
    def duration_ms(self) -> int:
        """Exact duration once rendered, the estimate before (0 if neither is known)."""
        if self.audio is not None:
            return self.audio.duration_ms
        return self.estimated_ms or 0

    def applies_on(self, day: date) -> bool:
        """Whether the placement airs in an occurrence whose local date is ``day``."""
        if day < self.date_from or (self.date_until is not None and day > self.date_until):
            return False
        return self.weekdays is None or day.weekday() in self.weekdays


@dataclass(frozen=True, slots=True)
class CarriedItem:
    """One airing moved out of a full occurrence (policy "move_next") into the slot's next occurrence."""

    slot_id: int
    placement: PlacementRule
    repeat: int
    from_key: str
