"""What the playout engine airs: a :class:`Job` (a manifest entry or a ``play_now`` file), the station's
:class:`Filler`, and :class:`OnAir`, the playback in progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stations.agent.asrun import iso
from stations.agent.player import Playback
from stations.manifest import AudioFile, Entry

# Bitrate floor for guessing how long a play_now file may run (its duration is not sent): the service encodes
# at 64 kbit/s, so at 32 kbit/s the guess is at least twice the real length.
MIN_BITRATE = 32_000


@dataclass(frozen=True)
class Job:
    """Something to air: a manifest entry, or a file a ``play_now`` command brought."""

    entry_id: str
    occurrence_key: str
    kind: str  # as the event reports it: item, filler, emergency or command
    scheduled_at: datetime
    end: datetime
    audio: AudioFile
    play_ms: int
    slot_id: int | None = None
    item_id: int | None = None
    emergency: bool = False
    cut_at: datetime | None = None  # filler entries stop here, however late they started
    exact: bool = True  # play_ms is the real length (False for play_now: only a generous guess)

    @classmethod
    def from_entry(cls, entry: Entry) -> Job:
        emergency = entry.item_class == "emergency"
        return cls(
            entry_id=entry.id, occurrence_key=entry.occurrence_key,
            kind="emergency" if emergency else entry.kind,
            scheduled_at=entry.start, end=entry.end.astimezone(UTC), audio=entry.audio, play_ms=entry.play_ms,
            slot_id=entry.slot_id, item_id=entry.item_id, emergency=emergency,
            cut_at=entry.end.astimezone(UTC) if entry.kind == "filler" else None,
        )

    @classmethod
    def for_command(cls, command_id: int, audio: AudioFile, issued_at: datetime) -> Job:
        guess_ms = max(1000, audio.size * 8 * 1000 // MIN_BITRATE)
        key = f"command-{command_id}"
        return cls(entry_id=key, occurrence_key=key, kind="command", scheduled_at=issued_at,
                   end=issued_at.astimezone(UTC) + timedelta(milliseconds=guess_ms), audio=audio,
                   play_ms=guess_ms, exact=False)

    @classmethod
    def for_broadcast(cls, broadcast_id: int, number: int, start: datetime, end: datetime, audio: AudioFile,
                      item_id: int | None) -> Job:
        """Airing ``number`` (from 0) of an emergency broadcast a command brought."""
        return cls(entry_id=f"emergency-{broadcast_id}-{number}", occurrence_key=f"emergency-{broadcast_id}",
                   kind="emergency", scheduled_at=start, end=end.astimezone(UTC), audio=audio,
                   play_ms=audio.duration_ms, item_id=item_id, emergency=True)

    @property
    def broadcast_id(self) -> int | None:
        """The emergency broadcast this airing belongs to, if it came by command."""
        if self.kind == "emergency" and self.occurrence_key.startswith("emergency-"):
            return int(self.occurrence_key.removeprefix("emergency-"))
        return None

    @property
    def start(self) -> datetime:
        return self.scheduled_at.astimezone(UTC)

    @property
    def key(self) -> tuple[str, str]:
        return self.entry_id, iso(self.scheduled_at)


@dataclass(frozen=True)
class Filler:
    """The station's own filler file, checked when the agent starts."""

    path: Path
    sha256: str
    size: int


@dataclass
class OnAir:
    job: Job
    handle: Playback
    audio_sha256: str
    first_started_at: datetime  # when this job began airing (the event's started_at)
    started_at: datetime  # when the current player process began (a looped filler starts several)
    offset_s: float  # where in the file the current process began
    stop_at: datetime | None  # reaching it ends the playback as played (cut filler, substitute, filler entry)
    timeout_at: datetime
    expected_s: float | None  # how long the current process should run; None: unknown
    substitute: str | None = None  # why the filler stands in for the job's audio
    played_s: float = 0.0  # seconds aired by earlier processes of a looped filler
