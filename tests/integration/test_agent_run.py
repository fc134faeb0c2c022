"""A running agent (all its threads, a real ffplay) against the live service: it airs on time, reports, obeys.

The service's manifest, audio and receipt endpoints are the real ones. Its as-run events, heartbeat and
command endpoints are not in the service yet, so :class:`ProtocolStandIn` answers them in front of the real app,
exactly as the station protocol describes them (bearer token, batches of at most 200 events, duplicates
ignored by event id, long-polled commands, acks). The agent's clock is the wall clock moved to just before the
first entry, so the entry airs a second or two into the test.
"""

from __future__ import annotations

import json
import queue
import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import paho.mqtt.client as paho
import pytest

from stations.agent.agent import Agent
from stations.agent.clock import SystemClock
from stations.agent.config import parse_config
from stations.manifest import from_json
from tests.integration.test_agent_sync import FIRST_AIR, live_service, make_mp3s, sqlite_database
from tests.services import need_tool, port_open, unavailable

BROKER = ("127.0.0.1", 1883)
_PATH = re.compile(r"/api/v1/stations/(?P<code>[^/]+)/(?P<what>events|heartbeat|commands|commands/(?P<id>\d+)/ack)")


class ProtocolStandIn:
    """The events, heartbeat and commands endpoints of the station protocol, in memory, in front of the app."""

    def __init__(self, app):
        self.app = app
        self.tokens: dict[str, str] = {}
        self.events: dict[str, dict] = {}
        self.duplicates = 0
        self.heartbeats: list[dict] = []
        self.commands: queue.Queue[dict] = queue.Queue()
        self.acks: list[tuple[int, dict]] = []

    def __call__(self, environ, start_response):
        match = _PATH.fullmatch(environ["PATH_INFO"])
        if match is None:
            return self.app(environ, start_response)
        code, what = match["code"], match["what"]
        if environ.get("HTTP_AUTHORIZATION") != f"Bearer {self.tokens.get(code)}":
            return self._reply(start_response, 401, {"message": "Send the station's token."})
        body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)) or b"{}")
        if what == "events":
            events = body["events"]
            if len(events) > 200:
                return self._reply(start_response, 422, {"message": "at most 200 events"})
            accepted = 0
            for event in events:
                if event["event_id"] in self.events:
                    self.duplicates += 1
                else:
                    self.events[event["event_id"]] = event
                    accepted += 1
            return self._reply(start_response, 200, {"accepted": accepted, "duplicates": len(events) - accepted})
        if what == "heartbeat":
            self.heartbeats.append(body)
            return self._reply(start_response, 200, {"server_time": datetime.now(UTC).isoformat()})
        if what == "commands":
            wait = float(parse_qs(environ.get("QUERY_STRING", "")).get("wait", ["0"])[0])
            try:
                commands = [self.commands.get(timeout=min(wait, 2.0))]
            except queue.Empty:
                commands = []
            return self._reply(start_response, 200, {"commands": commands})
        self.acks.append((int(match["id"]), body))
        return self._reply(start_response, 200, {})

    @staticmethod
    def _reply(start_response, status: int, body: dict):
        data = json.dumps(body).encode()
        start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def played(self) -> list[dict]:
        return [e for e in list(self.events.values()) if e["outcome"] == "played"]


class ShiftedClock(SystemClock):
    """The wall clock, moved by a fixed offset: time runs at its real pace from a chosen moment."""

    def __init__(self, starts_at: datetime):
        self.offset = starts_at - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def database(tmp_path):
    yield from sqlite_database(tmp_path)


@pytest.fixture(scope="module")
def mp3s(tmp_path_factory):
    return make_mp3s(tmp_path_factory.mktemp("mp3"))


@pytest.fixture
def service(seeded, client, settings):
    stand_in = {}

    def wrap(app):
        stand_in["it"] = ProtocolStandIn(app)
        return stand_in["it"]

    for live in live_service(seeded, client, settings, wrap=wrap):
        stand_in["it"].tokens = live.tokens
        live.stand_in = stand_in["it"]
        yield live


def until(condition, timeout_s: float = 10.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Running:
    """An agent running all its loops in a thread; stopping it stops every loop and the player."""

    def __init__(self, agent: Agent):
        self.agent = agent
        self.thread = threading.Thread(target=agent.run, name="agent", daemon=True)

    def __enter__(self) -> Agent:
        self.thread.start()
        return self.agent

    def __exit__(self, *exc) -> None:
        self.agent.stop()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive()
        self.left_undelivered = self.agent.asrun.pending_count()
        self.agent.close()


def agent_for(service, tmp_path, clock, **extra) -> Agent:
    options = {"player": ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "{file}"],
               "player_env": {"SDL_AUDIODRIVER": "dummy"}, "poll_interval_s": 0.2, "heartbeat_interval_s": 0.2,
               "commands_wait_s": 1, **extra}
    return Agent(parse_config(service.config(tmp_path, **options)), clock=clock)


