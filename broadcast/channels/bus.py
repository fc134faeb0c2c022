"""Small messages between web workers: command wake-ups, claims of long polls and cache drops.

Two paths carry a message, each JSON with a ``kind``:

- **This node.** Each listening web worker binds a datagram socket (Linux abstract namespace, named after the
  instance folder and the worker's pid) and leaves a marker file named by its pid in
  ``<instance>/wakeups/<host>/``. A sender lists the markers and sends each worker one datagram. Any process
  of the service's user that has the instance folder can send: the scheduler after a compile, the command
  line, another worker. Datagrams from other users are ignored.
- **Other nodes**, when ``REDIS_URL`` is set: the message is also published on ``REDIS_CHANNEL``, tagged with
  this node's name. Every worker subscribes, and skips its own node's messages, which came the first way.

Sending never fails the caller: a worker that is gone is forgotten, and a Redis that is down is logged. The
receivers sweep now and then (see ``broadcast.channels.wakeups``), so a lost message delays, never loses.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

POLL = "poll"  # a station's new long poll: an older one for the same station, anywhere, ends
RESYNC = "*"  # heard after (re)connecting to Redis: messages may have been missed, so assume everything changed
FOLDER = "wakeups"
_MAX_DATAGRAM = 8192
_CREDENTIALS_SIZE_RAW = struct.calcsize("3i")  # struct ucred: pid, uid, gid
_CREDENTIALS_SIZE = socket.CMSG_SPACE(_CREDENTIALS_SIZE_RAW)


@dataclass(frozen=True)
class Remote:
    """Where this node meets the others."""

    url: str
    channel: str
    node: str


_remotes: dict[Path, Remote] = {}
_clients: dict[str, Any] = {}
_quiet_until: dict[str, float] = {}  # Redis URL: monotonic time before which publishing is not tried again
REDIS_RETRY_S = 5.0


def configure(instance_path: Path, redis_url: str, channel: str) -> None:
    """Publish this instance's messages on Redis too (``redis_url`` empty: this node only)."""
    folder = Path(instance_path).resolve()
    if redis_url:
        _remotes[folder] = Remote(redis_url, channel, f"{socket.gethostname()}:{folder}")
    else:
        _remotes.pop(folder, None)


def remote(instance_path: Path) -> Remote | None:
    return _remotes.get(Path(instance_path).resolve())


def send(instance_path: Path, message: dict[str, Any], *, local: bool = True) -> None:
    """Send ``message`` to every web worker of this node (unless ``local`` is false) and, with Redis, to the
    other nodes."""
    folder = Path(instance_path).resolve()
    if local:
        _Peers.of(folder).send(json.dumps(message).encode())
    found = _remotes.get(folder)
    if found is not None and time.monotonic() >= _quiet_until.get(found.url, 0.0):
        try:
            _client(found.url).publish(found.channel, json.dumps({**message, "node": found.node}))
        except Exception as exc:  # noqa: BLE001 - a Redis outage must not fail the change that was committed
            # Not again for a while: every poll sends a claim, and each would wait for the connect timeout.
            _quiet_until[found.url] = time.monotonic() + REDIS_RETRY_S
            log.warning("could not publish on Redis (%s); not trying again for %.0f s. The other web nodes "
                        "resynchronise when their subscription comes back, and sweep for commands meanwhile.",
                        exc, REDIS_RETRY_S)


def _client(url: str):
    client = _clients.get(url)
    if client is None:
        import redis

        # Short timeouts: a publish follows a committed change inside someone's request.
        client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    return client


def _markers(folder: Path) -> Path:
    # Per host: should two nodes ever share an instance folder, neither takes the other's workers for gone ones.
    return folder / FOLDER / socket.gethostname()


def _address(folder: Path, pid: int) -> str:
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:20]
    return f"\0radio-wakeups/{digest}/{pid}"


