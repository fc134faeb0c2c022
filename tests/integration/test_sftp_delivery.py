"""The SFTP push job against a real sshd: queued by a compile, pushed, host keys pinned, failures retried."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broadcast import load_settings
from broadcast.channels.sftp import inbox_manifest
from broadcast.db.models import (
    AudioAsset,
    CommandKind,
    Delivery,
    DeliveryState,
    NewsItem,
    Station,
    StationCommand,
    StationManifest,
)
from broadcast.services import emergency_delivery, pushing, stations, users
from stations.agent.agent import Agent
from stations.agent.clock import ManualClock
from stations.agent.config import parse_config
from stations.manifest import from_json
from tests import audio_fixtures
from tests.e2e.agents import duration_ms
from tests.integration.test_agent_run import Running, ShiftedClock, until
from tests.integration.test_agent_sync import serving
from tests.services import free_port, need_tool
from tests.sshd import new_key

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 22:00 in Hà Giang
SLOT = {"name": "Buổi sáng", "area": "08", "start_time": "06:00", "duration_s": 600, "valid_from": "2026-11-28",
        "rrule": "FREQ=DAILY"}


@pytest.fixture
def settings(tmp_path, database, sshd):
    return load_settings(instance_path=tmp_path / "instance", database_url=database.url,
                         ssh_key_path=sshd.client_key_path, delivery_retry_base_s=20, delivery_retry_cap_s=600)


@pytest.fixture
def push_world(seeded, client, settings, sshd, tmp_path):
    seeded.extensions["clock"] = lambda: NOW
    database = seeded.extensions["database"]
    remote = tmp_path / "station-inbox"
    with database.sessions() as session:
        people = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name),
                                                                            "t")}
                  for name in ("bientap", "pheduyet", "vanhanh")}
        station = session.scalar(select(Station).where(Station.code == "DV-01"))
        station.ssh_host, station.ssh_port, station.ssh_user = sshd.host, sshd.port, sshd.username
        station.ssh_remote_dir, station.ssh_host_key = str(remote), sshd.host_key_line
        session.commit()
    slot_id = client.post("/api/v1/slots", json=SLOT, headers=people["bientap"]).json["id"]

    def place_item(title: str, payload: bytes) -> str:
        sha = hashlib.sha256(payload).hexdigest()
        path = settings.resolved_audio_dir / sha[:2] / f"{sha}.mp3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        created = client.post("/api/v1/items", json={"title": title, "body": "Một hai ba."},
                              headers=people["bientap"]).json
        with database.sessions() as session:
            session.get(NewsItem, created["id"]).audio_asset = AudioAsset(
                sha256=sha, size_bytes=len(payload), duration_ms=60_000, origin="tts")
            session.commit()
        client.post(f"/api/v1/items/{created['id']}/submit", headers=people["bientap"])
        client.post(f"/api/v1/items/{created['id']}/approve", headers=people["pheduyet"])
        placed = client.post("/api/v1/placements", headers=people["bientap"], json={
            "item_id": created["id"], "slot_id": slot_id, "targets": ["08"], "date_from": "2026-11-29",
            "date_until": "2026-11-30"})
        assert placed.status_code == 201, placed.json
        return sha

    return database, place_item, remote, people, client


def _deliveries(session):
    """DV-01's deliveries still meaning something (creating the slot compiled a first, empty version, which
    the placement's version superseded before any push)."""
    return list(session.scalars(select(Delivery).join(Station).where(
        Station.code == "DV-01", Delivery.state != DeliveryState.SUPERSEDED).order_by(Delivery.manifest_version)))


