"""Audio references: the content-addressed file a station needs, as the scheduler sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class AudioRef:
    """One rendered audio file: its sha256 (the name in the store), size and exact duration."""

    sha256: str
    size_bytes: int
    duration_ms: int

    def __post_init__(self) -> None:
        if not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"sha256 must be 64 lower-case hex digits, got {self.sha256!r}")
        if self.size_bytes < 0 or self.duration_ms < 0:
            raise ValueError("size_bytes and duration_ms cannot be negative")


@dataclass(frozen=True, slots=True)
class StreamRef:
    """A live relay (Icecast/HTTP MP3 or HLS) aired for ``duration_ms``, its window, instead of a file.

    It stands where an :class:`AudioRef` stands (a placement's or an entry's ``audio``), so a relay is laid
    out and fitted like any item. ``fallback`` is the slot's filler, which a station loops while the stream
    fails; the compile sets it when it lays the relay into a slot.
    """

    url: str
    duration_ms: int
    fallback: AudioRef | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(("http://", "https://")):
            raise ValueError(f"a stream URL is http:// or https://, got {self.url!r}")
        if self.duration_ms < 1:
            raise ValueError("a relay window lasts at least 1 ms")

    def with_fallback(self, fallback: AudioRef | None) -> StreamRef:
        return self if fallback == self.fallback else StreamRef(self.url, self.duration_ms, fallback)
