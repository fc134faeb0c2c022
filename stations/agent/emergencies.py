"""Emergency broadcasts the service sends as commands: when each airing is due, and remembering them.

An ``emergency`` command's ``args`` (the service's wire format)::

    {"broadcast": 7, "title": "...", "risk_level": 4, "item_id": 12, "sha256": "...", "url": "/api/v1/audio/...",
     "size": 123456, "duration_ms": 61000, "repeat": 3, "interval_s": 600, "expires_at": "2026-11-28T18:00:00+07:00"}

The first airing is due when the agent receives it, the next ones ``interval_s`` apart, none after
``expires_at``: an agent that hears late (it was offline) still airs the whole series if there is time. Each
airing is the job ``emergency-<broadcast>-<n>`` (occurrence ``emergency-<broadcast>``), so the as-run log tells
the service which airings of which broadcast aired. A broadcast is kept in the agent's SQLite file until it
expires, so a restart neither loses the remaining airings nor airs one twice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from stations.agent.jobs import Job
from stations.manifest import AudioFile

STATE_KEY = "emergencies"
# An airing that could not start on time (another emergency was on air) may start this much later.
LATE_GRACE = timedelta(minutes=5)
MAX_REPEAT = 50
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Broadcast:
    id: int
    title: str
    risk_level: int
    item_id: int | None
    audio: AudioFile
    starts: tuple[datetime, ...]  # when each airing is due (UTC)
    expires_at: datetime

    def jobs(self, zone: tzinfo | None = None) -> list[Job]:
        return [Job.for_broadcast(self.id, n, start.astimezone(zone or UTC), self._end(start), self.audio,
                                  self.item_id)
                for n, start in enumerate(self.starts)]

    def _end(self, start: datetime) -> datetime:
        return min(self.expires_at, start + timedelta(milliseconds=self.audio.duration_ms) + LATE_GRACE)

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "risk_level": self.risk_level, "item_id": self.item_id,
                "sha256": self.audio.sha256, "size": self.audio.size, "duration_ms": self.audio.duration_ms,
                "url": self.audio.url, "starts": [s.isoformat() for s in self.starts],
                "expires_at": self.expires_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> Broadcast:
        return cls(id=data["id"], title=data["title"], risk_level=data["risk_level"], item_id=data.get("item_id"),
                   audio=AudioFile(data["sha256"], data["size"], data["duration_ms"], data["url"]),
                   starts=tuple(datetime.fromisoformat(s) for s in data["starts"]),
                   expires_at=datetime.fromisoformat(data["expires_at"]))


def _int(args: dict, key: str, low: int, high: int | None = None) -> int:
    value = args.get(key)
    if type(value) is not int or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{key} must be a whole number {bounds}, not {value!r}")
    return value


def parse_broadcast(args: dict, received_at: datetime) -> Broadcast:
    """Read an ``emergency`` command's args; raises ValueError saying what is wrong."""
    broadcast_id = _int(args, "broadcast", 1)
    sha = args.get("sha256")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise ValueError(f"sha256 must be 64 lowercase hex digits, not {sha!r}")
    size, duration_ms = _int(args, "size", 1), _int(args, "duration_ms", 1)
    repeat, interval_s = _int(args, "repeat", 1, MAX_REPEAT), _int(args, "interval_s", 0)
    risk_level = _int(args, "risk_level", 1, 5)
    try:
        expires_at = datetime.fromisoformat(str(args.get("expires_at")))
    except ValueError:
        raise ValueError(f"expires_at {args.get('expires_at')!r} is not an ISO 8601 time") from None
    if expires_at.utcoffset() is None:
        raise ValueError("expires_at must carry its offset")
    expires_at = expires_at.astimezone(UTC)
    first = received_at.astimezone(UTC)
    starts = tuple(s for s in (first + timedelta(seconds=interval_s * n) for n in range(repeat)) if s < expires_at)
    url = args.get("url") if isinstance(args.get("url"), str) and args.get("url") else f"/api/v1/audio/{sha}"
    item_id = args.get("item_id") if type(args.get("item_id")) is int else None
    return Broadcast(id=broadcast_id, title=str(args.get("title") or ""), risk_level=risk_level, item_id=item_id,
                     audio=AudioFile(sha, size, duration_ms, url), starts=starts, expires_at=expires_at)


@dataclass
class Book:
    """The broadcasts the agent holds (until they expire) and the ids it was told to cancel."""

    active: dict[int, Broadcast]
    cancelled: set[int]

    @classmethod
    def load(cls, text: str | None, now: datetime) -> Book:
        if not text:
            return cls({}, set())
        data = json.loads(text)
        active = {b.id: b for b in map(Broadcast.from_json, data.get("active", [])) if b.expires_at > now}
        return cls(active, set(data.get("cancelled", [])))

    def dump(self, now: datetime) -> str:
        live = [b.to_json() for b in self.active.values() if b.expires_at > now]
        # Cancelled ids are few and small; the newest hundred are enough to refuse a late duplicate.
        return json.dumps({"active": live, "cancelled": sorted(self.cancelled)[-100:]})
