"""The voice of a live announcement, from the speaker's browser to the Icecast mount, and its one loop.

The browser records the voice (MediaRecorder, WebM/Opus) and sends it in short chunks over a WebSocket. For each
announcement one ffmpeg process takes the chunks on its standard input and feeds the announcement's mount as MP3
(:class:`Feed`). :func:`relay` is the one loop per announcement (the WebSocket's request: a greenlet under
gunicorn's gevent workers, nothing else waits on a thread): it starts ffmpeg at the first audio, tells the
stations once the mount is up, and ends everything (ffmpeg ended and reaped, the stations told to stop) when the
speaker stops, the browser goes away or stays silent for LIVE_SILENCE_S, the time runs out, or someone stops it
from another page. A worker that dies mid-announcement leaves no ffmpeg behind: it reads end-of-file and exits.
The announcements themselves are :mod:`broadcast.services.live_sessions`.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from sqlalchemy.orm import Session

from broadcast.db.models import LiveEnd, LiveSession, LiveState
from broadcast.services.live_sessions import LiveConfig, Outgoing, end, go_on_air, heard

log = logging.getLogger(__name__)

MOUNT_WAIT_S = 15.0  # from the first audio to the mount being up, at most
CHECK_EVERY_S = 2.0  # how often the loop reads the database (stopped from another page? time up?)
STARTING_GRACE_S = 30.0  # an announcement whose browser sends no audio at all is given up after this


class Feed:
    """One ffmpeg process: WebM/Opus chunks in on standard input, MP3 out to the Icecast mount.

    Mono 64 kbit/s MP3 at 44.1 kHz: speech for loudspeakers needs no more, and every agent's player reads it."""

    def __init__(self, url: str, title: str, ffmpeg: str = "ffmpeg"):
        self.url, self.title, self.ffmpeg = url, title, ffmpeg
        self.process: subprocess.Popen | None = None
        self._errors = tempfile.TemporaryFile()  # ffmpeg's complaints; a file, so a full pipe never stalls it
        self.bytes_in = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-fflags", "+nobuffer",
             "-probesize", "32768", "-analyzeduration", "0", "-f", "matroska", "-i", "pipe:0",
             "-vn", "-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "64k",
             "-content_type", "audio/mpeg", "-ice_name", self.title or "live", "-f", "mp3", self.url],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._errors)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def write(self, chunk: bytes) -> bool:
        """Hand ffmpeg the next chunk; False when it is gone (the stream server refused it, or it failed)."""
        if not self.alive:
            return False
        try:
            self.process.stdin.write(chunk)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        self.bytes_in += len(chunk)
        return True

    def close(self, timeout_s: float = 5.0) -> int | None:
        """End of input: ffmpeg sends what it holds and leaves the mount; killed if it lingers. Always reaped."""
        if self.process is None:
            return None
        try:
            if self.process.stdin and not self.process.stdin.closed:
                self.process.stdin.close()
        except OSError:
            pass
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        return code

    def errors(self) -> str:
        self._errors.seek(0)
        return self._errors.read()[-1000:].decode("utf-8", errors="replace").strip()


def mount_up(url: str, timeout_s: float = 1.0) -> bool:
    """Whether the mount is fed: Icecast answers 200 to a listener only then (404 before)."""
    try:
        with requests.get(url, stream=True, timeout=timeout_s) as answer:
            return answer.status_code == 200
    except requests.RequestException:
        return False


class Closed(Exception):
    """The speaker's connection is gone."""


@dataclass
class Link:
    """The speaker's side as the relay sees it: ``receive(timeout)`` gives bytes (audio), a str (a control
    message such as "stop") or None (nothing yet) and raises :class:`Closed` when the connection is gone;
    ``tell`` sends the browser a state change."""

    receive: Callable[[float], bytes | str | None]
    tell: Callable[[dict[str, Any]], None]


def relay(session: Session, live_id: int, link: Link, *, config: LiveConfig, clock: Callable[[], datetime],
          dispatch: Callable[[Outgoing], None], ffmpeg: str = "ffmpeg") -> LiveEnd | None:
    """Carry one announcement from the speaker's chunks to the mount, until it ends; returns how it ended (None
    when it had ended already, e.g. stopped from another page). ffmpeg is always ended and reaped."""
    live = session.get(LiveSession, live_id)
    if live is None or live.state is not LiveState.STARTING:
        link.tell({"state": "ended", "reason": live.end_reason.value if live and live.end_reason else "unknown"})
        return None
    feed = Feed(config.feed_url(live.mount), live.title, ffmpeg)
    reason: LiveEnd | None = LiveEnd.DROPPED
    started = time.monotonic()
    last_heard = started
    first_audio: float | None = None
    next_check = started + CHECK_EVERY_S
    next_probe = 0.0
    on_air = False
    try:
        while True:
            try:
                message = link.receive(0.5)
            except Closed:
                reason = LiveEnd.DROPPED
                break
            now_s = time.monotonic()
            if isinstance(message, bytes) and message:
                last_heard = now_s
                if first_audio is None:
                    first_audio = now_s
                    feed.start()
                if not feed.write(message):
                    log.warning("live %s: ffmpeg ended: %s", live_id, feed.errors())
                    reason = LiveEnd.FAILED
                    break
            elif message == "stop":
                reason = LiveEnd.STOPPED
                break
            if now_s - last_heard > config.silence_s:
                reason = LiveEnd.DROPPED
                break
            if first_audio is not None and not on_air and now_s >= next_probe:
                if mount_up(config.probe_url(live.mount), timeout_s=1.0):
                    dispatch(go_on_air(session, live, now=clock(), config=config))
                    on_air = True
                    link.tell({"state": "on_air", "until": live.until.isoformat()})
                elif now_s - first_audio > MOUNT_WAIT_S or not feed.alive:
                    log.warning("live %s: the mount did not come up: %s", live_id, feed.errors())
                    reason = LiveEnd.FAILED
                    break
                next_probe = now_s + 0.25
            if now_s >= next_check:
                next_check = now_s + CHECK_EVERY_S
                session.expire_all()
                live = session.get(LiveSession, live_id)
                if live.state is LiveState.ENDED:  # stopped from the page (in any worker)
                    reason = None
                    break
                if clock() >= live.until:
                    reason = LiveEnd.TIME_UP
                    break
                if on_air:
                    heard(session, live, clock())
                elif first_audio is None and now_s - started > STARTING_GRACE_S:
                    reason = LiveEnd.DROPPED
                    break
    finally:
        code = feed.close()
        if code not in (None, 0):
            log.info("live %s: ffmpeg exited with %s: %s", live_id, code, feed.errors())
        session.rollback()
        session.expire_all()
        live = session.get(LiveSession, live_id)
        if reason is not None and live is not None:
            dispatch(end(session, live, reason, now=clock()))
    final = live.end_reason if live is not None else reason
    try:
        link.tell({"state": "ended", "reason": final.value if final else "unknown"})
    except Closed:
        pass
    return reason
