"""Content fingerprints: a digest that changes exactly when what stations air changes.

Problems, lock flags and carried-over airings are left out: they change reports, not what plays, and a new
playlist version (and ETag) for them would make every station download the same day again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from schedules.media import StreamRef
from schedules.playlist import DayPlaylist, Entry


def audio_json(audio) -> list | dict | None:
    """An entry's ``audio`` as stored: [sha256, size, duration] for a file; for a relay an object with the stream
    URL, its window and the fallback filler (the key "stream" tells the two apart)."""
    if audio is None:
        return None
    if isinstance(audio, StreamRef):
        fallback = audio.fallback
        return {"stream": audio.url, "duration_ms": audio.duration_ms,
                "fallback": None if fallback is None else [fallback.sha256, fallback.size_bytes, fallback.duration_ms]}
    return [audio.sha256, audio.size_bytes, audio.duration_ms]


def _entry(entry: Entry) -> dict[str, Any]:
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
        "audio": audio_json(entry.audio),
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
    return hashlib.sha256(playlist_text(playlist).encode("utf-8")).hexdigest()


def playlist_text(playlist: DayPlaylist) -> str:
    """``content_text(canonical_content(playlist))``, the same text to the byte.

    A compile writes this for every station and day, so it is written by orjson from the playlist, a fifth of
    the time of building the content and encoding it with json; json writes what orjson would write otherwise.
    The tests compare the two on hostile text, daylight saving and odd values.
    """
    head, tail = _playlist_parts(playlist)
    return f'{head},"station":{json.dumps(playlist.station_code, ensure_ascii=False)}{tail}'


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
        cut = text.rindex(',"zone":')  # the last member: a quote inside a title is escaped
        self._head, self._tail = text[:cut], text[cut:]

    @classmethod
    def of(cls, playlist: DayPlaylist) -> SharedContent:
        """The shared text of a compiled day (see ``playlist_text``), without building its content first."""
        shared = cls.__new__(cls)
        shared._head, shared._tail = _playlist_parts(playlist)
        return shared

    def for_station(self, code: str) -> tuple[str, str]:
        """The station's canonical text and its fingerprint."""
        text = f'{self._head},"station":{json.dumps(code, ensure_ascii=False)}{self._tail}'
        return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _playlist_parts(playlist: DayPlaylist) -> tuple[str, str]:
    """The text before and after the "station" member, which sorts between "occurrences" and "zone"."""
    text = None
    if _whole_minute_offsets(playlist.zone, playlist.day):
        try:
            text = orjson.dumps(_content_without_station(playlist), option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # what orjson refuses (a lone surrogate, an integer beyond 64 bits) json writes
            pass
    if text is None:
        text = content_text({k: v for k, v in canonical_content(playlist).items() if k != "station"})
    cut = text.rindex(',"zone":')  # the last member; a quote inside a title is escaped, so this is it
    return text[:cut], text[cut:]


def _content_without_station(playlist: DayPlaylist) -> dict[str, Any]:
    """``canonical_content`` less the station, with dates and times as objects: orjson writes them as
    isoformat() does (checked by _whole_minute_offsets for the offsets)."""
    return {
        "day": playlist.day,
        "zone": playlist.zone,
        "occurrences": [
            {
                "key": filled.key,
                "slot_id": filled.occurrence.slot_id,
                "start": filled.occurrence.start,
                "end": filled.occurrence.end,
                "entries": [
                    {"start": e.start, "end": e.end, "kind": e.kind, "item_id": e.item_id,
                     "placement_id": e.placement_id, "repeat": e.repeat, "title": e.title,
                     "item_class": e.item_class, "play_ms": e.play_ms,
                     "audio": audio_json(e.audio)}
                    for e in filled.entries
                ],
            }
            for filled in playlist.occurrences
        ],
    }


@functools.lru_cache(maxsize=4096)
def _whole_minute_offsets(zone: str, day: date) -> bool:
    """Whether the zone's UTC offsets around ``day`` are whole minutes (all of them since 1972).

    orjson writes an offset such as +07:06:30 (Saigon before 1906) rounded to minutes, where isoformat()
    writes the seconds; such days are written by json instead.
    """
    try:
        tz = ZoneInfo(zone)
    except (ValueError, KeyError):
        return False
    moments = (datetime.combine(day + timedelta(days=n), time(hour), tz) for n in (-1, 0, 1, 2) for hour in (0, 12))
    return all(moment.utcoffset() % timedelta(minutes=1) == timedelta(0) for moment in moments)
