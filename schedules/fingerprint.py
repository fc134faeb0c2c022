"""Content fingerprints: a digest that changes exactly when what stations air changes.

Problems, lock flags and carried-over airings are left out: they change reports, not what plays, and a new
playlist version (and ETag) for them would make every station download the same day again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from schedules.playlist import DayPlaylist, Entry


def _entry(entry: Entry) -> dict[str, Any]:
    audio = entry.audio
    return {
        "start": entry.start.isoformat(),
        "end": entry.end.isoformat(),
        "kind": entry.kind,
        "item_id": entry.item_id,
        "placement_id": entry.placement_id,
        "repeat": entry.repeat,
        "title": entry.title,
        "item_class": entry.item_class,
        "play_ms": entry.play_ms,
        "audio": None if audio is None else [audio.sha256, audio.size_bytes, audio.duration_ms],
    }


def canonical_content(playlist: DayPlaylist) -> dict[str, Any]:
    """The part of a day playlist that stations care about, as plain JSON-ready data."""
    return {
        "station": playlist.station_code,
        "day": playlist.day.isoformat(),
        "zone": playlist.zone,
        "occurrences": [
            {
                "key": filled.key,
                "slot_id": filled.occurrence.slot_id,
                "start": filled.occurrence.start.isoformat(),
                "end": filled.occurrence.end.isoformat(),
                "entries": [_entry(entry) for entry in filled.entries],
            }
            for filled in playlist.occurrences
        ],
    }


def fingerprint(playlist: DayPlaylist) -> str:
    """sha256 hex of the canonical JSON of ``canonical_content(playlist)``."""
    return fingerprint_content(canonical_content(playlist))


def fingerprint_content(content: dict[str, Any]) -> str:
    """The fingerprint of content already made by ``canonical_content`` (e.g. shared by equal stations)."""
    return hashlib.sha256(content_text(content).encode("utf-8")).hexdigest()


def content_text(content: dict[str, Any]) -> str:
    """The canonical JSON text of a day's content: sorted keys, no spaces, UTF-8. Its sha256 is the fingerprint."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class SharedContent:
    """A day's canonical content encoded once for a group of stations, then given to each with its own code.

    The code is the only member that differs between the stations of a group. It sorts between "occurrences"
    and "zone", so each station's text is the shared text with ``"station":"<code>",`` spliced in: one
    encoding for the group instead of one per station, yet the same text as ``content_text``.
    """

    __slots__ = ("_head", "_tail")

    def __init__(self, content: dict[str, Any]):
        text = content_text({k: v for k, v in content.items() if k != "station"})
        cut = text.rindex(',"zone":')  # the last member; a quote inside a title is escaped, so this is it
        self._head, self._tail = text[:cut], text[cut:]

    def for_station(self, code: str) -> tuple[str, str]:
        """The station's canonical text and its fingerprint."""
        text = f'{self._head},"station":{json.dumps(code, ensure_ascii=False)}{self._tail}'
        return text, hashlib.sha256(text.encode("utf-8")).hexdigest()
