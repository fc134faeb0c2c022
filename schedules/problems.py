"""Fit problems found while compiling: what went wrong, where, by how much."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("never_fits", "overflow", "dropped", "moved", "underflow", "not_rendered")
# "info" marks an underflow that filler already covered: worth a line in a report, never a blocker.
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in one slot occurrence (or, from ``check_fits``, in a slot as a whole).

    ``slot_time`` is the slot's local start as "HH:MM", so reports can say "the 17:00 slot" without
    looking the slot up again; ``amount_ms`` is how much too long, too short, dropped or moved.
    """

    kind: str
    severity: str
    slot_id: int
    occurrence_key: str = ""
    slot_time: str = ""
    amount_ms: int = 0
    item_ids: tuple[int, ...] = ()
    placement_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown problem kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
