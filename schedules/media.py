"""Audio references: the content-addressed file a station needs, as the scheduler sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AudioRef:
    """One rendered audio file: its sha256 (the name in the store), size and exact duration."""

    sha256: str
    size_bytes: int
    duration_ms: int

    def __post_init__(self) -> None:
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise ValueError(f"sha256 must be 64 lower-case hex digits, got {self.sha256!r}")
        if self.size_bytes < 0 or self.duration_ms < 0:
            raise ValueError("size_bytes and duration_ms cannot be negative")
