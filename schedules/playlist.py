"""Compiled playlists: entries with absolute times, per occurrence and per station day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from schedules.media import AudioRef
from schedules.occurrences import Occurrence
from schedules.placements import CarriedItem
from schedules.problems import Problem


class Entry(NamedTuple):
    """One thing to play: an item airing or a piece of filler, from ``start`` to ``end`` in the station's zone.

    ``play_ms`` is how long to play it; it is shorter than ``audio.duration_ms`` only for the last filler,
    which is cut where the occurrence ends. ``audio`` is None for an item not rendered yet (its length is
    then the estimate). For filler, ``repeat`` counts the filler pieces in the occurrence.

    A named tuple, like ``Piece``: a compile makes one for every airing of every station, and a frozen
    dataclass costs four times as much to create.
    """

    start: datetime
    end: datetime
    kind: str  # "item" or "filler"
    item_id: int | None
    placement_id: int | None
    repeat: int
    audio: AudioRef | None
    play_ms: int
    title: str = ""
    item_class: str | None = None


@dataclass(frozen=True, slots=True)
class FilledOccurrence:
    """An occurrence with its entries, the problems found in it, and airings moved out to the next one.

    ``locked`` says the showlock kept its previous content (only emergency items may have changed).
    """

    occurrence: Occurrence
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...] = ()
    carried: tuple[CarriedItem, ...] = ()
    locked: bool = False

    @property
    def key(self) -> str:
        return self.occurrence.key


@dataclass(frozen=True, slots=True)
class DayPlaylist:
    """One station's compiled day; ``carried_over`` feeds the next day's compile (policy "move_next")."""

    station_code: str
    day: date
    zone: str
    occurrences: tuple[FilledOccurrence, ...]
    problems: tuple[Problem, ...] = ()
    carried_over: tuple[CarriedItem, ...] = ()
