"""Remote commands from the central service: ``play_now``, ``play_stream``, ``stop``, ``set_volume``,
``emergency`` and ``cancel_emergency`` (see :mod:`stations.agent.emergencies`).

``play_stream`` (args ``url``, ``until``: ISO 8601 with its offset, ``title``) relays the stream at once until
``until``, falling back to the station's filler while it fails (see :mod:`stations.agent.relay`); ``stop``
ends it.

They arrive by HTTP long poll (``GET /api/v1/stations/<code>/commands?wait=25``), on the MQTT topic
``radio/stations/<code>/commands``, or as ``commands/<id>.json`` files an SSH push left in the inbox, possibly
by several paths and possibly more than once: each command id is carried out
once (the outcome is kept in the SQLite file) and acknowledged with ``POST .../commands/<id>/ack``
``{"ok": bool, "detail": str}``, again until the server has the acknowledgement.
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stations.agent.asrun import AsRunLog
from stations.agent.cache import AudioCache, AudioError
from stations.agent.emergencies import parse_broadcast
from stations.agent.jobs import MIN_BITRATE
from stations.agent.playout import Playout
from stations.agent.server import ServerClient, ServerError
from stations.manifest import AudioFile, Manifest
from stations.manifest.checks import STREAM_URL

log = logging.getLogger(__name__)

KINDS = ("play_now", "play_stream", "stop", "set_volume", "emergency", "cancel_emergency")
MAX_RELAY_S = 12 * 3600  # a play_stream command relays at most this long
VOLUME_KEY = "volume"
ENGINE_ANSWER_S = 10.0
VOLUME_COMMAND_TIMEOUT_S = 10.0
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Command:
    id: int
    kind: str
    args: dict[str, Any]
    issued_at: datetime


def parse_command(raw: object, now: datetime) -> Command:
    """Read one command object; raises ValueError saying what is wrong (``id`` is checked first)."""
    if not isinstance(raw, dict):
        raise ValueError("a command must be a JSON object")
    command_id = raw.get("id")
    if type(command_id) is not int or command_id < 1:
        raise ValueError(f"id must be a positive integer, not {command_id!r}")
    kind = raw.get("kind")
    args = raw.get("args") or {}
    if not isinstance(args, dict):
        raise ValueError("args must be an object")
    issued_at = now
    if isinstance(raw.get("issued_at"), str):
        try:
            issued_at = datetime.fromisoformat(raw["issued_at"])
        except ValueError:
            raise ValueError(f"issued_at {raw['issued_at']!r} is not an ISO 8601 time") from None
        if issued_at.utcoffset() is None:
            issued_at = issued_at.replace(tzinfo=UTC)
    return Command(command_id, kind if isinstance(kind, str) else repr(kind), args, issued_at)


def parse_play_stream(args: dict[str, Any], now: datetime) -> tuple[str, datetime]:
    """The stream URL and the end of a ``play_stream`` command; ValueError saying what is wrong."""
    url = args.get("url")
    if not isinstance(url, str) or not STREAM_URL.fullmatch(url):
        raise ValueError(f"url must be an absolute http:// or https:// URL, not {url!r}")
    raw = args.get("until")
    try:
        until = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        until = None
    if until is None or until.utcoffset() is None:
        raise ValueError(f"until must be an ISO 8601 time with its offset, not {raw!r}")
    left = (until - now).total_seconds()
    if left <= 0:
        raise ValueError(f"until {raw} has passed")
    if left > MAX_RELAY_S:
        raise ValueError(f"until {raw} is more than {MAX_RELAY_S // 3600} hours away")
    return url, until


class VolumeControl:
    """The station's volume (0-100): kept in the SQLite file, applied with ``volume_command`` if one is set."""

    def __init__(self, asrun: AsRunLog, default: int, command: Sequence[str] | None,
                 run: Callable[..., subprocess.CompletedProcess] = subprocess.run):
        self.asrun = asrun
        self.default = default
        self.command = tuple(command) if command else None
        self._run = run

    @property
    def volume(self) -> int:
        stored = self.asrun.get_state(VOLUME_KEY)
        return int(stored) if stored is not None else self.default

    def set(self, volume: int) -> tuple[bool, str]:
        self.asrun.set_state(VOLUME_KEY, str(volume))
        return self.apply()

    def apply(self) -> tuple[bool, str]:
        """Run ``volume_command`` for the current volume; (ok, detail)."""
        volume = self.volume
        if self.command is None:
            return True, f"volume {volume}"
        argv = [part.replace("{volume}", str(volume)) for part in self.command]
        try:
            done = self._run(argv, capture_output=True, timeout=VOLUME_COMMAND_TIMEOUT_S, check=False)
        except FileNotFoundError:
            return False, f"volume {volume} stored; volume_command not found: {argv[0]}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"volume {volume} stored; volume_command failed: {exc}"
        if done.returncode != 0:
            said = " ".join(done.stderr.decode("utf-8", "replace").split())[-200:]
            return False, f"volume {volume} stored; volume_command exited with {done.returncode}: {said}"
        return True, f"volume {volume}"