def test_a_running_agent_airs_on_time_reports_and_obeys_commands(service, tmp_path, mp3s):
    need_tool("ffplay")
    sha = service.place("Tin tỉnh", mp3s["news"])
    version = from_json(service.manifest_body()).version
    stand_in = service.stand_in
    clock = ShiftedClock(FIRST_AIR - timedelta(seconds=1))
    running = Running(agent_for(service, tmp_path, clock))
    with running:
        until(lambda: service.installed_version("HG1-01") == version, what="the receipt")
        played = until(stand_in.played, what="a played event")[0]
        assert played["entry_id"] == f"{service.slot_id}@2026-11-29T06:00:00#0"
        assert played["audio_sha256"] == sha and played["kind"] == "item" and played["reason"] is None
        assert played["scheduled_at"] == "2026-11-29T06:00:00+07:00"
        assert abs(datetime.fromisoformat(played["started_at"]) - FIRST_AIR) < timedelta(seconds=0.5)
        assert 0.9 <= played["seconds_played"] <= 2.5
        assert any(h["state"] == "playing" and h["now_playing"] == played["entry_id"] for h in stand_in.heartbeats)

        stand_in.commands.put({"id": 1, "kind": "set_volume", "args": {"volume": 40},
                               "issued_at": "2026-11-29T06:00:05+07:00"})
        until(lambda: stand_in.acks, what="the ack")
        assert stand_in.acks == [(1, {"ok": True, "detail": "volume 40"})]
        until(lambda: stand_in.heartbeats[-1]["volume"] == 40, what="a heartbeat with the new volume")
        beat = stand_in.heartbeats[-1]
        assert beat["installed_version"] == version and beat["state"] == "idle" and beat["disk_free_bytes"] > 0

        stand_in.commands.put({"id": 2, "kind": "play_now", "args": {"sha256": sha, "url": f"/api/v1/audio/{sha}"},
                               "issued_at": "2026-11-29T06:00:06+07:00"})
        until(lambda: len(stand_in.acks) == 2, what="the play_now ack")
        assert stand_in.acks[1] == (2, {"ok": True, "detail": "playing"})
        command_event = until(lambda: [e for e in stand_in.played() if e["kind"] == "command"], what="its event")[0]
        assert command_event["entry_id"] == "command-2" and command_event["audio_sha256"] == sha
    # Stopping delivered the last events; each reached the service once.
    assert running.left_undelivered == 0 and stand_in.duplicates == 0
    assert len(stand_in.events) == len({e["event_id"] for e in stand_in.events.values()}) >= 2


@pytest.fixture
def broker():
    if not port_open(*BROKER):
        unavailable("Mosquitto is not listening on 127.0.0.1:1883")
    prefix = f"test-{secrets.token_hex(4)}/stations"
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.connect(*BROKER)
    client.loop_start()

    def publish(topic: str, payload: dict | None, retain: bool = False) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        client.publish(f"{prefix}/{topic}", data, qos=1, retain=retain).wait_for_publish(5)

    yield prefix, publish
    publish("HG1-01/manifest", None, retain=True)  # an empty retained message deletes the retained one
    client.loop_stop()
    client.disconnect()


def test_an_mqtt_nudge_fetches_at_once_and_mqtt_commands_are_obeyed(service, tmp_path, mp3s, broker):
    prefix, publish = broker
    service.place("Tin tỉnh", mp3s["news"])
    first = from_json(service.manifest_body()).version
    stand_in = service.stand_in
    clock = ShiftedClock(FIRST_AIR - timedelta(hours=1))
    agent = agent_for(service, tmp_path, clock, mqtt_url=f"mqtt://{BROKER[0]}:{BROKER[1]}", mqtt_topic_prefix=prefix,
                      commands_wait_s=0, poll_interval_s=60)
    with Running(agent):
        until(lambda: service.installed_version("HG1-01") == first, what="the first install")
        time.sleep(0.3)  # let the subscription settle
        service.place("Thông báo", mp3s["notice"])
        second = from_json(service.manifest_body())
        started = time.monotonic()
        publish("HG1-01/manifest", {"version": second.version, "etag": second.etag}, retain=True)
        until(lambda: service.installed_version("HG1-01") == second.version, what="the nudged install")
        assert time.monotonic() - started < 5  # not the next poll, a minute away

        publish("HG1-01/commands", {"id": 7, "kind": "set_volume", "args": {"volume": 25},
                                    "issued_at": "2026-11-29T05:00:00+07:00"})
        until(lambda: stand_in.acks, what="the ack of an MQTT command")
        assert stand_in.acks == [(7, {"ok": True, "detail": "volume 25"})]
