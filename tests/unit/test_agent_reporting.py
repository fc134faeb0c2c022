"""The as-run queue, its delivery in batches, the heartbeat body and remote commands, against a fake server."""

from __future__ import annotations

import subprocess
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest

from stations.agent.agent import Agent
from stations.agent.asrun import AsRunEvent, AsRunLog
from stations.agent.clock import ManualClock
from stations.agent.commands import CommandHandler, VolumeControl, parse_command
from stations.agent.config import parse_config
from stations.agent.server import ServerError

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)


def event(entry_id: str, outcome: str = "played", **fields) -> AsRunEvent:
    return AsRunEvent(outcome=outcome, entry_id=entry_id, occurrence_key="slot1@2026-11-29", kind="item",
                      scheduled_at=NOW, **fields)


class FakeServer:
    """Records what the agent sends; ``fail`` makes the next calls of a kind raise."""

    def __init__(self):
        self.batches: list[list[dict]] = []
        self.heartbeats: list[dict] = []
        self.acks: list[tuple[int, bool, str]] = []
        self.downloads: list[str] = []
        self.fail: dict[str, list[ServerError]] = {}

    def _maybe_fail(self, what: str) -> None:
        if self.fail.get(what):
            raise self.fail[what].pop(0)

    def post_events(self, events):
        self._maybe_fail("events")
        self.batches.append(events)
        return {"accepted": len(events), "duplicates": 0}

    def post_heartbeat(self, body):
        self._maybe_fail("heartbeat")
        self.heartbeats.append(body)
        return {"server_time": NOW.isoformat()}

    def ack_command(self, command_id, ok, detail):
        self._maybe_fail("ack")
        self.acks.append((command_id, ok, detail))


@pytest.fixture
def agent(tmp_path):
    config = parse_config({"server_url": "http://127.0.0.1:9", "token": "st_x", "station": "HG1-01",
                           "cache_dir": str(tmp_path / "cache"), "player": ["true", "{file}"], "volume": 60})
    server = FakeServer()
    agent = Agent(config, client=server)
    yield agent, server
    agent.close()


def test_events_survive_a_restart_until_delivered(tmp_path):
    log = AsRunLog(tmp_path / "asrun.sqlite3")
    first, second = event("a"), event("b", "skipped", reason="late")
    log.record(first, now=1.0)
    log.record(second, now=2.0)
    log.close()
    log = AsRunLog(tmp_path / "asrun.sqlite3")
    pending = log.pending()
    assert [e["event_id"] for e in pending] == [first.event_id, second.event_id]
    assert pending[1] == {"event_id": second.event_id, "outcome": "skipped", "entry_id": "b",
                          "occurrence_key": "slot1@2026-11-29", "slot_id": None, "item_id": None,
                          "audio_sha256": None, "kind": "item", "scheduled_at": "2026-11-29T06:00:00+00:00",
                          "started_at": None, "ended_at": None, "seconds_played": 0.0, "reason": "late"}
    log.mark_delivered([first.event_id], now=3.0)
    assert [e["entry_id"] for e in log.pending()] == ["b"] and log.pending_count() == 1
    assert log.handled_entries() == {("a", "2026-11-29T06:00:00+00:00"), ("b", "2026-11-29T06:00:00+00:00")}
    # Only delivered events are ever forgotten.
    assert log.prune(older_than_s=0, now=10.0) == 1 and log.pending_count() == 1
    log.close()


def test_an_event_must_use_the_protocol_words():
    with pytest.raises(ValueError, match="outcome"):
        event("a", "aired")
    with pytest.raises(ValueError, match="kind"):
        AsRunEvent(outcome="played", entry_id="a", occurrence_key="k", kind="music", scheduled_at=NOW)


def test_events_go_in_batches_of_200_and_only_a_200_marks_them_delivered(agent):
    agent, server = agent
    recorded = [event(f"e{i}") for i in range(450)]
    for i, one in enumerate(recorded):
        agent.asrun.record(one, now=float(i))
    server.fail["events"] = [ServerError("connection refused")]
    with pytest.raises(ServerError):
        agent.deliver_events()
    assert server.batches == [] and agent.asrun.pending_count() == 450

    assert agent.deliver_events() == 450
    assert [len(batch) for batch in server.batches] == [200, 200, 50]
    sent = [e["event_id"] for batch in server.batches for e in batch]
    assert sent == [e.event_id for e in recorded] and len(set(sent)) == 450
    assert agent.deliver_events() == 0 and agent.asrun.pending_count() == 0


def test_a_batch_cut_off_is_sent_again_with_the_same_ids(agent):
    agent, server = agent
    for i in range(250):
        agent.asrun.record(event(f"e{i}"), now=float(i))
    original = server.post_events
    calls = {"n": 0}

    def second_fails(events):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ServerError("read timed out")
        return original(events)

    server.post_events = second_fails
    with pytest.raises(ServerError):
        agent.deliver_events()
    assert agent.asrun.pending_count() == 50
    agent.deliver_events()
    assert [len(b) for b in server.batches] == [200, 50]
    assert len({e["event_id"] for b in server.batches for e in b}) == 250


def test_an_event_the_server_refuses_does_not_hold_back_the_others(agent):
    agent, server = agent
    good = [event(f"e{i}") for i in range(3)]
    bad = event("bad")
    for i, one in enumerate([good[0], bad, good[1], good[2]]):
        agent.asrun.record(one, now=float(i))
    original = server.post_events

    def refuse_the_bad_one(events):
        if any(e["entry_id"] == "bad" for e in events):
            raise ServerError("HTTP 422 events[1].kind: bad", 422)
        return original(events)

    server.post_events = refuse_the_bad_one
    assert agent.deliver_events() == 3
    assert [e["entry_id"] for b in server.batches for e in b] == ["e0", "e1", "e2"]
    assert agent.asrun.pending_count() == 0
    assert agent.asrun.rejected() == [(bad.event_id, "HTTP 422 events[1].kind: bad")]


