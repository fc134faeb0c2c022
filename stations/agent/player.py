"""The player: one subprocess per playback, from the configured command with ``{file}`` (and ``{offset}``), or
for a live relay the stream player's command with ``{url}``.

The engine only needs :class:`Player` and :class:`Playback`; tests give it a fake with the same two methods.
A player runs in its own process group, so stopping it also stops whatever a wrapper script started.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

STOP_GRACE_S = 2.0  # after SIGTERM, before SIGKILL (mpg123 without "-o dummy" may ignore SIGTERM)
STDERR_TAIL = 300


class PlayerError(Exception):
    """The player could not be started (missing binary, not executable)."""


class Playback(Protocol):
    def poll(self) -> int | None:
        """The player's exit status once it has ended, else None."""

    def stop(self) -> None:
        """End the playback now (no-op when it has ended)."""

    @property
    def detail(self) -> str:
        """What the player said on stderr (its end), for the as-run reason of a failure."""


class Player(Protocol):
    def start(self, path: Path | str, *, offset_s: float, on_exit: Callable[[], None]) -> Playback:
        """Start playing ``path`` from ``offset_s`` seconds; ``on_exit`` is called (from any thread) when it
        ends. Raises :class:`PlayerError` if it cannot start."""


class CommandPlayer:
    """Plays files with an external command such as ffplay, mpv or aplay."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str] | None = None):
        self.command = tuple(command)
        self.env = dict(env or {})

    def argv(self, path: Path | str, offset_s: float = 0.0) -> list[str]:
        offset = f"{offset_s:.3f}"
        return [part.replace("{file}", str(path)).replace("{url}", str(path)).replace("{offset}", offset)
                for part in self.command]

    def start(self, path: Path | str, *, offset_s: float = 0.0, on_exit: Callable[[], None] = lambda: None
              ) -> ProcessPlayback:
        argv = self.argv(path, offset_s)
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, env={**os.environ, **self.env},
                                       start_new_session=True)
        except FileNotFoundError:
            raise PlayerError(f"player not found: {argv[0]}") from None
        except OSError as exc:
            raise PlayerError(f"cannot start {argv[0]}: {exc.strerror or exc}") from None
        return ProcessPlayback(process, on_exit)


class ProcessPlayback:
    """A running player process, watched by a thread that collects its stderr and reports its end."""

    def __init__(self, process: subprocess.Popen, on_exit: Callable[[], None]):
        self.process = process
        self._ended = threading.Event()
        self._stderr = b""
        self._on_exit = on_exit
        threading.Thread(target=self._watch, name=f"player-{process.pid}", daemon=True).start()

    def _watch(self) -> None:
        try:
            _, self._stderr = self.process.communicate()
        finally:
            self._ended.set()
            self._on_exit()

    def poll(self) -> int | None:
        return self.process.returncode if self._ended.is_set() else None

    @property
    def detail(self) -> str:
        return " ".join(self._stderr.decode("utf-8", "replace").split())[-STDERR_TAIL:]

    def stop(self) -> None:
        if self._ended.is_set():
            return
        self._signal(signal.SIGTERM)
        if not self._ended.wait(STOP_GRACE_S):
            log.warning("player %d ignored SIGTERM; killing it", self.process.pid)
            self._signal(signal.SIGKILL)
            self._ended.wait(STOP_GRACE_S)

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