def test_a_compile_queues_a_push_and_the_job_delivers_it(push_world, settings):
    database, place_item, remote, _, _ = push_world
    sha = place_item("Tin tỉnh", b"ID3" + bytes(range(256)) * 100)
    with database.sessions() as session:
        [queued] = _deliveries(session)
        assert (queued.channel, queued.state) == ("sftp", DeliveryState.QUEUED)
        run = pushing.push_due(session, settings, now=NOW)
        assert (run.sent, run.failed) == (1, 0)
        body = session.get(StationManifest, queued.station_id).body
        [sent] = _deliveries(session)
        assert sent.state is DeliveryState.SENT and sent.attempts == 1 and sent.bytes_sent > 25_600
    assert (remote / "manifest.json").read_bytes() == inbox_manifest(body.encode())  # its audio named in the inbox
    assert hashlib.sha256((remote / "audio" / f"{sha}.mp3").read_bytes()).hexdigest() == sha

    second = place_item("Tin thứ hai", b"second" * 500)  # a new version supersedes nothing already sent
    with database.sessions() as session:
        run = pushing.push_due(session, settings, now=NOW)
        assert run.sent == 1 and run.audio_bytes == 3000  # only the new file went up
        assert [d.state for d in _deliveries(session)] == [DeliveryState.SENT, DeliveryState.SENT]
    assert {p.name for p in (remote / "audio").iterdir()} == {f"{sha}.mp3", f"{second}.mp3"}
    # The status shows each channel's newest delivery only, whatever history the table keeps.
    _, _, _, people, client = push_world
    [dv] = [s for s in client.get("/api/v1/deliveries", headers=people["bientap"]).json if s["code"] == "DV-01"]
    with database.sessions() as session:
        newest = max(d.manifest_version for d in _deliveries(session))
    assert [(c["channel"], c["version"], c["state"]) for c in dv["channels"]] == [("sftp", newest, "sent")]


def test_the_pushed_manifest_names_the_pushed_files_and_the_agent_gets_a_lost_one_from_the_server(
        push_world, settings, seeded, tmp_path):
    database, place_item, remote, _, _ = push_world
    shas = [place_item("Tin tỉnh", b"ID3" + bytes(range(256)) * 40), place_item("Thông báo", b"second" * 500)]
    with database.sessions() as session:
        assert pushing.push_due(session, settings, now=NOW).sent == 1
        token = stations.issue_token(session, stations.get_station(session, "DV-01"))
        served = from_json(session.get(StationManifest, session.scalar(
            select(Station.id).where(Station.code == "DV-01"))).body)

    # As the format documents it: a pushed manifest names audio/<sha256>.mp3, beside it in the inbox.
    pushed = from_json((remote / "manifest.json").read_bytes())
    urls = {e.audio.url for day in pushed.days for e in day.entries}
    assert urls == {f"audio/{sha}.mp3" for sha in shas} and all((remote / url).is_file() for url in urls)
    assert pushed.version == served.version

    # A file lost from the inbox (a station's disk, an operator): the agent fetches it over HTTP instead.
    (remote / "audio" / f"{shas[1]}.mp3").unlink()
    with serving(seeded) as url:
        config = parse_config({"server_url": url, "token": token, "station": "DV-01", "inbox_dir": str(remote),
                               "cache_dir": str(tmp_path / "cache"), "player": ["true", "{file}"],
                               "commands_wait_s": 0})
        agent = Agent(config, clock=ManualClock(NOW))
        try:
            installed = agent.syncer.sync_inbox()
        finally:
            agent.close()
    assert installed is not None and installed.etag == pushed.etag
    for sha in shas:
        assert hashlib.sha256((tmp_path / "cache" / "audio" / f"{sha}.mp3").read_bytes()).hexdigest() == sha


def test_a_changed_host_key_refuses_the_push_and_flags_the_station(push_world, settings, tmp_path):
    database, place_item, remote, people, client = push_world
    with database.sessions() as session:
        station = session.scalar(select(Station).where(Station.code == "DV-01"))
        station.ssh_host_key = new_key(tmp_path / "impostor")[1]  # pinned: another key than the box shows
        session.commit()
    place_item("Tin", b"x" * 1000)
    with database.sessions() as session:
        run = pushing.push_due(session, settings, now=NOW)
        assert (run.sent, run.failed) == (0, 1)
        [delivery] = _deliveries(session)
        assert delivery.state is DeliveryState.FAILED and delivery.next_retry_at is None
        assert "host key" in delivery.last_error.lower()
        assert session.scalar(select(Station.host_key_mismatch).where(Station.code == "DV-01")) is True
    assert not remote.exists()  # nothing was written to a box that could be an impostor
    attention = client.get("/api/v1/deliveries?attention=true", headers=people["bientap"]).json
    dv = next(s for s in attention if s["code"] == "DV-01")
    assert any("SSH" in reason for reason in dv["attention"])


