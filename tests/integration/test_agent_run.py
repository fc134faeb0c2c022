"""A running agent (all its threads, a real ffplay) against the live service: it airs on time, reports, obeys.

Every endpoint the agent talks to is the service's own: manifest, audio, receipts, as-run events, heartbeat and
commands (long-polled over HTTP, or published on MQTT when the service has a broker). The checks read what the
service stored, in its database and through the operator's API; commands are issued as the operator would. The
agent's clock is the wall clock moved to just before the first entry, so the entry airs a second or two into the
test; the service's clock stands still the evening before.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho
import pytest
from sqlalchemy import select

from broadcast.db.models import (
    AudioAsset,
    NewsItem,
    PlaybackEvent,
    PlaybackOutcome,
    Station,
    StationManifest,
    StationStatus,
)
from broadcast.services import users
from stations.agent import AGENT_VERSION
from stations.agent.agent import Agent
from stations.agent.clock import SystemClock
from stations.agent.config import parse_config
from tests import audio_fixtures
from tests.e2e.agents import duration_ms
from tests.integration.test_agent_sync import FIRST_AIR, NOW, live_service, make_mp3s, sqlite_database
from tests.services import need_tool, port_open, unavailable

BROKER = ("127.0.0.1", 1883)


class ShiftedClock(SystemClock):
    """The wall clock, moved by a fixed offset: time runs at its real pace from a chosen moment.

    ``held``: time stands at that moment until :meth:`release`, so a test of airing on time does not depend on how
    fast a loaded machine starts the agent and hands it its playlist."""

    def __init__(self, starts_at: datetime, *, held: bool = False):
        self.starts_at = starts_at
        self.released_at = None if held else datetime.now(UTC)

    def release(self) -> None:
        self.released_at = datetime.now(UTC)

    def now(self) -> datetime:
        if self.released_at is None:
            return self.starts_at
        return self.starts_at + (datetime.now(UTC) - self.released_at)


@pytest.fixture
def database(tmp_path):
    yield from sqlite_database(tmp_path)


@pytest.fixture(scope="module")
def mp3s(tmp_path_factory):
    return make_mp3s(tmp_path_factory.mktemp("mp3"))


@pytest.fixture
def service(seeded, client, settings):
    """The live service, with the commune operator's token besides the editor's and the approver's."""
    for live in live_service(seeded, client, settings):
        with live.database.sessions() as session:
            token = users.issue_api_token(session, users.get_user(session, "vanhanh"), "t")
        live.people["vanhanh"] = {"Authorization": f"Bearer {token}"}
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
        self.logged = self.agent.asrun.all_events()
        self.agent.close()


def agent_for(service, tmp_path, clock, **extra) -> Agent:
    options = {"player": ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "{file}"],
               "player_env": {"SDL_AUDIODRIVER": "dummy"}, "poll_interval_s": 0.2, "heartbeat_interval_s": 0.2,
               "commands_wait_s": 1, **extra}
    return Agent(parse_config(service.config(tmp_path, **options)), clock=clock)


def station(service, code: str = "HG1-01") -> Station:
    with service.database.sessions() as session:
        return session.scalar(select(Station).where(Station.code == code))


def current_version(service, code: str = "HG1-01") -> int:
    """The version of the station's manifest the service compiled last, read from the database: the test does
    not fetch the manifest with the station's token, so only the agent does (and it alone records the fetch)."""
    with service.database.sessions() as session:
        return session.scalar(select(StationManifest.version).join(Station, Station.id == StationManifest.station_id)
                              .where(Station.code == code))


def stored_events(service, code: str = "HG1-01") -> list[PlaybackEvent]:
    """What the service stored of the station's as-run log, in arrival order."""
    with service.database.sessions() as session:
        return list(session.scalars(select(PlaybackEvent).join(Station).where(Station.code == code)
                                    .order_by(PlaybackEvent.id)))


def played(service, code: str = "HG1-01") -> list[PlaybackEvent]:
    return [e for e in stored_events(service, code) if e.outcome is PlaybackOutcome.PLAYED]


def issue(service, code: str = "HG1-01", **command) -> int:
    """Issue a command as the commune operator; returns its id."""
    answer = service.client.post(f"/api/v1/stations/{code}/commands", json=command, headers=service.people["vanhanh"])
    assert answer.status_code == 201, answer.json
    assert answer.json["state"] == "pending"
    return answer.json["id"]


def command_state(service, command_id: int, code: str = "HG1-01") -> tuple[str, str | None]:
    """(state, detail) of a command as the operator's command list shows it."""
    answer = service.client.get(f"/api/v1/stations/{code}/commands", headers=service.people["vanhanh"])
    assert answer.status_code == 200, answer.json
    [command] = [c for c in answer.json["commands"] if c["id"] == command_id]
    return command["state"], command["detail"]


