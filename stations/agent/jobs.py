"""What the playout engine airs: a :class:`Job` (a manifest entry, a ``play_now`` file or a ``play_stream``
relay), the station's :class:`Filler`, and :class:`OnAir`, the playback in progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stations.agent.asrun import iso
from stations.agent.player import Playback
from stations.agent.relay import Relay
from stations.manifest import AudioFile, Entry

# Bitrate floor for guessing how long a play_now file may run (its duration is not sent): the service encodes
# at 64 kbit/s, so at 32 kbit/s the guess is at least twice the real length.
MIN_BITRATE = 32_000


@dataclass(frozen=True)
class Job:
    """Something to air: a manifest entry, a file a ``play_now`` command brought, or a relay (``stream_url``; its
    ``audio`` is then the fallback, if any)."""

    entry_id: str
    occurrence_key: str
    kind: str  # as the event reports it: item, filler, emergency or command
    scheduled_at: datetime
    end: datetime
    audio: AudioFile | None
    play_ms: int
    slot_id: int | None = None
    item_id: int | None = None
    emergency: bool = False
    cut_at: datetime | None = None  # filler entries stop here, however late they started
    exact: bool = True  # play_ms is the real length (False for play_now: only a generous guess)
    stream_url: str | None = None  # a live relay: plays from start to end, the fallback while the stream fails

    @classmethod
    def from_entry(cls, entry: Entry) -> Job:
        emergency = entry.item_class == "emergency"
        relay = entry.stream
        return cls(
            entry_id=entry.id, occurrence_key=entry.occurrence_key,
            kind="emergency" if emergency else entry.kind,
            scheduled_at=entry.start, end=entry.end.astimezone(UTC), audio=entry.file, play_ms=entry.play_ms,
            slot_id=entry.slot_id, item_id=entry.item_id, emergency=emergency,
            # Filler and relays end at their scheduled end, however late they started.
            cut_at=entry.end.astimezone(UTC) if entry.kind == "filler" or relay is not None else None,
            stream_url=relay.url if relay is not None else None,
        )

    @classmethod
    def for_command(cls, command_id: int, audio: AudioFile, issued_at: datetime) -> Job:
        guess_ms = max(1000, audio.size * 8 * 1000 // MIN_BITRATE)
        key = f"command-{command_id}"
        return cls(entry_id=key, occurrence_key=key, kind="command", scheduled_at=issued_at,
                   end=issued_at.astimezone(UTC) + timedelta(milliseconds=guess_ms), audio=audio,
                   play_ms=guess_ms, exact=False)

    @classmethod
    def for_stream_command(cls, command_id: int, url: str, until: datetime, issued_at: datetime) -> Job:
        """A ``play_stream`` command: relay ``url`` from now until ``until`` (the station's filler as fallback)."""
        key = f"command-{command_id}"
        end = until.astimezone(UTC)
        play_ms = max(1, int((end - issued_at.astimezone(UTC)).total_seconds() * 1000))
        return cls(entry_id=key, occurrence_key=key, kind="command", scheduled_at=issued_at, end=end, audio=None,
                   play_ms=play_ms, cut_at=end, stream_url=url)

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
    relay: Relay | None = None  # a live relay's bookkeeping (its handle plays the stream or the fallback)
    fallback: tuple[Path, str] | None = None  # a relay's fallback file and its sha256, when it has one
