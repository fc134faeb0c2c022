"""The one error the audio pipeline raises for input it cannot use."""

from __future__ import annotations

from typing import Any

#: Every reason InvalidAudio can carry; the web layer translates by these names.
REASONS = frozenset(
    {
        "empty",  # zero bytes
        "too_large",  # more bytes than allowed; decided before any tool runs
        "not_audio",  # ffprobe finds no audio stream, or cannot read the file at all
        "truncated",  # decodes to clearly less than the container claims: cut off mid-file
        "corrupt",  # the decoder reports errors although the length is plausible
        "too_long",
        "too_short",
        "silent",  # nothing above the silence threshold, so there is nothing to air
    }
)


class InvalidAudio(Exception):
    """Audio that cannot be accepted; `reason` is machine-readable, the message is English for logs."""

    def __init__(self, reason: str, message: str, **details: Any) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown InvalidAudio reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.details: dict[str, Any] = details

    def __repr__(self) -> str:
        return f"InvalidAudio({self.reason!r}, {str(self)!r}, details={self.details!r})"
