"""Questions a station asks of its manifest: which audio it needs, and what is still to play."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .model import AudioFile, Entry, Manifest


def upcoming(manifest: Manifest, now: datetime) -> list[Entry]:
    """Return the entries not yet over at ``now`` (aware), in start order: one playing now comes first."""
    # In UTC: Python compares two times of one zone by wall clock, which is wrong in a repeated DST hour.
    now = now.astimezone(UTC)
    return [entry for day in manifest.days for entry in day.entries if entry.end.astimezone(UTC) > now]


def audio_files(manifest: Manifest, now: datetime | None = None) -> list[AudioFile]:
    """Return each audio file the manifest uses, once, in order of first use.

    With ``now``, only the files of entries not yet over: a station keeps these and may delete the rest.
    """
    entries = upcoming(manifest, now) if now is not None else [e for day in manifest.days for e in day.entries]
    files: dict[str, AudioFile] = {}
    for entry in entries:
        file = entry.file  # a relay's fallback filler is delivered too
        if file is not None:
            files.setdefault(file.sha256, file)
    return list(files.values())


def entry_audio(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The audio objects one entry of a manifest's JSON names (itself, not copies): its ``audio``, or a relay's
    ``stream.fallback``; empty for a relay without one. For code that reads the JSON without ``from_json``."""
    audio = raw.get("audio")
    if audio is None:
        audio = (raw.get("stream") or {}).get("fallback")
    return [] if audio is None else [audio]
