"""The station agent against the real central service over HTTP: manifest, audio, receipts, and the SSH inbox.

The Flask app is seeded and served on a free loopback port by werkzeug in a thread, stopped after each test.
A small WSGI layer in front of it records every request (to see Range and If-None-Match at work). The plain
functions here (``sqlite_database``, ``live_service``, ``make_mp3s``) are shared with test_agent_run.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from broadcast.db.engine import Database
from broadcast.db.models import AudioAsset, Delivery, NewsItem, Station
from broadcast.services import stations, users
from stations.agent.agent import Agent
from stations.agent.clock import ManualClock
from stations.agent.config import parse_config
from stations.agent.sync import SyncError
from stations.manifest import from_json
from tests import audio_fixtures

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 22:00 in Hà Giang; the first entry airs at 06:00 tomorrow
FIRST_AIR = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
SLOT = {"name": "Buổi sáng", "area": "08", "start_time": "06:00", "duration_s": 600, "valid_from": "2026-11-28",
        "rrule": "FREQ=DAILY"}


def sqlite_database(tmp_path: Path):
    """SQLite only: the agent sees HTTP, and the service's database tests cover PostgreSQL."""
    database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def database(tmp_path):
    yield from sqlite_database(tmp_path)


class Recorder:
    """WSGI middleware that notes each request's method, path and the headers the agent's caching relies on."""

    def __init__(self, app):
        self.app = app
        self.requests: list[tuple[str, str, str | None, str | None]] = []

    def __call__(self, environ, start_response):
        self.requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("HTTP_RANGE"),
                              environ.get("HTTP_IF_NONE_MATCH")))
        return self.app(environ, start_response)

    def audio_gets(self) -> list[tuple[str, str | None]]:
        return [(path, rng) for method, path, rng, _ in self.requests if path.startswith("/api/v1/audio/")]


@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Service:
    """The seeded service, live, with helpers to place real audio and to look at what stations reported."""

    def __init__(self, app, client, settings, url: str, recorder: Recorder):
        self.app, self.client, self.url, self.recorder = app, client, url, recorder
        self.database = app.extensions["database"]
        self.audio_dir = settings.resolved_audio_dir
        with self.database.sessions() as session:
            self.people = {name: {"Authorization": "Bearer " + users.issue_api_token(
                session, users.get_user(session, name), "t")} for name in ("bientap", "pheduyet")}
            self.tokens = {code: stations.issue_token(session, stations.get_station(session, code))
                           for code in ("HG1-01", "HG1-02", "DV-01")}
        self.slot_id = client.post("/api/v1/slots", json=SLOT, headers=self.people["bientap"]).json["id"]

    def place(self, title: str, mp3: Path, *, corrupt: bool = False) -> str:
        """An approved item with this real audio, placed daily from tomorrow for three days; returns its sha256.

        ``corrupt``: the store holds other bytes of the same size under the name (a damaged disk or transfer).
        """
        payload = mp3.read_bytes()
        sha = hashlib.sha256(payload).hexdigest()
        (self.audio_dir / sha[:2]).mkdir(parents=True, exist_ok=True)
        stored = bytes(b ^ 0xFF for b in payload) if corrupt else payload
        (self.audio_dir / sha[:2] / f"{sha}.mp3").write_bytes(stored)
        duration_ms = round(float(audio_fixtures.ffprobe(mp3)["format"]["duration"]) * 1000)
        people = self.people
        created = self.client.post("/api/v1/items", json={"title": title, "body": "Một hai ba."},
                                   headers=people["bientap"]).json
        with self.database.sessions() as session:
            item = session.get(NewsItem, created["id"])
            item.audio_asset = AudioAsset(sha256=sha, size_bytes=len(payload), duration_ms=duration_ms, origin="tts")
            session.commit()
        self.client.post(f"/api/v1/items/{created['id']}/submit", headers=people["bientap"])
        self.client.post(f"/api/v1/items/{created['id']}/approve", headers=people["pheduyet"])
        placed = self.client.post("/api/v1/placements", headers=people["bientap"], json={
            "item_id": created["id"], "slot_id": self.slot_id, "targets": ["08"], "date_from": "2026-11-29",
            "date_until": "2026-12-01"})
        assert placed.status_code == 201, placed.json
        return sha

    def repair(self, sha: str, mp3: Path) -> None:
        (self.audio_dir / sha[:2] / f"{sha}.mp3").write_bytes(mp3.read_bytes())

    def manifest_body(self, code: str = "HG1-01") -> bytes:
        answer = requests.get(f"{self.url}/api/v1/stations/{code}/manifest", timeout=10,
                              headers={"Authorization": f"Bearer {self.tokens[code]}"})
        answer.raise_for_status()
        return answer.content

    def installed_version(self, code: str) -> int | None:
        with self.database.sessions() as session:
            return session.scalar(select(Station.installed_version).where(Station.code == code))

    def config(self, tmp_path: Path, code: str = "HG1-01", **extra) -> dict:
        return {"server_url": self.url, "token": self.tokens[code], "station": code,
                "cache_dir": str(tmp_path / f"cache-{code}"), "player": ["true", "{file}"], **extra}


