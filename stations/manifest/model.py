"""The manifest's value types: audio files, entries, days and the manifest itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

SCHEMA_ID = "commune-radio/manifest/1"

Kind = Literal["item", "filler", "stream"]
ItemClass = Literal["normal", "priority", "emergency"]
KINDS: tuple[str, ...] = ("item", "filler", "stream")
ITEM_CLASSES: tuple[str, ...] = ("normal", "priority", "emergency")


class ManifestError(ValueError):
    """A manifest that breaks the format; ``field`` names where, e.g. ``days[0].entries[2].end``."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class AudioFile:
    """One content-addressed audio file: the station fetches it once and checks it by sha256 and size.

    ``url`` is a URI reference resolved against the manifest's own location: ``/api/v1/audio/<sha256>`` for
    stations that pull over HTTP, ``audio/<sha256>.mp3`` beside the manifest for stations pushed over SFTP.
    """

    sha256: str
    size: int
    duration_ms: int
    url: str


@dataclass(frozen=True, slots=True)
class Stream:
    """A live relay: the station plays ``url`` (Icecast/HTTP MP3 or HLS ``.m3u8``) for the entry's window.

    ``fallback`` is the slot's filler file (None when the slot has none), which the station loops while the
    stream fails to start or drops; it is delivered like any audio.
    """

    url: str
    fallback: AudioFile | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing to air: the audio to play from ``start`` for ``play_ms`` (``end`` = ``start`` + ``play_ms``).

    ``play_ms`` is below the file's duration only for a filler cut to close a slot on time.
    ``slot_id`` is None only for an emergency aired outside any slot.
    An entry of kind ``stream`` has ``stream`` and no ``audio``: it relays for its whole window.
    """

    id: str
    start: datetime
    end: datetime
    kind: Kind
    item_id: int | None
    title: str
    item_class: ItemClass
    audio: AudioFile | None
    play_ms: int
    slot_id: int | None
    occurrence_key: str
    stream: Stream | None = None

    @property
    def file(self) -> AudioFile | None:
        """The file a station needs for this entry: its audio, or a relay's fallback (None if it has none)."""
        if self.audio is not None:
            return self.audio
        return self.stream.fallback if self.stream is not None else None


@dataclass(frozen=True, slots=True)
class Day:
    """A station's whole schedule for one local date; ``version`` rises only when these entries change.

    A day with no entries means "nothing airs", which differs from a day absent from the manifest.
    """

    date: date
    version: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class Manifest:
    """The full state of a station's upcoming days, as sent to it (never a diff).

    ``version`` rises only when the content changes; ``etag`` is derived from the content
    (see :func:`stations.manifest.content_etag`), so it ignores ``generated_at``.
    """

    station: str
    timezone: str
    generated_at: datetime
    days: tuple[Day, ...]
    version: int
    etag: str
    # The checked canonical JSON of ``days``, kept by build_manifest and from_json so that to_json need not
    # check and encode again. Not copied by dataclasses.replace, so a changed manifest is always checked anew.
    _days_json: str | None = field(default=None, init=False, repr=False, compare=False)