class CommandHandler:
    """Carries out each command once and acknowledges it; thread-safe (HTTP and MQTT may both deliver)."""

    def __init__(self, *, engine: Playout, client: ServerClient, cache: AudioCache, asrun: AsRunLog,
                 volume: VolumeControl, installed: Callable[[], Manifest | None], now: Callable[[], datetime],
                 inbox_audio: Path | None = None):
        self.inbox_audio = inbox_audio  # where an SSH push leaves the audio of the commands it brings
        self.engine = engine
        self.client = client
        self.cache = cache
        self.asrun = asrun
        self.volume = volume
        self.installed = installed
        self.now = now
        self._lock = threading.Lock()

    def handle(self, raw: object) -> tuple[bool, str] | None:
        """Carry out and acknowledge one command as received; returns (ok, detail), None if it has no id."""
        try:
            command = parse_command(raw, self.now())
        except ValueError as exc:
            command_id = raw.get("id") if isinstance(raw, dict) else None
            log.warning("bad command %r: %s", raw, exc)
            if type(command_id) is not int:
                return None
            result = (False, f"bad command: {exc}")
            self.asrun.save_command(command_id, *result)
            self._ack(command_id, *result)
            return result
        with self._lock:
            result = self.asrun.command_result(command.id)
            if result is None:
                result = self._carry_out(command)
                log.info("command %d %s: %s (%s)", command.id, command.kind, "ok" if result[0] else "failed",
                         result[1])
                self.asrun.save_command(command.id, *result)
        self._ack(command.id, *result)
        return result

    def retry_acks(self) -> None:
        for command_id, ok, detail in self.asrun.unacked_commands():
            self._ack(command_id, ok, detail)

    def _ack(self, command_id: int, ok: bool, detail: str) -> None:
        try:
            self.client.ack_command(command_id, ok, detail)
        except ServerError as exc:
            if exc.status is None or exc.status >= 500 or exc.status == 429:
                log.warning("ack of command %d not delivered (%s); will retry", command_id, exc)
                return
            log.warning("the server refused the ack of command %d: %s", command_id, exc)
        self.asrun.mark_acked(command_id)

    def _carry_out(self, command: Command) -> tuple[bool, str]:
        if command.kind == "set_volume":
            volume = command.args.get("volume")
            if type(volume) is not int or not 0 <= volume <= 100:
                return False, f"volume must be a whole number from 0 to 100, not {volume!r}"
            return self.volume.set(volume)
        if command.kind == "stop":
            # A live announcement's stop names its stream: only that relay stops (not an emergency since).
            url = command.args.get("url") or None
            if url is not None and not isinstance(url, str):
                return False, f"url must be a string, not {url!r}"
            return self._engine_answer(self.engine.stop_playback(command.id, url))
        if command.kind == "play_now":
            sha = command.args.get("sha256")
            if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
                return False, f"sha256 must be 64 lowercase hex digits, not {sha!r}"
            try:
                audio = self._fetch(sha, command.args.get("url"))
            except (AudioError, ServerError) as exc:
                return False, f"audio not available: {exc}"
            return self._engine_answer(self.engine.play_now(command.id, audio, command.issued_at))
        if command.kind == "play_stream":
            try:
                url, until = parse_play_stream(command.args, self.now())
            except ValueError as exc:
                return False, f"bad play_stream: {exc}"
            return self._engine_answer(self.engine.play_stream(command.id, url, until, self.now()))
        if command.kind == "emergency":
            try:
                broadcast = parse_broadcast(command.args, self.now())
            except ValueError as exc:
                return False, f"bad emergency: {exc}"
            if not broadcast.starts:
                return False, f"emergency {broadcast.id} expired at {broadcast.expires_at.isoformat()}"
            try:
                self._fetch_known(broadcast.audio)
            except (AudioError, ServerError) as exc:
                return False, f"audio not available: {exc}"
            return self._engine_answer(self.engine.emergency(command.id, broadcast))
        if command.kind == "cancel_emergency":
            broadcast_id = command.args.get("broadcast")
            if type(broadcast_id) is not int or broadcast_id < 1:
                return False, f"broadcast must be a positive integer, not {broadcast_id!r}"
            return self._engine_answer(self.engine.cancel_emergency(command.id, broadcast_id))
        return False, f"unknown command kind {command.kind!r} (known: {', '.join(KINDS)})"

    def _fetch_known(self, audio: AudioFile) -> None:
        """Have ``audio`` (size and sha256 known) verified in the cache: from the inbox, else downloaded."""
        if self.cache.ready(audio) is not None:
            return
        pushed = self.inbox_audio / f"{audio.sha256}.mp3" if self.inbox_audio is not None else None
        if pushed is not None and pushed.is_file():
            self.cache.install_copy(audio, pushed)
            return
        self.client.download(self.client.url_for(audio.url), self.cache.part_for(audio.sha256), audio.size)
        self.cache.install_part(audio)

    def _fetch(self, sha: str, url: object) -> AudioFile:
        """The verified cached file for ``sha``, downloaded first if the cache lacks it."""
        known = self._known_audio(sha)
        path = self.cache.path_for(sha)
        if known is not None and self.cache.ready(known) is not None:
            return known
        if known is None and path.is_file():  # everything in the cache was verified when it was installed
            return _guess(sha, path.stat().st_size)
        reference = url if isinstance(url, str) and url else f"/api/v1/audio/{sha}"
        part = self.cache.part_for(sha)
        if known is None:
            part.unlink(missing_ok=True)  # size unknown: no resuming, the sha256 check decides
        self.client.download(self.client.url_for(reference), part, known.size if known else None)
        audio = known or _guess(sha, part.stat().st_size)
        self.cache.install_part(audio)
        return audio

    def _known_audio(self, sha: str) -> AudioFile | None:
        manifest = self.installed()
        if manifest is None:
            return None
        return next((e.file for day in manifest.days for e in day.entries if e.file and e.file.sha256 == sha), None)

    def _engine_answer(self, future) -> tuple[bool, str]:
        try:
            return future.result(timeout=ENGINE_ANSWER_S)
        except FutureTimeout:
            return False, "the playout engine did not answer"


def _guess(sha: str, size: int) -> AudioFile:
    # Only the size is known for a file no manifest names; the duration is a generous guess from it.
    return AudioFile(sha256=sha, size=size, duration_ms=max(1000, size * 8 * 1000 // MIN_BITRATE),
                     url=f"/api/v1/audio/{sha}")