def test_heartbeat_says_what_the_station_is_doing(agent):
    agent, server = agent
    agent.send_heartbeat()
    body = server.heartbeats[0]
    assert set(body) == {"agent_version", "disk_free_bytes", "volume", "state", "installed_version", "now_playing"}
    assert body["state"] == "idle" and body["now_playing"] is None and body["installed_version"] is None
    assert body["volume"] == 60 and body["disk_free_bytes"] > 0 and body["agent_version"]


def test_a_station_clock_far_from_the_servers_is_reported_in_the_log(agent, caplog):
    agent, server = agent
    agent.clock = ManualClock(NOW - timedelta(minutes=5))
    agent.send_heartbeat()
    assert "clock is 300 s behind the server's: check NTP" in caplog.text
    caplog.clear()
    agent.clock = ManualClock(NOW + timedelta(seconds=10))
    agent.send_heartbeat()
    assert "NTP" not in caplog.text


class FakeEngine:
    def __init__(self):
        self.calls = []

    def _done(self, result) -> Future:
        future = Future()
        future.set_result(result)
        return future

    def stop_playback(self, command_id, stream_url=None):
        self.calls.append(("stop", command_id) if stream_url is None else ("stop", command_id, stream_url))
        return self._done((True, "stopped a"))

    def play_now(self, command_id, audio, issued_at):
        self.calls.append(("play_now", command_id, audio.sha256, issued_at))
        return self._done((True, "playing"))


@pytest.fixture
def handler(agent):
    agent, server = agent
    engine = FakeEngine()
    ran = []

    def run(argv, **kwargs):
        ran.append(argv)
        return subprocess.CompletedProcess(argv, 1 if "13%" in argv else 0, b"", b"amixer: no card")

    volume = VolumeControl(agent.asrun, 60, ["amixer", "sset", "Master", "{volume}%"], run=run)
    handler = CommandHandler(engine=engine, client=server, cache=agent.cache, asrun=agent.asrun, volume=volume,
                             installed=lambda: None, now=lambda: NOW)
    return handler, engine, server, ran, agent


def test_each_command_runs_once_and_is_acknowledged_each_time_it_comes(handler):
    handler, engine, server, ran, _ = handler
    stop = {"id": 5, "kind": "stop", "args": {}, "issued_at": "2026-11-29T06:00:00+07:00"}
    assert handler.handle(stop) == (True, "stopped a")
    assert handler.handle(stop) == (True, "stopped a")  # delivered again (HTTP and MQTT, or a lost ack)
    assert engine.calls == [("stop", 5)]
    assert server.acks == [(5, True, "stopped a"), (5, True, "stopped a")]


def test_a_live_announcements_stop_names_its_stream_to_the_engine(handler):
    handler, engine, server, *_ = handler
    url = "http://radio.example:8000/live-ab12"
    assert handler.handle({"id": 6, "kind": "stop", "args": {"live": 3, "url": url}}) == (True, "stopped a")
    assert engine.calls == [("stop", 6, url)]


def test_set_volume_is_kept_and_applied_with_the_volume_command(handler):
    handler, _, server, ran, agent = handler
    assert handler.handle({"id": 1, "kind": "set_volume", "args": {"volume": 35}}) == (True, "volume 35")
    assert ran == [["amixer", "sset", "Master", "35%"]] and handler.volume.volume == 35
    ok, detail = handler.handle({"id": 2, "kind": "set_volume", "args": {"volume": 13}})
    assert not ok and "exited with 1: amixer: no card" in detail and handler.volume.volume == 13
    assert handler.handle({"id": 3, "kind": "set_volume", "args": {"volume": 130}})[0] is False
    assert agent.heartbeat_body()["volume"] == 13  # the agent reports the stored volume, kept across restarts


@pytest.mark.parametrize(("raw", "detail"), [
    ({"id": 7, "kind": "reboot", "args": {}}, "unknown command kind 'reboot'"),
    ({"id": 8, "kind": "play_now", "args": {"sha256": "xyz"}}, "sha256 must be 64 lowercase hex digits"),
    ({"id": 9, "kind": "stop", "args": [1]}, "bad command: args must be an object"),
    ({"id": 10, "kind": "stop", "args": {"live": 3, "url": 7}}, "url must be a string, not 7"),
])
def test_bad_commands_are_refused_in_their_ack(handler, raw, detail):
    handler, engine, server, *_ = handler
    ok, said = handler.handle(raw)
    assert not ok and detail in said and server.acks == [(raw["id"], False, said)] and engine.calls == []


def test_a_command_without_an_id_cannot_be_acknowledged(handler):
    handler, _, server, *_ = handler
    assert handler.handle({"kind": "stop"}) is None and server.acks == []
    with pytest.raises(ValueError, match="issued_at"):
        parse_command({"id": 1, "kind": "stop", "issued_at": "yesterday"}, NOW)
    # A time without an offset is taken as UTC.
    assert parse_command({"id": 1, "kind": "stop", "issued_at": "2026-11-29T06:00:00"}, NOW).issued_at == NOW


def test_an_ack_that_did_not_arrive_is_sent_again_until_it_does(handler):
    handler, engine, server, *_ = handler
    server.fail["ack"] = [ServerError("connection refused")]
    handler.handle({"id": 11, "kind": "stop"})
    assert server.acks == []
    handler.retry_acks()
    handler.retry_acks()
    assert server.acks == [(11, True, "stopped a")] and engine.calls == [("stop", 11)]
