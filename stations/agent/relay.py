"""Live relays: the bookkeeping of one relay window, and the probe that tells when a lost stream is back.

A relay plays a stream (Icecast/HTTP MP3 or HLS) from its start to its end. When the stream fails to start or
drops, the station loops a fallback file (the slot's filler, else the station's own) and tries the stream again
every ``retry_s``: a probe (an HTTP request in a thread) asks for the stream while the fallback plays on, and
only when it answers with audio does the engine stop the fallback and play the stream again. The probe keeps
listeners from hearing a gap every half minute while the source is down.

:class:`Relay` is pure: the engine tells it what happened and when, and it keeps the seconds relayed, the
seconds of fallback and why the stream failed, which become the as-run event.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RETRY_S = 30.0  # how often a lost stream is tried again
START_GRACE_S = 3.0  # a stream player that ends sooner than this never really played: a failure to start
PROBE_TIMEOUT_S = 5.0
PROBE_BYTES = 2048
REASON_MAX = 480  # the server keeps at most 500 characters of a reason

STREAM, FALLBACK, SILENCE = "stream", "fallback", "silence"


@dataclass
class Relay:
    """One relay window as it goes. Times are aware datetimes from the engine's clock."""

    url: str
    started_at: datetime
    retry_s: float = RETRY_S
    mode: str = STREAM  # stream, fallback (a file loops) or silence (nothing to fall back on)
    since: datetime | None = None  # when the current mode began
    relayed_s: float = 0.0
    fallback_s: float = 0.0
    silent_s: float = 0.0
    drops: int = 0  # the stream played, then ended before the window did
    failed_starts: int = 0  # the stream player ended at once, or a probe found no stream
    reasons: list[str] = field(default_factory=list)  # why the stream failed, in order
    notes: list[str] = field(default_factory=list)  # anything else worth telling (the fallback failed)
    next_try: datetime | None = None
    probe: Future | None = None

    def __post_init__(self) -> None:
        if self.since is None:
            self.since = self.started_at

    # -- what happened ------------------------------------------------------------------------------------

    def stream_started(self, now: datetime) -> None:
        self._settle(now)
        self.mode, self.since, self.next_try, self.probe = STREAM, now, None, None

    def stream_ended(self, now: datetime, why: str) -> None:
        """The stream player ended (or could not start) before the window's end; the fallback follows."""
        ran = (now - self.since).total_seconds() if self.mode == STREAM else 0.0
        if self.mode == STREAM and ran >= START_GRACE_S:
            self.relayed_s += ran
            self.drops += 1
        else:
            self.silent_s += max(0.0, ran)
            self.failed_starts += 1
        self._remember(why)
        self.since = now
        self.mode = SILENCE  # until the engine starts the fallback
        self.next_try = now + timedelta(seconds=self.retry_s)

    def fallback_started(self, now: datetime, *, playing: bool) -> None:
        """The fallback file started (``playing``) or there is none (silence). A loop of it changes nothing."""
        mode = FALLBACK if playing else SILENCE
        if mode != self.mode:
            self._settle(now)
            self.mode, self.since = mode, now

    def probe_failed(self, now: datetime, why: str) -> None:
        self.failed_starts += 1
        self._remember(why)
        self.probe = None
        self.next_try = now + timedelta(seconds=self.retry_s)

    def note(self, why: str) -> None:
        """Something worth telling in the reason besides the stream's failures (e.g. the fallback could not play)."""
        why = " ".join(why.split())
        if why and why not in self.notes:
            self.notes.append(why)

    def finish(self, now: datetime) -> None:
        """The window ended (or the relay was interrupted): count the time of the current mode."""
        self._settle(now)
        self.since = now

    # -- questions ----------------------------------------------------------------------------------------

    def due_for_try(self, now: datetime) -> bool:
        return self.mode != STREAM and self.probe is None and self.next_try is not None and now >= self.next_try

    def outcome(self) -> tuple[str, str | None]:
        """(as-run outcome, reason) once :meth:`finish` was called: see :func:`relay_outcome`."""
        return relay_outcome(self.relayed_s, self.fallback_s, self.silent_s, self.drops, self.failed_starts,
                             self.reasons, self.notes)

    # -- inside -------------------------------------------------------------------------------------------

    def _settle(self, now: datetime) -> None:
        spent = max(0.0, (now - self.since).total_seconds())
        if self.mode == STREAM:
            self.relayed_s += spent
        elif self.mode == FALLBACK:
            self.fallback_s += spent
        else:
            self.silent_s += spent
        self.since = now

    def _remember(self, why: str) -> None:
        why = " ".join(why.split())
        if why and (not self.reasons or self.reasons[-1] != why):
            self.reasons.append(why)


def relay_outcome(relayed_s: float, fallback_s: float, silent_s: float, drops: int, failed_starts: int,
                  reasons: list[str], notes: list[str] = ()) -> tuple[str, str | None]:
    """The as-run outcome and reason of a relay window.

    ``played`` with no reason when the stream played throughout; ``played`` with a reason that starts
    "partly relayed" when it played for part of the window and the fallback (or silence) stood in for the
    rest; ``failed`` when the stream never played, the reason saying why and how long the fallback played.
    """
    why = ""
    if reasons:
        why = reasons[0] if len(reasons) == 1 else f"{reasons[0]}; last: {reasons[-1]}"
    stood_in = f"filler {fallback_s:.0f} s" + (f", silence {silent_s:.0f} s" if silent_s >= 1 else "")
    told = "".join(f"; {note}" for note in notes)
    if relayed_s > 0 and not drops and not failed_starts:
        return "played", _short(told[2:]) if told else None
    if relayed_s > 0:
        text = f"partly relayed: stream {relayed_s:.0f} s, {stood_in}"
        if drops:
            text += f"; the stream dropped {drops} time{'s' if drops > 1 else ''}"
        return "played", _short((f"{text} ({why})" if why else text) + told)
    return "failed", _short(f"the stream did not play ({why or 'no reason given'}); {stood_in}{told}")


def _short(text: str) -> str:
    return text if len(text) <= REASON_MAX else text[:REASON_MAX - 1] + "…"


def probe(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """Ask for the stream once: None when it answers with audio (or an HLS playlist), else why not."""
    if not url.lower().startswith(("http://", "https://")):
        return "the stream address is not http:// or https://"
    request = urllib.request.Request(url, headers={"User-Agent": "commune-radio-agent"})  # noqa: S310 - checked
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) checked
            data = response.read(PROBE_BYTES)
            kind = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return f"the stream answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"the stream cannot be reached: {reason}"
    if not data:
        return "the stream sent nothing"
    if ("mpegurl" in kind.lower() or url.split("?")[0].endswith(".m3u8")) and not data.startswith(b"#EXTM3U"):
        return "the HLS playlist is not a playlist"
    return None


def probe_in_thread(url: str, on_done: Callable[[], None], check: Callable[[str], str | None] = probe) -> Future:
    """Run ``check(url)`` in a thread; the future gives its answer, and ``on_done`` is called when it has one."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(check(url))
        except Exception as exc:  # noqa: BLE001 - a probe that broke is a failed probe
            future.set_result(f"probe failed: {exc}")
        on_done()

    threading.Thread(target=run, name="stream-probe", daemon=True).start()
    return future


class Silence:
    """A playback that plays nothing until stopped: a relay with nothing to fall back on waits in it."""

    detail = ""

    def __init__(self) -> None:
        self._stopped = False

    def poll(self) -> int | None:
        return 0 if self._stopped else None

    def stop(self) -> None:
        self._stopped = True
