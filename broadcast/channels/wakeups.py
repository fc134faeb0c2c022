"""Long polls that wait without holding a thread, and the one watcher per worker process that wakes them.

An agent's ``GET /api/v1/stations/<code>/commands?wait=25`` registers a :class:`Waiter` and sleeps on it:
under gunicorn's gevent workers that is a parked greenlet, not a thread. A waiter ends when

- a command for its station arrives (the :class:`Watcher` heard a bump and found, with one query for all the
  waiters of the process, which stations have commands waiting: only those are woken);
- the same station polls again, in this worker or any other (a claim on the bus): the older poll answers at
  once with nothing, so a station never has two polls and a command never goes to a connection left behind;
- the client goes away (its socket reads EOF): the poll is dropped at once, not served to nobody later;
- the worker shuts down, or the wait runs out.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import select
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from broadcast.channels import bus

log = logging.getLogger(__name__)

COMMAND = "command"  # a command for the station may be waiting: look
TIMEOUT = "timeout"
SUPERSEDED = "superseded"  # the station polled again
GONE = "gone"  # the client closed its connection
CLOSING = "closing"  # the worker is shutting down
_FINAL = (SUPERSEDED, GONE, CLOSING)
SWEEP_S = 10.0  # how often a worker looks for commands its waiters may have missed (a lost message)
_THREAD_CHECK_S = 1.0  # without gevent, how often a waiting thread looks at its client's socket


def on_gevent() -> bool:
    """Whether this process runs on gevent's monkey-patched sockets (gunicorn's gevent worker)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("socket")


class Waiter:
    """One station's long poll, waiting in this process."""

    def __init__(self, station_id: int):
        self.station_id = station_id
        self.claim = (time.time(), secrets.token_hex(6))  # orders polls of one station across workers and nodes
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._readable = False

    def end(self, reason: str) -> None:
        with self._lock:
            if self._reason in _FINAL:
                return
            self._reason = reason
        self._event.set()

    def wait(self, timeout_s: float, sock: socket.socket | None = None) -> str:
        """Sleep until ended or ``timeout_s`` passes; returns why. A COMMAND wake-up is taken: the next
        ``wait`` sleeps again until the next one."""
        deadline = time.monotonic() + timeout_s
        watcher = _watch_socket(sock, self._on_readable) if sock is not None and on_gevent() else None
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return TIMEOUT
                slice_s = remaining if watcher is not None or sock is None else min(remaining, _THREAD_CHECK_S)
                woke = self._event.wait(slice_s)
                if self._readable or (not woke and sock is not None and watcher is None):
                    self._readable = False
                    if _peer_gone(sock):
                        return GONE
                if not woke:
                    continue
                with self._lock:
                    reason, self._reason = self._reason, (self._reason if self._reason in _FINAL else None)
                    if reason not in _FINAL:
                        self._event.clear()
                if reason is not None:
                    return reason
        finally:
            if watcher is not None:
                watcher.stop()
                watcher.close()

    def _on_readable(self) -> None:
        """The client's socket became readable while we wait: it closed, or (rarely) sent more bytes."""
        self._readable = True
        self._event.set()


def _watch_socket(sock: socket.socket, callback: Callable[[], None]):
    """A gevent watcher calling ``callback`` once when ``sock`` becomes readable (no thread, no polling)."""
    from gevent import get_hub

    try:
        watcher = get_hub().loop.io(sock.fileno(), 1)
    except (OSError, ValueError):
        return None

    def fired() -> None:
        watcher.stop()  # level-triggered: a closed socket stays readable
        callback()

    watcher.start(fired)
    return watcher


def _peer_gone(sock: socket.socket | None) -> bool:
    """Whether the client closed its end (EOF or reset); bytes it sent are left for the server to read."""
    if sock is None:
        return False
    try:
        # poll, not select: select refuses descriptors above 1,023, and a worker holds thousands. The original
        # poll even under gevent: this must not wait, only look.
        poller = _original_poll()()
        poller.register(sock.fileno(), select.POLLIN)
        return bool(poller.poll(0)) and sock.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionError, TimeoutError):
        return True
    except (OSError, ValueError):  # a TLS socket takes no flags: we cannot tell, so keep the poll
        return False


def _original_poll():
    monkey = sys.modules.get("gevent.monkey")
    return monkey.get_original("select", "poll") if monkey is not None else select.poll


_all_polls: weakref.WeakSet[LongPolls] = weakref.WeakSet()