class _Peers:
    """The listening workers of one instance folder, as its marker files name them (re-read when they change)."""

    _known: dict[Path, _Peers] = {}

    def __init__(self, folder: Path):
        self.folder = _markers(folder)
        self.instance = folder
        self._seen: int | None = None
        self._pids: list[int] = []
        self._socket: socket.socket | None = None
        self._pid = os.getpid()

    @classmethod
    def of(cls, folder: Path) -> _Peers:
        peers = cls._known.get(folder)
        if peers is None or peers._pid != os.getpid():  # a fork gets its own socket
            peers = cls._known[folder] = cls(folder)
        return peers

    def send(self, body: bytes) -> None:
        for pid in self._listening():
            try:
                self._sender().sendto(body, _address(self.instance, pid))
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):  # that worker is gone; it never cleaned up
                    (self.folder / str(pid)).unlink()
            except BlockingIOError:
                log.debug("worker %s is not reading its wake-ups; it sweeps soon", pid)
            except OSError as exc:
                log.warning("could not send a wake-up to worker %s: %s", pid, exc)

    def _listening(self) -> list[int]:
        try:
            changed = os.stat(self.folder).st_mtime_ns
        except FileNotFoundError:
            return []
        if changed != self._seen:
            self._seen = changed
            self._pids = [int(name) for name in os.listdir(self.folder) if name.isdigit()]
        return self._pids

    def _sender(self) -> socket.socket:
        if self._socket is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.setblocking(False)  # a worker too busy to read loses a wake-up; the sender never waits
            self._socket = sock
        return self._socket


class Inbox:
    """One worker's datagram socket, and its marker file so that senders find it."""

    def __init__(self, instance_path: Path):
        self.instance = Path(instance_path).resolve()
        self.marker = _markers(self.instance) / str(os.getpid())
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # An abstract socket has no file permissions: the kernel tells who sent each datagram, so that only the
        # service's own user is heard.
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self._socket.bind(_address(self.instance, os.getpid()))
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        self.marker.touch()  # after the bind: a sender that finds the marker can reach the socket

    def receive(self, timeout: float) -> list[dict[str, Any]]:
        """The messages that came within ``timeout`` seconds: the first one waited for, then all queued."""
        self._socket.settimeout(timeout)
        try:
            bodies = [self._one()]
        except (TimeoutError, BlockingIOError):
            return []
        self._socket.settimeout(0)
        with contextlib.suppress(BlockingIOError, TimeoutError):
            while len(bodies) < 1000:
                bodies.append(self._one())
        return [message for message in map(_decode, filter(None, bodies)) if message is not None]

    def _one(self) -> bytes | None:
        body, ancillary, _, _ = self._socket.recvmsg(_MAX_DATAGRAM, _CREDENTIALS_SIZE)
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                _pid, uid, _gid = struct.unpack("3i", data[:_CREDENTIALS_SIZE_RAW])
                if uid == os.getuid():
                    return body
        log.warning("ignored a wake-up from another user")
        return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.marker.unlink()
        self._socket.close()


def listen(found: Remote, handle: Callable[[dict[str, Any]], None], stop: threading.Event) -> None:
    """Hand every message other nodes publish to ``handle`` until ``stop`` is set, reconnecting as needed;
    after each (re)connection ``handle`` gets a RESYNC, since messages may have been missed meanwhile."""
    import redis

    delay = 1.0
    while not stop.is_set():
        pubsub = None
        try:
            client = redis.Redis.from_url(found.url, socket_connect_timeout=2, socket_keepalive=True,
                                          health_check_interval=30)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(found.channel)
            pubsub.get_message(timeout=2)  # the subscription's confirmation: from now on nothing is missed
            handle({"kind": RESYNC})
            delay = 1.0
            while not stop.is_set():
                raw = pubsub.get_message(timeout=5)
                if raw is None or raw.get("type") != "message":
                    continue
                message = _decode(raw["data"])
                if message is not None and message.pop("node", None) != found.node:
                    handle(message)
        except (redis.RedisError, OSError) as exc:
            log.warning("Redis subscription to %s lost (%s); again in %.0f s", found.channel, exc, delay)
            stop.wait(delay)
            delay = min(delay * 2, 30.0)
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    pubsub.close()


def _decode(body: bytes | str) -> dict[str, Any] | None:
    try:
        message = json.loads(body)
    except ValueError:
        log.warning("ignored a wake-up that is not JSON: %r", body[:80])
        return None
    return message if isinstance(message, dict) else None

