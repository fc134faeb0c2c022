"""The agent's threads: playout, sync, reporting (as-run events and heartbeat), commands and MQTT.

Each loop survives the failure of the others and of the network: playout never waits for the server, and the
other loops retry with a delay. :meth:`Agent.stop` (SIGTERM) ends them all; what is on air is stopped and logged.
"""

from __future__ import annotations

import json
import logging
import queue
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from stations.agent import AGENT_VERSION
from stations.agent.asrun import BATCH, AsRunLog
from stations.agent.cache import AudioCache, ManifestStore, sha256_of
from stations.agent.clock import Clock, SystemClock
from stations.agent.commands import CommandHandler, VolumeControl
from stations.agent.config import AgentConfig
from stations.agent.jobs import Filler
from stations.agent.nudges import MqttListener
from stations.agent.player import CommandPlayer, Player
from stations.agent.playout import Playout
from stations.agent.server import ServerClient, ServerError
from stations.agent.sync import Syncer

log = logging.getLogger(__name__)

ASRUN_NAME = "asrun.sqlite3"
RETRY_S = 30.0  # the longest a failed report or command poll waits before trying again
MISSING_ENDPOINT_S = 300.0  # a server without the commands endpoint is asked again this rarely
# While MQTT carries commands, the HTTP command endpoint is only swept this often, for what MQTT missed; the
# long poll (and its held connection on the server) is for when MQTT is down or not configured.
MQTT_SWEEP_S = 300.0
EARLY_ANSWER_S = 1.0  # a long poll answered with nothing sooner than this is not repeated sooner than this
CLOCK_SKEW_WARN_S = 30.0
INBOX_COMMANDS_S = 1.0  # how often the inbox is looked at for pushed commands (an emergency waits this long)
JOIN_S = 5.0  # for the loops to end after a stop
LAST_DELIVERY_S = 3.0  # systemd waits 20 s for a stop; the events stay queued if the link is slow
REFUSED = frozenset({400, 422})  # the server read the events and refused them: sending them again cannot help


