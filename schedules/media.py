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
