"""Sequencing: turn ranked runs of airings into the order they air in one occurrence.

Three rules meet here. Emergency airings go first. A fixed position is a 1-based place among the
occurrence's items (counted after the emergency items, which nothing displaces; a position beyond the end
means last). A repeat airs at least ``repeat_gap`` after the end of the previous airing of the same item,
so it is pushed behind other entries until that much time has passed; when nothing else is left to air it
follows at once, because silence to honour a gap would be dead air.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from heapq import heappop, heappush
from typing import NamedTuple

from schedules.media import AudioRef
from schedules.placements import PlacementRule


class Piece(NamedTuple):
    """One airing of one item: what the layout needs to place it in time.

    Pieces and runs are built for every airing of every station compiled, so they are named tuples: as
    immutable as a frozen dataclass and several times cheaper to create.
    """

    placement_id: int | None
    item_id: int | None
    title: str
    item_class: str | None
    audio: AudioRef | None
    duration_ms: int
    repeat: int = 0

    @classmethod
    def of(cls, placement: PlacementRule, repeat: int) -> Piece:
        return cls(placement.id, placement.item_id, placement.title, placement.item_class, placement.audio,
                   placement.duration_ms, repeat)


class Run(NamedTuple):
    """The airings of one placement in one occurrence, first airing first, in rank order with other runs."""

    pieces: tuple[Piece, ...]
    repeat_gap_ms: int = 0
    position: int | None = None
    emergency: bool = False


def sequence_runs(runs: Sequence[Run], gap_ms: int) -> list[Piece]:
    """The airing order of ``runs`` (already in rank order) with ``gap_ms`` between entries.

    Runs in O(n log n): one pass over the runs, a heap of repeats waiting for their gap to pass.
    """
    out: list[Piece] = []
    clock = 0  # when the next entry would start, in ms from the occurrence start
    waiting: list[tuple[int, int, int]] = []  # (ready at ms, run index, piece index)

    def place(run_index: int, piece_index: int) -> None:
        nonlocal clock
        run = runs[run_index]
        while True:
            piece = run.pieces[piece_index]
            out.append(piece)
            end = clock + piece.duration_ms
            clock = end + gap_ms
            piece_index += 1
            if piece_index >= len(run.pieces):
                return
            if run.repeat_gap_ms > 0:
                heappush(waiting, (end + run.repeat_gap_ms, run_index, piece_index))
                return
            # No gap asked for: the repeat follows straight away.

    live = [index for index, run in enumerate(runs) if run.pieces]
    fixed = sorted((runs[i].position, i) for i in live if not runs[i].emergency and runs[i].position is not None)
    base = deque(i for i in live if not runs[i].emergency and runs[i].position is None)
    for index in live:
        if runs[index].emergency:
            place(index, 0)
    next_fixed = 0
    while next_fixed < len(fixed) or waiting or base:
        if next_fixed < len(fixed) and fixed[next_fixed][0] <= len(out) + 1:
            place(fixed[next_fixed][1], 0)
            next_fixed += 1
        elif waiting and waiting[0][0] <= clock:
            _, run_index, piece_index = heappop(waiting)
            place(run_index, piece_index)
        elif base:
            place(base.popleft(), 0)
        elif waiting:
            _, run_index, piece_index = heappop(waiting)
            place(run_index, piece_index)
        else:
            place(fixed[next_fixed][1], 0)
            next_fixed += 1
    return out