def test_a_running_agent_airs_on_time_reports_and_obeys_commands(service, tmp_path, mp3s):
    need_tool("ffplay")
    sha = service.place("Tin tỉnh", mp3s["news"])
    version = current_version(service)
    clock = ShiftedClock(FIRST_AIR - timedelta(seconds=1), held=True)
    running = Running(agent_for(service, tmp_path, clock))
    with running:
        until(lambda: service.installed_version("HG1-01") == version, what="the receipt")
        clock.release()  # a second before the session, with the playlist and its audio in hand
        # The heartbeat sent while the entry is on air (it plays for a second) marks the station playing.
        until(lambda: station(service).status is StationStatus.PLAYING, what="a heartbeat saying it plays")
        [aired] = until(lambda: played(service), what="a played event")
        assert aired.entry_id == f"{service.slot_id}@2026-11-29T06:00:00#0"
        assert aired.audio_sha256 == sha and aired.kind == "item" and aired.reason is None
        assert aired.scheduled_at == FIRST_AIR
        assert abs(aired.started_at - FIRST_AIR) < timedelta(seconds=0.5)
        assert 0.9 <= aired.seconds_played <= 2.5
        # The operator's day view compares it with the plan: the session aired.
        day = service.client.get("/api/v1/stations/HG1-01/asrun/2026-11-29", headers=service.people["vanhanh"])
        assert day.status_code == 200, day.json
        [session] = day.json["occurrences"]
        assert session["state"] == "aired" and session["starts_at"] == "2026-11-29T06:00:00+07:00"
        assert [e["event_id"] for e in session["events"]] == [aired.event_id]

        volume = issue(service, kind="set_volume", volume=40)
        until(lambda: command_state(service, volume) == ("done", "volume 40"), what="the ack of set_volume")
        until(lambda: station(service).volume == 40, what="a heartbeat with the new volume")
        beat = station(service)
        assert beat.agent_version == AGENT_VERSION and beat.installed_version == version
        assert beat.status is StationStatus.ONLINE and beat.disk_free_bytes > 0
        assert beat.last_contact_at == NOW  # the service's clock, which stands still

        play = issue(service, kind="play_now", sha256=sha)
        until(lambda: command_state(service, play) == ("done", "playing"), what="the ack of play_now")
        [by_command] = until(lambda: [e for e in played(service) if e.kind == "command"], what="its played event")
        assert by_command.entry_id == f"command-{play}" and by_command.audio_sha256 == sha
    # Stopping delivered the last events; the service holds each event of the station's log exactly once.
    assert running.left_undelivered == 0
    stored = stored_events(service)
    assert sorted(e.event_id for e in stored) == sorted(e["event_id"] for e in running.logged)
    assert len({e.event_id for e in stored}) == len(stored) >= 2
    assert sorted(e.entry_id for e in played(service)) == [aired.entry_id, f"command-{play}"]


@pytest.fixture
def broker():
    """A topic prefix of its own on the local Mosquitto; its retained nudge is cleared afterwards."""
    if not port_open(*BROKER):
        unavailable("Mosquitto is not listening on 127.0.0.1:1883")
    prefix = f"test-{secrets.token_hex(4)}/stations"
    yield prefix
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.connect(*BROKER)
    client.loop_start()
    # An empty retained message deletes the retained one.
    client.publish(f"{prefix}/HG1-01/manifest", b"", qos=1, retain=True).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def test_the_service_nudges_over_mqtt_and_its_mqtt_commands_are_obeyed(service, tmp_path, mp3s, broker):
    mqtt_url = f"mqtt://{BROKER[0]}:{BROKER[1]}"
    # The service publishes manifest nudges and commands on the broker, as a service configured with one does.
    service.app.extensions["settings"] = service.app.extensions["settings"].model_copy(
        update={"mqtt_url": mqtt_url, "mqtt_topic_prefix": broker})
    service.place("Tin tỉnh", mp3s["news"])
    first = current_version(service)
    clock = ShiftedClock(FIRST_AIR - timedelta(hours=1))
    # No HTTP command poll, and a manifest poll a minute away: what arrives sooner came by MQTT.
    agent = agent_for(service, tmp_path, clock, mqtt_url=mqtt_url, mqtt_topic_prefix=broker, commands_wait_s=0,
                      poll_interval_s=60)
    with Running(agent):
        until(lambda: service.installed_version("HG1-01") == first, what="the first install")
        service.place("Thông báo", mp3s["notice"])  # compiled at once, and nudged
        second = current_version(service)
        started = time.monotonic()
        until(lambda: service.installed_version("HG1-01") == second, what="the nudged install")
        assert time.monotonic() - started < 5  # not the next poll, a minute away

        # The nudge proved the subscription live; a command the operator issues now reaches the agent only
        # through the broker.
        command = issue(service, kind="set_volume", volume=25)
        until(lambda: command_state(service, command) == ("done", "volume 25"), what="the ack of an MQTT command")


