"""The as-run log (what aired, what was skipped, what failed) and the agent's small persistent state, in SQLite.

Each event gets its id (uuid4 hex) when it is recorded and keeps it through every delivery attempt; it is
marked delivered only after the server answered 200, so sending a batch again after a broken link is harmless
(the server ignores ids it knows). The file is ``<cache_dir>/asrun.sqlite3``; it survives crashes and reboots.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

OUTCOMES = ("played", "skipped", "failed")
EVENT_KINDS = ("item", "filler", "emergency", "command", "stream")
BATCH = 200  # events per request, the server's limit
KEEP_DELIVERED_S = 30 * 24 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    recorded_at REAL NOT NULL,
    entry_id TEXT NOT NULL,
    scheduled_at TEXT NOT NULL,
    body TEXT NOT NULL,
    delivered_at REAL,
    rejected TEXT  -- why the server refused it for good (it is then not sent again)
);
CREATE INDEX IF NOT EXISTS events_pending ON events (recorded_at) WHERE delivered_at IS NULL;
CREATE INDEX IF NOT EXISTS events_entry ON events (entry_id, scheduled_at);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY,
    ok INTEGER NOT NULL,
    detail TEXT NOT NULL,
    handled_at REAL NOT NULL,
    acked INTEGER NOT NULL DEFAULT 0
);
"""


def iso(moment: datetime) -> str:
    """ISO 8601 with the offset, milliseconds only when there are any (as the manifest writes times)."""
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")


@dataclass(frozen=True)
class AsRunEvent:
    """One line of the as-run log, as the events endpoint takes it."""

    outcome: str
    entry_id: str
    occurrence_key: str
    kind: str
    scheduled_at: datetime
    slot_id: int | None = None
    item_id: int | None = None
    audio_sha256: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    seconds_played: float = 0.0
    reason: str | None = None
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {OUTCOMES}")
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {EVENT_KINDS}")

    def to_wire(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "outcome": self.outcome,
            "entry_id": self.entry_id,
            "occurrence_key": self.occurrence_key,
            "slot_id": self.slot_id,
            "item_id": self.item_id,
            "audio_sha256": self.audio_sha256,
            "kind": self.kind,
            "scheduled_at": iso(self.scheduled_at),
            "started_at": iso(self.started_at) if self.started_at else None,
            "ended_at": iso(self.ended_at) if self.ended_at else None,
            "seconds_played": round(self.seconds_played, 3),
            "reason": self.reason,
        }


class AsRunLog:
    """The SQLite file; safe to share between the agent's threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- events --------------------------------------------------------------------------------------------

    def record(self, event: AsRunEvent, *, now: float | None = None) -> None:
        body = event.to_wire()
        with self._lock:
            self._db.execute("INSERT INTO events (event_id, recorded_at, entry_id, scheduled_at, body) "
                             "VALUES (?, ?, ?, ?, ?)",
                             (event.event_id, time.time() if now is None else now, event.entry_id,
                              body["scheduled_at"], json.dumps(body, ensure_ascii=False)))

    def pending(self, limit: int = BATCH) -> list[dict[str, Any]]:
        """The oldest undelivered events, at most ``limit``, as the wire shows them."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM events WHERE delivered_at IS NULL "
                                    "ORDER BY recorded_at, rowid LIMIT ?", (limit,)).fetchall()
        return [json.loads(body) for (body,) in rows]

    def mark_delivered(self, event_ids: list[str], *, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self._db.executemany("UPDATE events SET delivered_at = ? WHERE event_id = ?",
                                 [(now, event_id) for event_id in event_ids])

    def mark_rejected(self, event_id: str, why: str, *, now: float | None = None) -> None:
        """The server refused this event for good (400/422): keep it, with why, but stop sending it."""
        with self._lock:
            self._db.execute("UPDATE events SET delivered_at = ?, rejected = ? WHERE event_id = ?",
                             (time.time() if now is None else now, why, event_id))

    def rejected(self) -> list[tuple[str, str]]:
        with self._lock:
            return self._db.execute("SELECT event_id, rejected FROM events WHERE rejected IS NOT NULL "
                                    "ORDER BY recorded_at").fetchall()

    def pending_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM events WHERE delivered_at IS NULL").fetchone()[0]

    def all_events(self) -> list[dict[str, Any]]:
        """Every event kept, oldest first (for operators and tests)."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM events ORDER BY recorded_at, rowid").fetchall()
        return [json.loads(body) for (body,) in rows]

    def handled_entries(self) -> set[tuple[str, str]]:
        """(entry id, scheduled_at) of every entry that has an event: they are not aired again after a restart."""
        with self._lock:
            return set(self._db.execute("SELECT entry_id, scheduled_at FROM events").fetchall())

    def prune(self, *, older_than_s: float = KEEP_DELIVERED_S, now: float | None = None) -> int:
        """Forget delivered events older than ``older_than_s``; undelivered ones are kept whatever their age."""
        cutoff = (time.time() if now is None else now) - older_than_s
        with self._lock:
            return self._db.execute("DELETE FROM events WHERE delivered_at IS NOT NULL AND recorded_at < ?",
                                    (cutoff,)).rowcount

    # -- state ---------------------------------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO state (key, value) VALUES (?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # -- remote commands -----------------------------------------------------------------------------------

    def command_result(self, command_id: int) -> tuple[bool, str] | None:
        """How a command was handled, if it was: a command that comes again is acknowledged, not run again."""
        with self._lock:
            row = self._db.execute("SELECT ok, detail FROM commands WHERE id = ?", (command_id,)).fetchone()
        return (bool(row[0]), row[1]) if row else None

    def save_command(self, command_id: int, ok: bool, detail: str, *, now: float | None = None) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO commands (id, ok, detail, handled_at, acked) VALUES (?,?,?,?,0)",
                             (command_id, int(ok), detail, time.time() if now is None else now))

    def mark_acked(self, command_id: int) -> None:
        with self._lock:
            self._db.execute("UPDATE commands SET acked = 1 WHERE id = ?", (command_id,))

    def unacked_commands(self) -> list[tuple[int, bool, str]]:
        with self._lock:
            rows = self._db.execute("SELECT id, ok, detail FROM commands WHERE acked = 0 ORDER BY id").fetchall()
        return [(command_id, bool(ok), detail) for command_id, ok, detail in rows]