def make_mp3s(folder: Path) -> dict[str, Path]:
    """Real MP3 files: one second of tone each, at different pitches so their sha256 differ."""
    return {name: audio_fixtures.tone(folder / f"{name}.mp3", 1.0, freq=freq)
            for name, freq in (("news", 440), ("notice", 660), ("warning", 880))}


def live_service(seeded, client, settings, wrap=None):
    """The seeded app served live (``wrap`` may put more WSGI in front of it); yields a :class:`Service`."""
    seeded.extensions["clock"] = lambda: NOW
    recorder = Recorder(seeded.wsgi_app)
    seeded.wsgi_app = wrap(recorder) if wrap else recorder
    with serving(seeded) as url:
        yield Service(seeded, client, settings, url, recorder)


@pytest.fixture(scope="module")
def mp3s(tmp_path_factory) -> dict[str, Path]:
    return make_mp3s(tmp_path_factory.mktemp("mp3"))


@pytest.fixture
def service(seeded, client, settings):
    yield from live_service(seeded, client, settings)


def make_agent(service: Service, tmp_path: Path, code: str = "HG1-01", **extra) -> Agent:
    return Agent(parse_config(service.config(tmp_path, code, **extra)), clock=ManualClock(NOW))


def test_sync_installs_manifest_and_verified_audio_then_sends_a_receipt(service, tmp_path, mp3s):
    sha = service.place("Tin tỉnh", mp3s["news"])
    agent = make_agent(service, tmp_path)
    try:
        assert agent.sync_once() == []
        installed = agent.syncer.installed
        assert installed is not None and installed.station == "HG1-01"
        cache = tmp_path / "cache-HG1-01"
        assert from_json((cache / "manifest.json").read_bytes()).etag == installed.etag
        assert (cache / "audio" / f"{sha}.mp3").read_bytes() == mp3s["news"].read_bytes()
        assert service.installed_version("HG1-01") == installed.version
        with service.database.sessions() as session:
            delivery = session.scalar(select(Delivery).join(Station).where(Station.code == "HG1-01"))
            assert delivery.state.value == "verified"
        assert service.recorder.audio_gets() == [(f"/api/v1/audio/{sha}", None)]  # one file, fetched once

        # Nothing new: a 304, no audio fetched again, no second receipt.
        service.recorder.requests.clear()
        assert agent.sync_once() == []
        assert service.recorder.requests == [("GET", "/api/v1/stations/HG1-01/manifest", None, installed.etag)]

        # A new version: only the new file is fetched, and the receipt follows.
        other = service.place("Thông báo", mp3s["notice"])
        assert agent.sync_once() == []
        assert agent.syncer.installed.version == installed.version + 1
        assert service.recorder.audio_gets() == [(f"/api/v1/audio/{other}", None)]
        assert service.installed_version("HG1-01") == installed.version + 1
    finally:
        agent.close()


def test_a_half_written_download_is_resumed_with_range(service, tmp_path, mp3s):
    sha = service.place("Tin tỉnh", mp3s["news"])
    payload = mp3s["news"].read_bytes()
    part = tmp_path / "cache-HG1-01" / "audio" / f"{sha}.mp3.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(payload[: len(payload) // 2])  # the link broke half-way through, last time
    agent = make_agent(service, tmp_path)
    try:
        assert agent.sync_once() == []
    finally:
        agent.close()
    assert service.recorder.audio_gets() == [(f"/api/v1/audio/{sha}", f"bytes={len(payload) // 2}-")]
    assert (part.parent / f"{sha}.mp3").read_bytes() == payload and not part.exists()


class Recording:
    """A player that only notes the files it was asked to play."""

    def __init__(self):
        self.files: list[Path] = []

    def start(self, path, *, offset_s, on_exit):
        self.files.append(path)
        raise AssertionError("nothing may be played in this test")


def test_a_corrupted_download_is_never_installed_nor_played(service, tmp_path, mp3s):
    sha = service.place("Tin tỉnh", mp3s["news"], corrupt=True)
    player = Recording()
    agent = Agent(parse_config(service.config(tmp_path)), clock=ManualClock(NOW), player=player)
    try:
        problems = agent.sync_once()
        assert len(problems) == 1 and "fails verification" in problems[0] and sha in problems[0]
        cache = tmp_path / "cache-HG1-01"
        assert agent.syncer.installed is None and not (cache / "manifest.json").exists()
        assert sorted(p.name for p in (cache / "audio").iterdir()) == []  # the bad bytes were deleted
        assert service.installed_version("HG1-01") is None  # no receipt for what is not installed

        # Even given the rejected manifest, the engine does not play the unverified file: it reports it.
        rejected = from_json(service.manifest_body())
        agent.engine.schedule = lambda: rejected
        agent.engine.run_until(FIRST_AIR + timedelta(minutes=5))
        events = agent.asrun.all_events()
        assert [(e["outcome"], e["reason"]) for e in events] == [
            ("failed", f"audio {sha} is missing or unverified")]
        assert player.files == []

        # Once the server's copy is repaired, the next round installs.
        service.repair(sha, mp3s["news"])
        assert agent.sync_once() == []
        assert agent.syncer.installed.version == rejected.version
    finally:
        agent.close()


