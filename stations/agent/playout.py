"""The playout engine: decides what plays when, runs the player, and writes the as-run log.

One thread runs :meth:`Playout.run`; each :meth:`Playout.step` looks at the time and does what is due, then the
engine waits on its clock until the next moment that matters or until something wakes it (the player ended, a
new manifest was installed, a command came). Clock, player, schedule and log are given to it, so tests run a
day of schedule in a second with a :class:`~stations.agent.clock.ManualClock` and a fake player.

Rules, in the order the engine applies them:

1. An emergency entry (``item_class`` emergency, or an airing of an emergency broadcast an ``emergency``
   command brought, see :mod:`stations.agent.emergencies`) that is due interrupts whatever plays, except another
   emergency. It airs even when late, as long as its scheduled end has not passed: a warning is worth airing.
   A ``cancel_emergency`` command drops the broadcast's airings still to come and stops it if it is on air.
2. The entry it interrupted follows ``emergency_resume``: ``restart`` plays it again from the start,
   ``continue`` from where it stopped (the player's ``{offset}``), ``skip`` drops it. A ``play_now`` command
   interrupts the same way; a ``stop`` command drops what plays and any pending resume.
3. Otherwise the next entry starts at its start time; one that could only start more than ``late_skip_s``
   late is skipped (reason ``late``), else it starts late. A filler entry always ends at its scheduled end,
   so a slot that ran late catches up in its filler; one whose end has passed is skipped as late.
4. Before each play the file's size is checked again (its sha256 was checked at install). A missing or wrong
   file is replaced by ``filler_file`` (looped until the entry's time is up) and the event says so; without a
   filler the entry fails.
5. A playback fails when the player cannot start, exits non-zero, is still running ``timeout_margin_s`` after
   the entry's play time, or ends far too early (ffplay without an audio device exits 0 at once).
6. A relay (entry kind ``stream``, or a ``play_stream`` command) plays its stream with the stream player from
   its start (or from now, if late: live audio is joined, never skipped as late) to its end, where it is
   stopped. When the stream fails to start or drops, the fallback (the entry's, else ``filler_file``) loops
   while a probe asks for the stream every ``stream_retry_s``; once it answers, the stream plays again. An
   emergency interrupts a relay like anything else, and the relay resumes after it until its end. Its event
   (kind ``stream``, or ``command``) gives the seconds relayed and, in the reason, those of the fallback
   (see :mod:`stations.agent.relay`).

Every entry that reaches the engine gets at least one event: played (with seconds), skipped or failed (with a
reason). Entries already in the as-run log are not aired again after a restart. Entries that ended before the
engine started are not reported: the agent cannot know whether they aired.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from stations.agent.asrun import AsRunEvent, AsRunLog
from stations.agent.cache import AudioCache
from stations.agent.clock import Clock
from stations.agent.emergencies import STATE_KEY as EMERGENCIES
from stations.agent.emergencies import Book, Broadcast
from stations.agent.jobs import Filler, Job, OnAir
from stations.agent.player import Player, PlayerError
from stations.agent.relay import RETRY_S, STREAM, Relay, Silence, probe_in_thread
from stations.manifest import AudioFile, Manifest

log = logging.getLogger(__name__)

IDLE_S = 60.0  # the longest the engine sleeps with nothing due (a new manifest wakes it anyway)
LOOP_MIN_S = 0.5  # do not start a filler loop (or a resume) for less than this


@dataclass(frozen=True)
class _Command:
    kind: str  # "stop", "play_now", "play_stream", "emergency" or "cancel_emergency"
    command_id: int
    job: Job | None
    done: Future
    broadcast: Broadcast | None = None
    broadcast_id: int | None = None
    stream_url: str | None = None  # a stop for one relay only (a live announcement's end)


class Playout:
    """The engine. Thread-safe entry points: :meth:`wake`, :meth:`stop`, :meth:`status`, :meth:`play_now`,
    :meth:`stop_playback`; everything else runs on the engine's own thread."""

    def __init__(self, *, clock: Clock, player: Player, cache: AudioCache, asrun: AsRunLog,
                 schedule: Callable[[], Manifest | None], late_skip_s: float = 120.0,
                 emergency_resume: str = "restart", timeout_margin_s: float = 30.0, filler: Filler | None = None,
                 on_event: Callable[[AsRunEvent], None] | None = None, streamer: Player | None = None,
                 stream_retry_s: float = RETRY_S,
                 prober: Callable[[str, Callable[[], None]], Future] = probe_in_thread):
        if emergency_resume not in ("restart", "continue", "skip"):
            raise ValueError(f"emergency_resume {emergency_resume!r}")
        self.clock = clock
        self.player = player
        self.cache = cache
        self.asrun = asrun
        self.schedule = schedule
        self.late_skip = timedelta(seconds=late_skip_s)
        self.emergency_resume = emergency_resume
        self.margin = timedelta(seconds=timeout_margin_s)
        self.filler = filler
        self.on_event = on_event
        self.streamer = streamer or player  # plays a URL in place of a file
        self.stream_retry_s = stream_retry_s
        self.prober = prober
        self.on_air: OnAir | None = None
        self._resume: tuple[Job, float] | None = None
        self._done = asrun.handled_entries()
        self._done_ids = {entry_id for entry_id, _ in self._done}
        self._book = Book.load(asrun.get_state(EMERGENCIES), clock.now())
        self._horizon = clock.now()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._commands: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._jobs_of: tuple[Manifest | None, list[Job]] = (None, [])
        self._zone: tzinfo | None = None  # the station's, once a manifest tells it

    # -- thread-safe entry points --------------------------------------------------------------------------

    def wake(self) -> None:
        """Look again now (a new manifest, a player that ended)."""
        self._wake.set()

    def stop(self) -> None:
        """End :meth:`run`: what plays is stopped and logged."""
        self._stopping.set()
        self._wake.set()

    def status(self) -> tuple[str, str | None]:
        """(``idle`` | ``playing`` | ``emergency``, the id of what plays) for the heartbeat."""
        on_air = self.on_air
        if on_air is None:
            return "idle", None
        return ("emergency" if on_air.job.emergency else "playing"), on_air.job.entry_id

    def play_now(self, command_id: int, audio: AudioFile, issued_at: datetime) -> Future:
        """Air a verified cached file at once; the future gives (ok, detail) once it started or failed."""
        return self._submit(_Command("play_now", command_id, Job.for_command(command_id, audio, issued_at), Future()))

    def play_stream(self, command_id: int, url: str, until: datetime, issued_at: datetime) -> Future:
        """Relay ``url`` at once until ``until``, with the station's filler as fallback; the future gives
        (ok, detail) once it started."""
        return self._submit(_Command("play_stream", command_id, Job.for_stream_command(command_id, url, until,
                                                                                         issued_at), Future()))

    def stop_playback(self, command_id: int, stream_url: str | None = None) -> Future:
        """Stop what plays (no resume); the future gives (ok, detail). With ``stream_url``, stop only the relay
        of that stream (on air, or waiting to resume after an emergency): the end of a live announcement must
        not cut off an emergency that interrupted it."""
        return self._submit(_Command("stop", command_id, None, Future(), stream_url=stream_url))

    def emergency(self, command_id: int, broadcast: Broadcast) -> Future:
        """Take an emergency broadcast (its audio verified in the cache): its first airing interrupts what plays
        at once, the others follow as told. The future gives (ok, detail) once it is taken."""
        return self._submit(_Command("emergency", command_id, None, Future(), broadcast=broadcast))

    def cancel_emergency(self, command_id: int, broadcast_id: int) -> Future:
        """Drop the airings of a broadcast still to come, and stop it if it is on air."""
        return self._submit(_Command("cancel_emergency", command_id, None, Future(), broadcast_id=broadcast_id))

    def broadcasts(self) -> list[Broadcast]:
        """The emergency broadcasts held (for tests and the heartbeat)."""
        return list(self._book.active.values())

    def _submit(self, command: _Command) -> Future:
        self._commands.put(command)
        self._wake.set()
        return command.done

    # -- the loop ------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Air the schedule until :meth:`stop`."""
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                until = self.step()
            except Exception:  # noqa: BLE001 - the engine must keep the station on air
                log.exception("playout step failed; carrying on")
                until = self.clock.now() + timedelta(seconds=1)
            if self._stopping.is_set():
                break
            self.clock.wait(until, self._wake)
        self.shutdown()

    def run_until(self, moment: datetime) -> None:
        """Step and wait until the clock reaches ``moment`` (for tests with a manual clock)."""
        moment = moment.astimezone(UTC)
        while True:
            self._wake.clear()
            until = self.step()
            if self.clock.now() >= moment:
                return
            self.clock.wait(min(until, moment), self._wake)

    def shutdown(self) -> None:
        if self.on_air is not None:
            self._interrupt(self.clock.now(), "agent stopped", resume=False)

    def step(self) -> datetime:
        """Do whatever is due now; return when to look again."""
        now = self.clock.now()
        manifest = self.schedule()
        if manifest is not None:
            self._zone = ZoneInfo(manifest.timezone)
        self._take_commands(now)
        jobs = self._pending(manifest)
        if self.on_air is not None:
            return self._tend(now, jobs)
        return self._start_next(now, jobs)

    # -- decisions -----------------------------------------------------------------------------------------

    def _pending(self, manifest: Manifest | None) -> list[Job]:
        """The manifest's entries the engine has still to deal with, in start order."""
        if manifest is not self._jobs_of[0]:
            jobs = [] if manifest is None else [Job.from_entry(e) for day in manifest.days for e in day.entries]
            self._jobs_of = (manifest, jobs)
        pending = [job for job in self._jobs_of[1] if job.end > self._horizon and job.key not in self._done]
        # Broadcast airings are known by id alone: their times are the agent's own, not a manifest's.
        extra = [job for broadcast in self._book.active.values() for job in broadcast.jobs(self._zone)
                 if job.entry_id not in self._done_ids]
        return sorted(pending + extra, key=lambda job: job.start) if extra else pending

    def _due_emergency(self, now: datetime, jobs: list[Job]) -> Job | None:
        for job in jobs:
            if not job.emergency or job.start > now:
                continue
            if job.end <= now:  # it came and went while the engine could not air it
                self._record(job, "skipped", reason="late")
                continue
            return job
        return None

    def _next_emergency(self, now: datetime, jobs: list[Job]) -> datetime | None:
        return next((job.start for job in jobs if job.emergency and job.start > now), None)

    def _start_next(self, now: datetime, jobs: list[Job]) -> datetime:
        emergency = self._due_emergency(now, jobs)
        if emergency is not None:
            self._play(emergency, now)
            return now
        if self._resume is not None:
            job, offset = self._resume
            self._resume = None
            if job.cut_at is None or job.cut_at - now >= _s(LOOP_MIN_S):  # a filler entry past its end is over
                self._play(job, now, offset_s=offset)
            return now
        wake_at = min(filter(None, (self._next_emergency(now, jobs), now + timedelta(seconds=IDLE_S))))
        job = next((job for job in jobs if not job.emergency), None)
        if job is None:
            return wake_at
        if job.start > now:
            return min(job.start, wake_at)
        too_late = now - job.start > self.late_skip and job.stream_url is None  # a relay is joined late
        if too_late or (job.cut_at is not None and job.cut_at - now < _s(LOOP_MIN_S)):
            self._record(job, "skipped", reason="late")
            return now
        self._play(job, now)
        return now

    def _tend(self, now: datetime, jobs: list[Job]) -> datetime:
        on_air = self.on_air
        assert on_air is not None
        if on_air.relay is not None:
            return self._tend_relay(on_air, now, jobs)
        status = on_air.handle.poll()
        if status is not None:
            if on_air.substitute is not None and status == 0 and on_air.stop_at - now > _s(LOOP_MIN_S):
                self._loop_filler(on_air, now)
            else:
                self._ended(on_air, now, status)
            return now
        if on_air.stop_at is not None and now >= on_air.stop_at:
            on_air.handle.stop()
            self._close(on_air, now, "played", on_air.substitute)
            return now
        if now >= on_air.timeout_at:
            on_air.handle.stop()
            self._close(on_air, now, "failed", f"timeout: the player was still running after "
                        f"{_secs(now - on_air.first_started_at)} s (play time {on_air.job.play_ms / 1000:g} s)")
            return now
        if not on_air.job.emergency:
            emergency = self._due_emergency(now, jobs)
            if emergency is not None:
                self._interrupt(now, f"interrupted by emergency {emergency.entry_id}", resume=True)
                self._play(emergency, now)
                return now
        moments = [on_air.timeout_at, now + timedelta(seconds=IDLE_S)]
        if on_air.stop_at is not None:
            moments.append(on_air.stop_at)
        if not on_air.job.emergency and (next_emergency := self._next_emergency(now, jobs)) is not None:
            moments.append(next_emergency)
        return min(moments)

    def _take_commands(self, now: datetime) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command.done.set_result(self._command(command, now))
            except Exception as exc:  # noqa: BLE001 - the command's sender must hear about it
                log.exception("command %d failed", command.command_id)
                command.done.set_result((False, f"{type(exc).__name__}: {exc}"))

    def _command(self, command: _Command, now: datetime) -> tuple[bool, str]:
        if command.kind == "emergency":
            return self._take_broadcast(command.broadcast, now)
        if command.kind == "cancel_emergency":
            return self._cancel_broadcast(command.broadcast_id, command.command_id, now)
        if command.kind == "stop" and command.stream_url is not None:
            return self._stop_relay(command.stream_url, command.command_id, now)
        if command.kind == "stop":
            self._resume = None
            if self.on_air is None:
                return True, "nothing was playing"
            stopped = self.on_air.job.entry_id
            self._interrupt(now, f"stopped by command {command.command_id}", resume=False)
            return True, f"stopped {stopped}"
        assert command.job is not None
        if self.on_air is not None:
            if self.on_air.job.emergency:
                return False, f"emergency {self.on_air.job.entry_id} is on air"
            self._interrupt(now, f"interrupted by command {command.command_id}", resume=True)
        error = self._play(command.job, now)
        if command.kind == "play_stream" and not error:
            until = command.job.end.astimezone(self._zone or UTC)
            return True, f"relaying until {until.strftime('%H:%M:%S')}"
        return (False, error) if error else (True, "playing")

    def _stop_relay(self, url: str, command_id: int, now: datetime) -> tuple[bool, str]:
        waiting = self._resume is not None and self._resume[0].stream_url == url
        if waiting:
            self._resume = None
        if self.on_air is not None and self.on_air.job.stream_url == url:
            stopped = self.on_air.job.entry_id
            self._interrupt(now, f"stopped by command {command_id}", resume=False)
            return True, f"stopped {stopped}"
        if waiting:
            return True, "the relay will not resume"
        return True, "that relay was not playing"

    def _take_broadcast(self, broadcast: Broadcast, now: datetime) -> tuple[bool, str]:
        if broadcast.id in self._book.cancelled:
            return False, f"emergency {broadcast.id} was cancelled"
        if broadcast.id in self._book.active:
            return True, f"emergency {broadcast.id} already received"  # another path, or a re-send
        if not broadcast.starts:
            return False, f"emergency {broadcast.id} expired at {broadcast.expires_at.isoformat()}"
        self._book.active[broadcast.id] = broadcast
        self._save_book(now)
        first = broadcast.starts[0].astimezone(self._zone or UTC)
        log.warning("emergency %d (risk level %d) received: %s; airs %d times from %s", broadcast.id,
                    broadcast.risk_level, broadcast.title, len(broadcast.starts), first.isoformat())
        return True, f"received; airs {len(broadcast.starts)} times from {first.strftime('%H:%M:%S')}"

    def _cancel_broadcast(self, broadcast_id: int, command_id: int, now: datetime) -> tuple[bool, str]:
        self._book.cancelled.add(broadcast_id)
        broadcast = self._book.active.pop(broadcast_id, None)
        self._save_book(now)
        dropped = 0 if broadcast is None else sum(
            1 for job in broadcast.jobs() if job.entry_id not in self._done_ids)
        if self.on_air is not None and self.on_air.job.broadcast_id == broadcast_id:
            self._interrupt(now, f"cancelled by command {command_id}", resume=False)
            dropped -= 1
        return True, f"emergency {broadcast_id} cancelled; {max(0, dropped)} airings dropped"

    def _save_book(self, now: datetime) -> None:
        self.asrun.set_state(EMERGENCIES, self._book.dump(now))

    # -- actions -------------------------------------------------------------------------------------------

    def _play(self, job: Job, now: datetime, *, offset_s: float = 0.0) -> str | None:
        """Start airing ``job``; on failure log it and return why."""
        if job.stream_url is not None:
            self._start_relay(job, now)
            return None
        remaining = _s(job.play_ms / 1000 - offset_s)
        path = self.cache.ready(job.audio)
        audio_sha, substitute = job.audio.sha256, None
        if path is None:
            why = f"audio {job.audio.sha256} is missing or unverified"
            if self.filler is None or job.kind == "command" or not self.filler.path.is_file():
                reason = why if self.filler is None or job.kind == "command" else f"{why}, and so is the filler"
                self._record(job, "failed", reason=reason)
                return reason
            path, audio_sha, substitute, offset_s = self.filler.path, self.filler.sha256, f"{why}: filler", 0.0
        try:
            handle = self.player.start(path, offset_s=offset_s, on_exit=self.wake)
        except PlayerError as exc:
            self._record(job, "failed", reason=str(exc))
            return str(exc)
        stop_at = now + remaining if substitute or (job.exact and job.play_ms < job.audio.duration_ms) else None
        if job.cut_at is not None:
            stop_at = min(stop_at or job.cut_at, job.cut_at)
        expected = (min(stop_at, now + remaining) - now).total_seconds() if stop_at else remaining.total_seconds()
        self.on_air = OnAir(job=job, handle=handle, audio_sha256=audio_sha, first_started_at=now, started_at=now,
                            offset_s=offset_s, stop_at=stop_at, timeout_at=now + remaining + self.margin,
                            expected_s=expected if job.exact and not substitute else None, substitute=substitute)
        log.info("on air: %s (%s)%s", job.entry_id, job.kind, f" from {offset_s:.1f} s" if offset_s else "")
        return None

    # -- relays --------------------------------------------------------------------------------------------

    def _start_relay(self, job: Job, now: datetime) -> None:
        """Put a relay on air: the stream at once, or its fallback if the stream player cannot start."""
        assert job.cut_at is not None
        fallback = None
        if job.audio is not None and (path := self.cache.ready(job.audio)) is not None:
            fallback = (path, job.audio.sha256)
        elif self.filler is not None and self.filler.path.is_file():
            fallback = (self.filler.path, self.filler.sha256)
        relay = Relay(url=job.stream_url, started_at=now, retry_s=self.stream_retry_s)
        self.on_air = OnAir(job=job, handle=Silence(), audio_sha256=fallback[1] if fallback else "",
                            first_started_at=now, started_at=now, offset_s=0.0, stop_at=job.cut_at,
                            timeout_at=job.cut_at + self.margin, expected_s=None, relay=relay, fallback=fallback)
        log.info("on air: relay %s of %s until %s", job.entry_id, job.stream_url, job.cut_at.isoformat())
        self._relay_stream(self.on_air, now)

    def _relay_stream(self, on_air: OnAir, now: datetime) -> None:
        relay = on_air.relay
        try:
            handle = self.streamer.start(on_air.job.stream_url, offset_s=0.0, on_exit=self.wake)
        except PlayerError as exc:
            why = f"the stream player cannot start: {exc}"
            if relay.mode == STREAM:  # the relay's first start: nothing plays yet, the fallback begins
                relay.stream_started(now)
                relay.stream_ended(now, why)
                self._relay_fallback(on_air, now)
            else:  # a retry: the fallback plays on, and the stream is tried again later
                relay.probe_failed(now, why)
            return
        on_air.handle.stop()  # the fallback, if it played (a probe found the stream back)
        relay.stream_started(now)
        on_air.handle, on_air.started_at = handle, now

    def _relay_fallback(self, on_air: OnAir, now: datetime) -> None:
        """Loop the relay's fallback file (or wait in silence without one) until the stream is back."""
        relay = on_air.relay
        playing = False
        if on_air.fallback is not None and on_air.stop_at - now >= _s(LOOP_MIN_S):
            try:
                on_air.handle = self.player.start(on_air.fallback[0], offset_s=0.0, on_exit=self.wake)
                playing = True
            except PlayerError as exc:
                relay.note(f"the fallback cannot play: {exc}")
        if not playing:
            on_air.handle = Silence()
        on_air.started_at = now
        relay.fallback_started(now, playing=playing)

    def _tend_relay(self, on_air: OnAir, now: datetime, jobs: list[Job]) -> datetime:
        relay = on_air.relay
        if now >= on_air.stop_at:  # the window is over
            on_air.handle.stop()
            self._close_relay(on_air, now)
            return now
        status = on_air.handle.poll()
        if status is not None:
            if relay.mode == STREAM:
                detail = on_air.handle.detail
                why = "the stream ended" if status == 0 else f"the stream player exited with status {status}"
                relay.stream_ended(now, why + (f": {detail}" if detail else ""))
                log.warning("relay %s: %s; falling back", on_air.job.entry_id, relay.reasons[-1])
            elif status != 0 or now - on_air.started_at < _s(LOOP_MIN_S):
                # The fallback's player fails (or ends at once): looping it would start one every instant.
                detail = on_air.handle.detail
                relay.note(f"the fallback's player exited with status {status}" + (f": {detail}" if detail else ""))
                on_air.handle, on_air.started_at = Silence(), now
                relay.fallback_started(now, playing=False)
                return now
            self._relay_fallback(on_air, now)  # the fallback file ended: it loops
            return now
        if relay.mode != STREAM:
            if relay.probe is not None and relay.probe.done():
                why = relay.probe.result()
                if why is None:
                    log.info("relay %s: the stream is back", on_air.job.entry_id)
                    self._relay_stream(on_air, now)
                    return now
                relay.probe_failed(now, why)
            elif relay.due_for_try(now):
                relay.probe = self.prober(on_air.job.stream_url, self.wake)
                return now
        if not on_air.job.emergency:
            emergency = self._due_emergency(now, jobs)
            if emergency is not None:
                self._interrupt(now, f"interrupted by emergency {emergency.entry_id}", resume=True)
                self._play(emergency, now)
                return now
        moments = [on_air.stop_at, now + timedelta(seconds=IDLE_S)]
        if relay.mode != STREAM and relay.probe is None and relay.next_try is not None:
            moments.append(relay.next_try)
        if (next_emergency := self._next_emergency(now, jobs)) is not None:
            moments.append(next_emergency)
        return min(moments)

    def _close_relay(self, on_air: OnAir, now: datetime, note: str | None = None) -> None:
        self.on_air = None
        relay = on_air.relay
        relay.finish(now)
        outcome, reason = relay.outcome()
        if note:
            reason = f"{reason}; {note}" if reason else note
        fell_back = relay.fallback_s > 0 and on_air.fallback is not None
        self._record(on_air.job, outcome, started_at=on_air.first_started_at, ended_at=now,
                     seconds_played=relay.relayed_s, reason=reason,
                     kind="stream" if on_air.job.kind != "command" else "command",
                     audio_sha256=on_air.fallback[1] if fell_back else None)

    def _loop_filler(self, on_air: OnAir, now: datetime) -> None:
        on_air.played_s += (now - on_air.started_at).total_seconds()
        try:
            on_air.handle = self.player.start(self.filler.path, offset_s=0.0, on_exit=self.wake)
        except PlayerError as exc:
            self._close(on_air, now, "failed", str(exc))
            return
        on_air.started_at = now

    def _ended(self, on_air: OnAir, now: datetime, status: int) -> None:
        """The player ended by itself."""
        ran = (now - on_air.started_at).total_seconds()
        detail = on_air.handle.detail
        if status != 0:
            self._close(on_air, now, "failed", f"player exited with status {status}" + (f": {detail}" if detail
                                                                                            else ""))
        elif on_air.expected_s is not None and on_air.expected_s - ran > max(0.5, 0.2 * on_air.expected_s):
            self._close(on_air, now, "failed", f"player ended after {ran:.1f} s of {on_air.expected_s:.1f} s "
                        "(no audio device?)" + (f": {detail}" if detail else ""))
        else:
            self._close(on_air, now, "played", on_air.substitute)

    def _interrupt(self, now: datetime, reason: str, *, resume: bool) -> None:
        on_air = self.on_air
        assert on_air is not None
        on_air.handle.stop()
        self._close(on_air, now, "played", reason if on_air.substitute is None else f"{on_air.substitute}; {reason}")
        job = on_air.job
        if job.stream_url is not None:
            # A relay is live: after an emergency it picks up the stream again until its end, whatever
            # emergency_resume says of files (and a play_stream command's relay resumes too).
            if resume and not job.emergency and job.cut_at - now >= _s(LOOP_MIN_S):
                self._resume = (job, 0.0)
            return
        if not resume or job.emergency or job.kind == "command" or self.emergency_resume == "skip":
            return
        offset = 0.0
        if self.emergency_resume == "continue" and on_air.substitute is None:
            offset = on_air.offset_s + (now - on_air.started_at).total_seconds()
        if job.play_ms / 1000 - offset >= LOOP_MIN_S:
            self._resume = (job, offset)

    def _close(self, on_air: OnAir, now: datetime, outcome: str, reason: str | None) -> None:
        if on_air.relay is not None:
            self._close_relay(on_air, now, note=reason)
            return
        self.on_air = None
        played = on_air.played_s + (now - on_air.started_at).total_seconds() if outcome == "played" else 0.0
        self._record(on_air.job, outcome, started_at=on_air.first_started_at, ended_at=now, seconds_played=played,
                     reason=reason, kind="filler" if on_air.substitute else None, audio_sha256=on_air.audio_sha256)

    def _record(self, job: Job, outcome: str, *, reason: str | None = None, started_at: datetime | None = None,
                ended_at: datetime | None = None, seconds_played: float = 0.0, kind: str | None = None,
                audio_sha256: str | None = None) -> None:
        zone = self._zone or job.scheduled_at.tzinfo
        event = AsRunEvent(
            outcome=outcome, entry_id=job.entry_id, occurrence_key=job.occurrence_key, kind=kind or job.kind,
            scheduled_at=job.scheduled_at.astimezone(zone), slot_id=job.slot_id, item_id=job.item_id,
            # A relay names a file only when its fallback played.
            audio_sha256=audio_sha256 or (job.audio.sha256 if job.audio is not None and not job.stream_url else None),
            started_at=started_at.astimezone(zone) if started_at else None,
            ended_at=ended_at.astimezone(zone) if ended_at else None,
            seconds_played=max(0.0, seconds_played), reason=reason,
        )
        self._done.add(job.key)
        self._done_ids.add(job.entry_id)
        self.asrun.record(event)
        log.info("as-run: %s %s%s", outcome, job.entry_id, f" ({reason})" if reason else "")
        if self.on_event is not None:
            self.on_event(event)


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def _secs(delta: timedelta) -> str:
    return f"{delta.total_seconds():.1f}"
