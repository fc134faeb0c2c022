"""Clocks for the playout engine: the system's, and a manual one that lets tests run a day in a second.

The engine never calls ``datetime.now()``: it asks its clock for the time (aware, UTC) and asks it to wait until
a moment or until something wakes it (a player ended, a new manifest, a command).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

# A station box without a battery-backed clock may boot in 1970 and jump to the real time when NTP answers.
# Waiting in short steps against the wall clock notices such a jump within this many seconds.
MAX_WAIT_S = 1.0


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""

    def wait(self, until: datetime, wake: threading.Event) -> None:
        """Return at ``until``, when ``wake`` is set, or earlier (callers look at the time again)."""


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, until: datetime, wake: threading.Event) -> None:
        remaining = (until - self.now()).total_seconds()
        if remaining > 0:
            wake.wait(min(remaining, MAX_WAIT_S))


class ManualClock:
    """A clock that moves only when told, or when the engine waits: waiting jumps straight to the moment.

    ``call_at`` schedules a callback at a simulated moment (a fake player uses it to end a playback); a wait
    that reaches it runs it, which may set the wake event and so end the wait early. Single-threaded.
    """

    def __init__(self, start: datetime):
        if start.utcoffset() is None:
            raise ValueError("start must be an aware datetime")
        self._now = start.astimezone(UTC)
        self._alarms: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def call_at(self, moment: datetime, callback: Callable[[], None]) -> None:
        heapq.heappush(self._alarms, (moment.astimezone(UTC), next(self._seq), callback))

    def wait(self, until: datetime, wake: threading.Event) -> None:
        until = until.astimezone(UTC)
        while not wake.is_set():
            if self._alarms and self._alarms[0][0] <= until:
                moment, _, callback = heapq.heappop(self._alarms)
                self._now = max(self._now, moment)
                callback()
            else:
                self._now = max(self._now, until)
                return

    def advance(self, seconds: float) -> None:
        """Move time on, running the callbacks due meanwhile."""
        self.wait(self._now + timedelta(seconds=seconds), threading.Event())