class LongPolls:
    """The long polls waiting in this worker process: at most one per station."""

    def __init__(self, announce: Callable[[Waiter], None] = lambda waiter: None):
        self._announce = announce
        self._waiting: dict[int, Waiter] = {}
        self._lock = threading.Lock()
        _all_polls.add(self)

    def enter(self, station_id: int) -> Waiter:
        """A new poll of ``station_id``: the older one, here or in another worker, ends with nothing."""
        waiter = Waiter(station_id)
        with self._lock:
            older, self._waiting[station_id] = self._waiting.get(station_id), waiter
        if older is not None:
            older.end(SUPERSEDED)
        self._announce(waiter)
        return waiter

    def leave(self, waiter: Waiter) -> None:
        with self._lock:
            if self._waiting.get(waiter.station_id) is waiter:
                del self._waiting[waiter.station_id]

    def claimed(self, station_id: int, claim: tuple[float, str]) -> None:
        """Another worker took a newer poll of ``station_id``."""
        waiter = self._waiting.get(station_id)
        if waiter is not None and waiter.claim < claim:
            waiter.end(SUPERSEDED)

    def wake(self, station_ids: Iterable[int]) -> None:
        for station_id in station_ids:
            waiter = self._waiting.get(station_id)
            if waiter is not None:
                waiter.end(COMMAND)

    def station_ids(self) -> list[int]:
        with self._lock:
            return list(self._waiting)

    def count(self) -> int:
        return len(self._waiting)

    def end_all(self, reason: str = CLOSING) -> None:
        with self._lock:
            waiters = list(self._waiting.values())
        for waiter in waiters:
            waiter.end(reason)


def end_all_waiting() -> None:
    """The worker is stopping: answer every waiting poll now, so agents poll again elsewhere at once."""
    for polls in list(_all_polls):
        polls.end_all(CLOSING)


class Watcher:
    """One per worker process: hears this node's messages (and, with Redis, the other nodes') and acts on them.

    ``pending(station_ids)`` returns those of the given stations that have commands waiting (one query);
    ``drop(kind)`` drops the worker's cache of that kind (a bump from another node)."""

    def __init__(self, instance_path: Path, polls: LongPolls, pending: Callable[[list[int]], set[int]],
                 drop: Callable[[str], None], commands_kind: str, cache_kinds: tuple[str, ...]):
        self.instance_path = instance_path
        self.polls = polls
        self._pending = pending
        self._drop = drop
        self._commands_kind = commands_kind
        self._cache_kinds = cache_kinds
        self._stop = threading.Event()
        self._inbox: bus.Inbox | None = None

    def start(self) -> None:
        try:
            self._inbox = bus.Inbox(self.instance_path)
        except OSError as exc:  # e.g. no abstract sockets outside Linux: wake-ups come with the sweeps only
            log.warning("no wake-up socket for this worker (%s): long polls see commands within %.0f s",
                        exc, SWEEP_S)
        self._thread("wakeups", self._local)
        found = bus.remote(self.instance_path)
        if found is not None:
            self._thread("wakeups-redis", lambda: bus.listen(found, self.handle_all_safely, self._stop))

    def stop(self) -> None:
        self._stop.set()
        if self._inbox is not None:
            self._inbox.close()

    def _thread(self, name: str, target: Callable[[], None]) -> None:
        threading.Thread(target=target, name=name, daemon=True).start()

    def _local(self) -> None:
        next_sweep = time.monotonic() + SWEEP_S
        while not self._stop.is_set():
            wait_s = max(0.01, next_sweep - time.monotonic())
            if self._inbox is None:
                self._stop.wait(wait_s)
                messages: list[dict[str, Any]] = []
            else:
                try:
                    messages = self._inbox.receive(wait_s)
                except OSError:
                    if self._stop.is_set():
                        return
                    log.exception("wake-up socket failed")
                    self._stop.wait(1.0)
                    messages = []
            if time.monotonic() >= next_sweep:
                messages.append({"kind": self._commands_kind})
                next_sweep = time.monotonic() + SWEEP_S
            self.handle_all_safely(*messages)

    def handle_all_safely(self, *messages: dict[str, Any]) -> None:
        try:
            self.handle(messages)
        except Exception:  # noqa: BLE001 - the watcher must outlive any one bad message or failed query
            log.exception("handling wake-ups failed")

    def handle(self, messages: Iterable[dict[str, Any]]) -> None:
        """Act once on a batch: one query however many command bumps it holds."""
        kinds: set[str] = set()
        for message in messages:
            kind = message.get("kind")
            if kind == bus.POLL:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    self.polls.claimed(int(message["station"]), (float(message["at"]), str(message["token"])))
            elif isinstance(kind, str):
                kinds.add(kind)
        for kind in self._cache_kinds:
            if kind in kinds or bus.RESYNC in kinds:
                self._drop(kind)
        if self._commands_kind in kinds or bus.RESYNC in kinds:
            waiting = self.polls.station_ids()
            if waiting:
                self.polls.wake(self._pending(waiting))


def announcer(instance_path: Path) -> Callable[[Waiter], None]:
    """What a new poll tells the other workers and nodes (so their older poll of the station ends)."""

    def announce(waiter: Waiter) -> None:
        at, token = waiter.claim
        bus.send(instance_path, {"kind": bus.POLL, "station": waiter.station_id, "at": at, "token": token})

    return announce