def emergency_item(service, mp3) -> int:
    """An emergency-class item with this real recording, as the editor would upload it."""
    payload = mp3.read_bytes()
    sha = hashlib.sha256(payload).hexdigest()
    (service.audio_dir / sha[:2]).mkdir(parents=True, exist_ok=True)
    (service.audio_dir / sha[:2] / f"{sha}.mp3").write_bytes(payload)
    created = service.client.post("/api/v1/items", headers=service.people["bientap"], json={
        "title": "Cảnh báo lũ quét", "body": "Di chuyển lên chỗ cao.", "item_class": "emergency"})
    assert created.status_code == 201, created.json
    with service.database.sessions() as session:
        session.get(NewsItem, created.json["id"]).audio_asset = AudioAsset(
            sha256=sha, size_bytes=len(payload), duration_ms=duration_ms(mp3), origin="upload")
        session.commit()
    return created.json["id"]


def send_emergency(service, item_id: int, **changes) -> int:
    """Requested by the editor, approved by the approver (the two-person rule): sent at once."""
    body = {"item_id": item_id, "areas": ["00694"], "risk_level": 5, "repeat_count": 2, "repeat_interval_s": 4,
            "expires_at": "2026-11-29T07:00", **changes}
    made = service.client.post("/api/v1/emergencies", json=body, headers=service.people["bientap"])
    assert made.status_code == 201, made.json
    approved = service.client.post(f"/api/v1/emergencies/{made.json['id']}/approve",
                                   headers=service.people["pheduyet"])
    assert approved.status_code == 200 and approved.json["state"] == "issued", approved.json
    return made.json["id"]


def tracked(service, broadcast_id: int) -> dict[str, tuple]:
    answer = service.client.get(f"/api/v1/emergencies/{broadcast_id}", headers=service.people["pheduyet"])
    assert answer.status_code == 200, answer.json
    return {s["code"]: (s["status"], s["plays"], s["detail"]) for s in answer.json["stations"]}


@pytest.mark.parametrize("path", ["long-poll", "mqtt"])
def test_an_emergency_interrupts_the_item_on_air_repeats_and_is_acknowledged(service, tmp_path, mp3s, path,
                                                                              request):
    need_tool("ffplay")
    extra = {}
    if path == "mqtt":
        prefix = request.getfixturevalue("broker")
        mqtt_url = f"mqtt://{BROKER[0]}:{BROKER[1]}"
        service.app.extensions["settings"] = service.app.extensions["settings"].model_copy(
            update={"mqtt_url": mqtt_url, "mqtt_topic_prefix": prefix})
        extra = {"mqtt_url": mqtt_url, "mqtt_topic_prefix": prefix, "commands_wait_s": 0}
    news = audio_fixtures.tone(tmp_path / "long-news.mp3", 12.0, freq=330)
    news_sha = service.place("Tin dài", news)
    warning = emergency_item(service, mp3s["warning"])
    clock = ShiftedClock(FIRST_AIR - timedelta(seconds=1))
    with Running(agent_for(service, tmp_path, clock, **extra)) as agent:
        until(lambda: agent.engine.status()[0] == "playing", what="the news on air")
        broadcast_id = send_emergency(service, warning)
        statuses = until(lambda: (t := tracked(service, broadcast_id))["HG1-01"][:2] == ("played", 2) and t,
                         timeout_s=30, what="both airings reported")
        assert statuses["HG1-02"][0] == "sent"  # no agent runs there: not acknowledged
        acked = service.client.get("/api/v1/stations/HG1-01/commands", headers=service.people["vanhanh"]).json
        [command] = [c for c in acked["commands"] if c["kind"] == "emergency"]
        assert command["state"] == "done" and command["detail"].startswith("received; airs 2 times from 06:00:")
        until(lambda: any(e.kind == "item" and e.reason is None for e in played(service)),
              timeout_s=30, what="the news aired again in full")
    events = [(e.entry_id, e.kind, e.outcome.value, e.reason) for e in stored_events(service)]
    first = f"{service.slot_id}@2026-11-29T06:00:00#0"
    # The 12 s news restarts after each 1 s airing (emergency_resume "restart"), 4 s apart, then airs whole.
    assert events == [
        (first, "item", "played", f"interrupted by emergency emergency-{broadcast_id}-0"),
        (f"emergency-{broadcast_id}-0", "emergency", "played", None),
        (first, "item", "played", f"interrupted by emergency emergency-{broadcast_id}-1"),
        (f"emergency-{broadcast_id}-1", "emergency", "played", None),
        (first, "item", "played", None),
    ]
    assert news_sha != command["args"]["sha256"]