class Agent:
    """One station agent, built from its configuration; tests may give it a clock, a player or a client."""

    def __init__(self, config: AgentConfig, *, clock: Clock | None = None, player: Player | None = None,
                 client: ServerClient | None = None, streamer: Player | None = None):
        self.config = config
        config.cache_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock or SystemClock()
        self.asrun = AsRunLog(config.cache_dir / ASRUN_NAME)
        self.cache = AudioCache(config.cache_dir)
        self._stop = threading.Event()
        # Backoff waits end at once when the agent stops, so a retrying loop does not hold up the shutdown.
        self.client = client or ServerClient(config.server_url, config.token, config.station,
                                             timeout_s=config.http_timeout_s, sleep=self._stop.wait)
        self._sync_now = threading.Event()
        self._report_now = threading.Event()
        self._mqtt_commands: queue.Queue[dict[str, Any]] = queue.Queue()
        self.syncer = Syncer(client=self.client, cache=self.cache, store=ManifestStore(config.cache_dir),
                             asrun=self.asrun, station=config.station, now=self.clock.now,
                             inbox_dir=config.inbox_dir, on_install=lambda _manifest: self.engine.wake())
        self.engine = Playout(
            clock=self.clock, player=player or CommandPlayer(config.player, config.player_env), cache=self.cache,
            asrun=self.asrun, schedule=lambda: self.syncer.installed, late_skip_s=config.late_skip_s,
            emergency_resume=config.emergency_resume, timeout_margin_s=config.player_timeout_margin_s,
            filler=load_filler(config.filler_file), on_event=lambda _event: self._report_now.set(),
            streamer=streamer or CommandPlayer(config.stream_command, config.player_env),
            stream_retry_s=config.stream_retry_s)
        self.volume = VolumeControl(self.asrun, config.volume, config.volume_command)
        self.commands = CommandHandler(engine=self.engine, client=self.client, cache=self.cache, asrun=self.asrun,
                                       volume=self.volume, installed=lambda: self.syncer.installed,
                                       now=self.clock.now,
                                       inbox_audio=config.inbox_dir / "audio" if config.inbox_dir else None)
        self._threads: list[threading.Thread] = []
        self._inbox_done: set[str] = set()  # pushed command files handled but not removable
        self._mqtt: MqttListener | None = None

    # -- one-shot actions (also what the loops call) ---------------------------------------------------------

    def sync_once(self) -> list[str]:
        """Fetch and install a new manifest if there is one; the problems met (empty: all well)."""
        return self.syncer.sync()

    def deliver_events(self) -> int:
        """Send the undelivered as-run events in batches of 200; how many the server took. Raises ServerError."""
        sent = 0
        while events := self.asrun.pending(BATCH):
            try:
                answer = self.client.post_events(events)
            except ServerError as exc:
                if exc.status not in REFUSED:
                    raise
                # One bad event must not hold back all the others for ever: find it by sending one at a time.
                sent += self._deliver_one_by_one(events)
                continue
            self.asrun.mark_delivered([event["event_id"] for event in events])
            sent += len(events)
            log.info("delivered %d as-run events (%s accepted, %s duplicates)", len(events),
                     answer.get("accepted"), answer.get("duplicates"))
            if len(events) < BATCH:
                break
        return sent

    def _deliver_one_by_one(self, events: list[dict[str, Any]]) -> int:
        sent = 0
        for event in events:
            try:
                self.client.post_events([event])
            except ServerError as exc:
                if exc.status not in REFUSED:
                    raise
                log.error("the server refused as-run event %s for good: %s (%s)", event["event_id"], exc, event)
                self.asrun.mark_rejected(event["event_id"], str(exc))
                continue
            self.asrun.mark_delivered([event["event_id"]])
            sent += 1
        return sent

    def heartbeat_body(self) -> dict[str, Any]:
        state, now_playing = self.engine.status()
        installed = self.syncer.installed
        return {
            "agent_version": AGENT_VERSION,
            "disk_free_bytes": shutil.disk_usage(self.config.cache_dir).free,
            "volume": self.volume.volume,
            "state": state,
            "installed_version": installed.version if installed else None,
            "now_playing": now_playing,
        }

    def send_heartbeat(self) -> dict[str, Any]:
        answer = self.client.post_heartbeat(self.heartbeat_body())
        try:
            skew = (datetime.fromisoformat(answer["server_time"]) - self.clock.now()).total_seconds()
        except (KeyError, TypeError, ValueError):
            return answer
        if abs(skew) > CLOCK_SKEW_WARN_S:
            # Entries air by this box's clock: a wrong clock airs everything early or late.
            log.warning("this station's clock is %.0f s %s the server's: check NTP", abs(skew),
                        "behind" if skew > 0 else "ahead of")
        return answer

    # -- running -------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Run every loop until :meth:`stop`; returns when they have ended."""
        ok, detail = self.volume.apply()
        (log.info if ok else log.warning)("volume at start: %s", detail)
        self._start("playout", self.engine.run)
        self._start("sync", self._sync_loop)
        self._start("report", self._report_loop)
        if self.config.commands_wait_s > 0:
            self._start("commands", self._command_loop)
        if self.config.inbox_dir is not None:
            self._start("inbox-commands", self._inbox_command_loop)
        if self.config.mqtt_url:
            self._start("mqtt-commands", self._mqtt_command_loop)
            self._mqtt = MqttListener(self.config.mqtt_url, self.config.station, self.config.mqtt_topic_prefix,
                                      on_manifest=self._nudged, on_command=self._mqtt_commands.put)
            self._mqtt.start()
        log.info("station agent %s for %s started (server %s)", AGENT_VERSION, self.config.station,
                 self.config.server_url)
        self._stop.wait()
        self._shutdown()

    def stop(self) -> None:
        self._stop.set()
        self._sync_now.set()
        self._report_now.set()

    def close(self) -> None:
        self.asrun.close()

    def _start(self, name: str, target) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _shutdown(self) -> None:
        if self._mqtt is not None:
            self._mqtt.stop()
        self.engine.stop()
        # One deadline for all the loops, not one each: a download or a post in flight may hold its thread, and
        # the threads are daemons that end with the process anyway. The command thread may sit in a long poll.
        deadline = time.monotonic() + JOIN_S
        for thread in self._threads:
            thread.join(timeout=0.1 if thread.name == "commands" else max(0.1, deadline - time.monotonic()))
        # The last events (what was on air when stopped), if the link allows it soon; else they wait in the log.
        last = threading.Thread(target=self._deliver_last, name="last-events", daemon=True)
        last.start()
        last.join(timeout=LAST_DELIVERY_S)
        log.info("station agent stopped")

    def _deliver_last(self) -> None:
        try:
            self.deliver_events()
        except ServerError as exc:
            log.info("last as-run events stay queued: %s", exc)

    def _sync_loop(self) -> None:
        while not self._stop.is_set():
            self._sync_now.clear()
            try:
                self.syncer.sync()
            except Exception:  # noqa: BLE001 - keep syncing whatever went wrong this round
                log.exception("sync round failed")
            self._sync_now.wait(self.config.poll_interval_s)

    def _report_loop(self) -> None:
        next_heartbeat = 0.0
        retry_events_at = 0.0
        last_prune = 0.0
        while not self._stop.is_set():
            self._report_now.clear()
            now = time.monotonic()
            if now >= retry_events_at:
                try:
                    self.deliver_events()
                except ServerError as exc:
                    log.warning("as-run events not delivered (%d queued): %s", self.asrun.pending_count(), exc)
                    retry_events_at = now + min(RETRY_S, self.config.heartbeat_interval_s)
            if now >= next_heartbeat:
                try:
                    self.send_heartbeat()
                except ServerError as exc:
                    log.warning("heartbeat not delivered: %s", exc)
                next_heartbeat = now + self.config.heartbeat_interval_s
            if now - last_prune > 3600:
                self.asrun.prune()
                last_prune = now
            deadline = next_heartbeat
            if retry_events_at > now and self.asrun.pending_count():
                deadline = min(deadline, retry_events_at)
            self._report_now.wait(max(0.0, deadline - time.monotonic()))

    def _command_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.commands.retry_acks()
                if self._mqtt is not None and self._mqtt.listening.is_set():
                    for raw in self.client.poll_commands(0):
                        self.commands.handle(raw)
                    failures = 0
                    self._wait_while_mqtt_listens(MQTT_SWEEP_S)
                    continue
                asked = time.monotonic()
                found = self.client.poll_commands(self.config.commands_wait_s)
                for raw in found:
                    self.commands.handle(raw)
                failures = 0
                # Nothing, at once: the server ended this poll because another poll of this station came (two
                # agents with one token?) or because it is stopping. Asking again at once would loop.
                if not found and time.monotonic() - asked < min(EARLY_ANSWER_S, self.config.commands_wait_s / 2):
                    self._stop.wait(EARLY_ANSWER_S)
                continue
            except ServerError as exc:
                failures += 1
                missing = exc.status in (404, 405)
                delay = MISSING_ENDPOINT_S if missing else min(RETRY_S, 2.0 ** failures)
                (log.info if missing else log.warning)("command poll: %s; again in %.0f s", exc, delay)
            except Exception:  # noqa: BLE001 - keep listening whatever a command did
                log.exception("command handling failed")
                delay = RETRY_S
            self._stop.wait(delay)

    def _wait_while_mqtt_listens(self, seconds: float) -> None:
        """Up to ``seconds``, ending early when the agent stops or MQTT drops (the long poll takes over)."""
        deadline = time.monotonic() + seconds
        while (not self._stop.is_set() and self._mqtt is not None and self._mqtt.listening.is_set()
               and time.monotonic() < deadline):
            self._stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))

    def take_inbox_commands(self) -> int:
        """Act on the ``commands/*.json`` files an SSH push left in the inbox (each is removed once handled)."""
        folder = self.config.inbox_dir / "commands" if self.config.inbox_dir else None
        if folder is None or not folder.is_dir():
            return 0
        taken = 0
        for path in sorted(folder.glob("*.json")):  # never the ".<name>.<random>.part" files being written
            if path.name in self._inbox_done:
                continue
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("inbox command %s unreadable (%s); skipped", path.name, exc)
            else:
                self.commands.handle(raw)
                taken += 1
            try:
                path.unlink(missing_ok=True)
            except PermissionError:
                # The inbox belongs to the push user (install.sh): the service's next push removes old ones.
                self._inbox_done.add(path.name)
        return taken

    def _inbox_command_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.take_inbox_commands()
            except Exception:  # noqa: BLE001 - keep watching whatever a command did
                log.exception("inbox command handling failed")
            self._stop.wait(INBOX_COMMANDS_S)

    def _mqtt_command_loop(self) -> None:
        while not self._stop.is_set():
            try:
                raw = self._mqtt_commands.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.commands.handle(raw)
            except Exception:  # noqa: BLE001
                log.exception("command handling failed")

    def _nudged(self, payload: dict[str, Any]) -> None:
        installed = self.syncer.installed
        if installed is None or payload.get("etag") != installed.etag:
            log.info("MQTT: version %s is ready; fetching it now", payload.get("version"))
            self._sync_now.set()


def load_filler(path: Path | None) -> Filler | None:
    if path is None:
        return None
    return Filler(path=path, sha256=sha256_of(path), size=path.stat().st_size)