def test_a_failed_push_is_retried_on_the_backoff_schedule(push_world, settings, sshd):
    database, place_item, remote, _, _ = push_world
    with database.sessions() as session:
        session.scalar(select(Station).where(Station.code == "DV-01")).ssh_port = free_port()  # nobody listens
        session.commit()
    place_item("Tin", b"x" * 1000)
    with database.sessions() as session:
        assert pushing.push_due(session, settings, now=NOW).failed == 1
        [delivery] = _deliveries(session)
        assert delivery.state is DeliveryState.FAILED and delivery.attempts == 1
        # base 20 s with equal jitter: between 10 and 20 s after the failure
        assert NOW + timedelta(seconds=10) <= delivery.next_retry_at <= NOW + timedelta(seconds=20)
        assert pushing.push_due(session, settings, now=NOW + timedelta(seconds=5)).failed == 0  # not due yet
        retry_at = delivery.next_retry_at
        assert pushing.push_due(session, settings, now=retry_at).failed == 1
        session.refresh(delivery)
        assert delivery.attempts == 2
        assert retry_at + timedelta(seconds=20) <= delivery.next_retry_at <= retry_at + timedelta(seconds=40)
        session.scalar(select(Station).where(Station.code == "DV-01")).ssh_port = sshd.port  # the link is back
        session.commit()
        assert pushing.push_due(session, settings, now=delivery.next_retry_at).sent == 1
        session.refresh(delivery)
        assert delivery.state is DeliveryState.SENT and delivery.attempts == 3 and delivery.last_error is None
    assert (remote / "manifest.json").exists()


def test_an_emergency_reaches_a_push_station_inbox_and_its_agent_airs_it(push_world, settings, tmp_path):
    need_tool("ffplay")
    database, _, remote, people, client = push_world
    mp3 = audio_fixtures.tone(tmp_path / "warning.mp3", 1.0, freq=880)
    payload = mp3.read_bytes()
    sha = hashlib.sha256(payload).hexdigest()
    stored = settings.resolved_audio_dir / sha[:2] / f"{sha}.mp3"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(payload)
    item = client.post("/api/v1/items", headers=people["bientap"], json={
        "title": "Cảnh báo sạt lở", "body": "Sơ tán ngay.", "item_class": "emergency"}).json
    with database.sessions() as session:
        session.get(NewsItem, item["id"]).audio_asset = AudioAsset(
            sha256=sha, size_bytes=len(payload), duration_ms=duration_ms(mp3), origin="upload")
        session.commit()
    made = client.post("/api/v1/emergencies", headers=people["bientap"], json={
        "item_id": item["id"], "areas": ["00721"], "risk_level": 4, "expires_at": "2026-11-29T01:00"}).json
    assert client.post(f"/api/v1/emergencies/{made['id']}/approve", headers=people["pheduyet"]).status_code == 200

    with database.sessions() as session:
        assert emergency_delivery.push_pending(session, settings, now=NOW) == (1, 0)
        assert emergency_delivery.push_pending(session, settings, now=NOW) == (0, 0)  # pushed once
        command = session.scalar(select(StationCommand).where(StationCommand.kind == CommandKind.EMERGENCY))
        assert command.pushed_at == NOW and command.push_error is None
    [pushed] = list((remote / "commands").glob("*.json"))
    wire = json.loads(pushed.read_text(encoding="utf-8"))
    assert (pushed.name, wire["kind"], wire["args"]["broadcast"], wire["args"]["sha256"]) == (
        f"{command.id}.json", "emergency", made["id"], sha)
    assert (remote / "audio" / f"{sha}.mp3").read_bytes() == payload

    # The station's agent has no link to the service: it airs what the push brought.
    config = parse_config({"server_url": "http://127.0.0.1:9", "token": "x" * 32, "station": "DV-01",
                           "cache_dir": str(tmp_path / "cache"), "inbox_dir": str(remote),
                           "player": ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "{file}"],
                           "player_env": {"SDL_AUDIODRIVER": "dummy"}, "commands_wait_s": 0, "poll_interval_s": 60})
    # Its clock starts at the service's (fixed) moment, so the alert has not expired whatever day this runs.
    with Running(Agent(config, clock=ShiftedClock(NOW))) as agent:
        until(lambda: not pushed.exists(), what="the agent taking the pushed command")
        [event] = until(lambda: [e for e in agent.asrun.all_events() if e["kind"] == "emergency"], timeout_s=20,
                        what="the emergency aired")
        assert agent.asrun.unacked_commands()[0][:2] == (command.id, True)  # the ack waits for the link
    assert (event["entry_id"], event["outcome"]) == (f"emergency-{made['id']}-0", "played")