def push_into(inbox: Path, manifest: bytes, audio: dict[str, bytes]) -> None:
    """Write what an SSH push leaves: audio first, then the manifest, each renamed into place."""
    (inbox / "audio").mkdir(parents=True, exist_ok=True)
    for sha, payload in audio.items():
        temp = inbox / "audio" / f".{sha}.mp3.0badc0de.part"
        temp.write_bytes(payload)
        os.replace(temp, inbox / "audio" / f"{sha}.mp3")
    temp = inbox / ".manifest.json.0badc0de.part"
    temp.write_bytes(manifest)
    os.replace(temp, inbox / "manifest.json")


def test_a_pushed_manifest_is_taken_from_the_inbox_with_its_audio_verified(service, tmp_path, mp3s):
    first = service.place("Tin tỉnh", mp3s["news"])
    body_v1 = service.manifest_body("DV-01")
    inbox = tmp_path / "inbox"
    push_into(inbox, body_v1, {first: mp3s["news"].read_bytes()})
    agent = make_agent(service, tmp_path, "DV-01", inbox_dir=str(inbox))
    try:
        assert agent.syncer.sync_inbox() is not None
        installed = agent.syncer.installed
        assert installed.version == from_json(body_v1).version
        assert (tmp_path / "cache-DV-01" / "audio" / f"{first}.mp3").read_bytes() == mp3s["news"].read_bytes()
        assert service.recorder.audio_gets() == []  # nothing fetched over HTTP
        agent.syncer.send_receipt()
        assert service.installed_version("DV-01") == installed.version

        # A newer push whose audio was damaged on the way is refused, and the installed version stays.
        second = service.place("Thông báo", mp3s["notice"])
        body_v2 = service.manifest_body("DV-01")
        push_into(inbox, body_v2, {second: b"\x00" * mp3s["notice"].stat().st_size})
        with pytest.raises(SyncError, match="fails verification"):
            agent.syncer.sync_inbox()
        assert agent.syncer.installed.version == installed.version
        assert not (tmp_path / "cache-DV-01" / "audio" / f"{second}.mp3").exists()

        # The push is repeated properly: taken. An older manifest left in the inbox later is ignored.
        push_into(inbox, body_v2, {second: mp3s["notice"].read_bytes()})
        assert agent.syncer.sync_inbox().version == from_json(body_v2).version
        push_into(inbox, body_v1, {})
        assert agent.syncer.sync_inbox() is None and agent.syncer.installed.version == from_json(body_v2).version
    finally:
        agent.close()


def test_a_manifest_for_another_station_or_not_valid_is_refused(service, tmp_path, mp3s):
    service.place("Tin tỉnh", mp3s["news"])
    inbox = tmp_path / "inbox"
    agent = make_agent(service, tmp_path, "DV-01", inbox_dir=str(inbox))
    try:
        push_into(inbox, service.manifest_body("HG1-01"), {})
        with pytest.raises(SyncError, match="for station 'HG1-01', not 'DV-01'"):
            agent.syncer.sync_inbox()
        body = json.loads(service.manifest_body("DV-01"))
        body["version"] += 1  # not covered by the ETag, but the title is
        body["days"][1]["entries"][0]["title"] = "Tin giả"
        push_into(inbox, json.dumps(body).encode(), {})
        with pytest.raises(SyncError, match="etag"):
            agent.syncer.sync_inbox()
        assert agent.syncer.installed is None
    finally:
        agent.close()


def test_old_audio_is_removed_once_no_remaining_day_uses_it(service, tmp_path, mp3s):
    sha = service.place("Tin tỉnh", mp3s["news"])
    agent = make_agent(service, tmp_path)
    try:
        assert agent.sync_once() == []
        stale = agent.cache.path_for("0" * 64)
        stale.write_bytes(b"left over")
        os.utime(stale, (0, 0))
        agent.syncer.cleanup()
        assert not stale.exists() and agent.cache.path_for(sha).exists()
        # Four days on, the three days that used the file are over: it goes, the manifest stays.
        agent.clock.advance(4 * 24 * 3600)
        os.utime(agent.cache.path_for(sha), (0, 0))
        agent.syncer.cleanup()
        assert not agent.cache.path_for(sha).exists() and agent.syncer.installed is not None
    finally:
        agent.close()


def test_the_command_line_syncs_once_and_exits(service, tmp_path, mp3s):
    service.place("Tin tỉnh", mp3s["news"])
    config = tmp_path / "station.toml"
    settings = service.config(tmp_path)
    config.write_text("\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items()) + "\n",
                      encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "stations.agent", "--config", str(config), "--once"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    version = from_json(service.manifest_body()).version
    assert done.returncode == 0, done.stderr
    assert f"installed version: {version}" in done.stdout
    assert service.installed_version("HG1-01") == version

    settings["token"] = "st_wrong"
    config.write_text("\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items()) + "\n",
                      encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "stations.agent", "--config", str(config), "--once"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "HTTP 401" in refused.stderr
