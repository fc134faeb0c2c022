"""HTTP pull: what a polling station needs answered without touching the database.

Thousands of stations poll every minute or so and almost every answer is "304 Not Modified". Each web
worker keeps, in memory, which token belongs to which station and each station's current manifest ETag.
Other processes (the scheduler compiling, an editor issuing a token) change the truth in the database; they
then *bump a generation file* in the instance folder, and every worker sees the bump with one ``stat`` and
forgets what it cached. So a poll costs a stat and two dict lookups, and a change is seen at the next poll.

Web nodes that share one database but not an instance folder hear of each bump over Redis (``REDIS_URL``, see
``broadcast.channels.bus``); each worker's watcher (``broadcast.channels.wakeups``) then drops its cache the
same way. A commands bump also wakes the long polls waiting for those commands, on every node.

Last contact is also kept in memory and written in one statement at most every ``flush_every`` seconds per
worker, so "last heard from" stays within that of the truth without a write per poll.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from broadcast.channels import bus

MANIFESTS = "manifests"  # bumped after a compile changed some station's manifest
STATIONS = "stations"  # bumped when a token is issued or a station is switched off
COMMANDS = "commands"  # bumped when a remote command is issued, to wake long-polls


def bump(instance_path: Path, kind: str) -> None:
    """Tell every web worker, of this node and (with Redis) of the others, that ``kind`` changed.

    The generation file is rewritten atomically (write aside, then rename) for this node's caches; a commands
    bump also goes to this node's workers as a message, since their long polls wait for it without looking
    at files; and every bump is published to the other nodes when Redis is configured."""
    folder = instance_path / "generations"
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{kind}.{secrets.token_hex(4)}"
    temporary.write_text(secrets.token_hex(8))
    os.replace(temporary, folder / kind)
    bus.send(instance_path, {"kind": kind}, local=kind == COMMANDS)


@dataclass(frozen=True)
class StationRef:
    id: int
    code: str
    # A replaced token still inside its overlap works until then (broadcast.services.stations.rotate_token).
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Current:
    """A station's current manifest as a poll needs it."""

    version: int
    etag: str  # quoted, as in the ETag header
    audio: frozenset[str]  # the sha256 of every file it names: what this station may download


@dataclass
class _Generation:
    path: Path
    seen: tuple[int, int] | None = None

    def changed(self) -> bool:
        try:
            info = os.stat(self.path)
            now = (info.st_ino, info.st_mtime_ns)
        except FileNotFoundError:
            now = (0, 0)
        if now == self.seen:
            return False
        self.seen = now
        return True


@dataclass
class PullCache:
    """One per web worker process (a fork gets its own copy, which is what we want)."""

    instance_path: Path
    flush_every: timedelta = timedelta(seconds=30)
    _tokens: dict[str, StationRef | None] = field(default_factory=dict)
    _current: dict[int, Current] = field(default_factory=dict)
    _contacts: dict[int, datetime] = field(default_factory=dict)
    _last_flush: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        folder = self.instance_path / "generations"
        self._station_generation = _Generation(folder / STATIONS)
        self._manifest_generation = _Generation(folder / MANIFESTS)

    def station(self, token_digest: str, load: Callable[[str], StationRef | None]) -> StationRef | None:
        """The station holding this token (digest), loaded with ``load`` on a miss; unknown tokens are
        remembered too, so a misconfigured station hammering with a bad token costs no queries either."""
        if self._station_generation.changed():
            self._tokens.clear()
        try:
            return self._tokens[token_digest]
        except KeyError:
            found = self._tokens[token_digest] = load(token_digest)
            if len(self._tokens) > 100_000:  # a flood of random tokens must not grow memory without end
                self._tokens.clear()
            return found

    def current(self, station_id: int) -> Current | None:
        if self._manifest_generation.changed():
            self._current.clear()
        return self._current.get(station_id)

    def drop(self, kind: str) -> None:
        """Forget what is cached of ``kind`` (MANIFESTS or STATIONS): another node bumped it."""
        if kind == MANIFESTS:
            self._current.clear()
        elif kind == STATIONS:
            self._tokens.clear()

    def remember(self, station_id: int, current: Current) -> None:
        self._current[station_id] = current

    def contact(self, station_id: int, now: datetime, flush: Callable[[dict[int, datetime]], None]) -> None:
        """Note that the station was heard from; every ``flush_every`` hand the batch to ``flush``."""
        with self._lock:
            self._contacts[station_id] = now
            if self._last_flush is None:
                self._last_flush = now
                return
            if now - self._last_flush < self.flush_every:
                return
            batch, self._contacts, self._last_flush = self._contacts, {}, now
        flush(batch)

    def pending_contacts(self) -> dict[int, datetime]:
        with self._lock:
            batch, self._contacts = self._contacts, {}
        return batch


def watch_station_changes(sessions, instance_path: Path) -> None:
    """Bump the stations generation after any commit that changed a station's token or switched it on or
    off, whichever code path did it, so a replaced token stops working at the next poll in every worker."""
    from sqlalchemy import event, inspect

    from broadcast.db.models import Station

    def _before_flush(session, _context, _instances) -> None:
        for obj in list(session.dirty) + list(session.deleted):
            if isinstance(obj, Station):
                state = inspect(obj)
                if obj in session.deleted or any(state.attrs[name].history.has_changes() for name in (
                        "token_sha256", "previous_token_sha256", "active", "code")):
                    session.info["stations_changed"] = True

    def _after_commit(session) -> None:
        if session.info.pop("stations_changed", False):
            bump(instance_path, STATIONS)

    def _after_rollback(session) -> None:
        session.info.pop("stations_changed", None)

    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "after_commit", _after_commit)
    event.listen(sessions, "after_rollback", _after_rollback)
