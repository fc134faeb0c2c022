"""A live relay end to end: a real Icecast 2 fed by ffmpeg, the service, and the real agent relaying it.

The service places a relay item (content source stream, the Icecast mount's URL) in a slot whose filler is a
real MP3, and compiles it; the agent, with the wall clock moved to just before the slot, fetches the manifest
and the filler, relays the mount for the window and reports to the service. Its players are ffmpeg writing
what they play to WAV files (one per playback, named by kind), so the test hears what went on air: the
source is a 440 Hz sine, the filler a 660 Hz one. Cases: the relay plays for its window and stops at its end;
the source dies mid-window (the filler follows) and comes back (the relay resumes); the mount never works (the
filler for the whole window, and the as-run says why); an HLS stream made by ffmpeg and served over HTTP.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import subprocess
import tempfile
import threading
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from broadcast.db.models import AiringState, AudioAsset, OccurrenceAiring, Slot, Station
from tests import audio_fixtures
from tests.icecast import icecast_or_skip
from tests.integration.test_agent_run import Running, ShiftedClock, agent_for, stored_events, until
from tests.integration.test_agent_sync import FIRST_AIR, live_service, sqlite_database
from tests.services import need_tool

pytestmark = pytest.mark.slow

SOURCE_HZ, FILLER_HZ = 440, 660
RATE = 8000  # what the recording players write: enough to tell 440 Hz from 660 Hz

# A player that writes what it plays to "<OUT>/<nanoseconds>-<kind>.wav" instead of a sound card. A file plays
# at its own pace (-re), as a real player does; a stream comes at the pace the server sends it.
PLAYER = """#!/bin/sh
kind="$2"
pace=""
[ "$kind" = file ] && pace="-re"
exec ffmpeg -nostdin -hide_banner -loglevel error $pace -i "$1" -ac 1 -ar {rate} -f wav "$OUT/$(date +%s%N)-$kind.wav"
"""


@pytest.fixture
def database(tmp_path):
    yield from sqlite_database(tmp_path)


@pytest.fixture(scope="module")
def icecast():
    need_tool("ffmpeg")
    # A small burst: a listener that connects gets a fraction of a second at once, so what it records follows
    # the source closely, and it ends soon after the source does.
    server = icecast_or_skip()
    server.burst_bytes = 4096
    with server:
        yield server


@pytest.fixture(scope="module")
def filler_mp3(tmp_path_factory) -> Path:
    return audio_fixtures.tone(tmp_path_factory.mktemp("filler") / "filler.mp3", 2.0, freq=FILLER_HZ)


class Source:
    """ffmpeg feeding a sine to an Icecast mount, as a provincial station's encoder would."""

    def __init__(self, icecast, mount: str):
        self.icecast, self.mount, self.process = icecast, mount, None

    def start(self) -> Source:
        self.process = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
             f"sine=frequency={SOURCE_HZ}:sample_rate=44100", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k",
             "-content_type", "audio/mpeg", "-f", "mp3", self.icecast.source_url(self.mount)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        until(lambda: f"/{self.mount}" in self.icecast.mounts(), what=f"the source on /{self.mount}")
        return self

    def stop(self) -> None:
        """Kill the encoder, as a power cut at the provincial station would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process is not None:
            self.process.stderr.close()
        self.process = None
        until(lambda: f"/{self.mount}" not in self.icecast.mounts(), what="the mount to go")


@pytest.fixture
def service(seeded, client, settings, filler_mp3):
    """The live service; its 06:00 slot's filler is the 660 Hz MP3, in the audio store."""
    for live in live_service(seeded, client, settings):
        payload = filler_mp3.read_bytes()
        sha = hashlib.sha256(payload).hexdigest()
        (live.audio_dir / sha[:2]).mkdir(parents=True, exist_ok=True)
        (live.audio_dir / sha[:2] / f"{sha}.mp3").write_bytes(payload)
        with live.database.sessions() as session:
            session.get(Slot, live.slot_id).filler_asset = AudioAsset(
                sha256=sha, size_bytes=len(payload), duration_ms=2000, origin="filler")
            session.commit()
        live.filler_sha = sha
        yield live


def place_relay(service, url: str, seconds: int) -> int:
    """A relay item of ``url`` for ``seconds``, approved and placed in the 06:00 slot of 29/11."""
    people, client = service.people, service.client
    created = client.post("/api/v1/items", headers=people["bientap"], json={
        "title": "Tiếp sóng VOV1", "content_source": "stream", "stream_url": url, "stream_duration_s": seconds})
    assert created.status_code == 201, created.json
    item_id = created.json["id"]
    client.post(f"/api/v1/items/{item_id}/submit", headers=people["bientap"])
    assert client.post(f"/api/v1/items/{item_id}/approve", headers=people["pheduyet"]).status_code == 200
    placed = client.post("/api/v1/placements", headers=people["bientap"], json={
        "item_id": item_id, "slot_id": service.slot_id, "targets": ["08"], "date_from": "2026-11-29",
        "date_until": "2026-11-29"})
    assert placed.status_code == 201, placed.json
    return item_id


def relaying_agent(service, tmp_path: Path):
    """The real agent with recording players, its clock 3 s before the slot; returns (running, output folder)."""
    out = tmp_path / "on-air"
    out.mkdir()
    script = tmp_path / "player.sh"
    script.write_text(PLAYER.format(rate=RATE), encoding="utf-8")
    script.chmod(0o755)
    agent = agent_for(service, tmp_path, ShiftedClock(FIRST_AIR - timedelta(seconds=3)),
                      player=[str(script), "{file}", "file"], stream_player=[str(script), "{url}", "stream"],
                      player_env={"OUT": str(out)}, stream_retry_s=1)
    return Running(agent), out


def recordings(out: Path) -> list[tuple[str, Path]]:
    """(kind, file) of every playback so far, in the order they started."""
    return [(path.stem.split("-", 1)[1], path) for path in sorted(out.glob("*.wav"))]


def pitch(path: Path) -> float:
    """The dominant frequency of a recording (0 for one with no audio)."""
    samples = audio_fixtures.decoded_frames(path, rate=RATE)
    if len(samples) < RATE // 10 or float(np.abs(samples).max()) < 1e-3:
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(spectrum.argmax())])


def seconds_of(path: Path) -> float:
    return len(audio_fixtures.decoded_frames(path, rate=RATE)) / RATE


def relay_event(running_or_agent):
    events = running_or_agent.asrun.all_events()
    found = [e for e in events if e["kind"] == "stream"]
    return found[0] if found else None


def airing_state(service):
    """The service's record of the session: its state, and the seconds it counts as played."""
    with service.database.sessions() as session:
        return session.execute(select(OccurrenceAiring.state, OccurrenceAiring.played_ms)
                               .join(Station, Station.id == OccurrenceAiring.station_id)
                               .where(Station.code == "HG1-01")).one()


def test_the_relay_plays_its_window_and_stops_at_its_end(service, icecast, tmp_path):
    source = Source(icecast, "vov1.mp3").start()
    try:
        item_id = place_relay(service, icecast.listen_url("vov1.mp3"), 10)
        running, out = relaying_agent(service, tmp_path)
        with running as agent:
            event = until(lambda: relay_event(agent), timeout_s=40, what="the relay's as-run event")
            until(lambda: [e for e in stored_events(service) if e.kind == "stream"], what="the event at the service")
            until(lambda: any(kind == "file" and path.stat().st_size > 20_000 for kind, path in recordings(out)),
                  what="a second of the filler after the relay")
    finally:
        source.stop()
    assert event["outcome"] == "played" and event["reason"] is None and event["item_id"] == item_id
    assert event["scheduled_at"] == "2026-11-29T06:00:00+07:00" and event["audio_sha256"] is None
    window_end = FIRST_AIR + timedelta(seconds=10)
    # Stopped at its end, not before the window and not after: what it relayed is the time it was on air.
    ended = _time(event["ended_at"])
    assert ended >= window_end
    assert event["seconds_played"] == pytest.approx((ended - _time(event["started_at"])).total_seconds(), abs=0.01)
    played = recordings(out)
    streams = [path for kind, path in played if kind == "stream"]
    assert len(streams) == 1 and played[0][0] == "stream"  # one stream playback, first; the filler after it
    assert pitch(streams[0]) == pytest.approx(SOURCE_HZ, abs=5)
    assert 0 < seconds_of(streams[0]) <= event["seconds_played"] + 1  # what reached the player, no more
    assert pitch(played[1][1]) == pytest.approx(FILLER_HZ, abs=5)
    [stored] = [e for e in stored_events(service) if e.kind == "stream"]
    assert stored.outcome.value == "played" and stored.item_id == item_id
    # The relay counts for the session (partial only because the agent stopped before the slot's fillers ended).
    state, played_ms = airing_state(service)
    assert state in (AiringState.AIRED, AiringState.PARTIAL) and played_ms >= event["seconds_played"] * 1000 - 1


def test_a_dropped_source_falls_back_to_the_filler_and_the_relay_resumes_when_it_returns(service, icecast,
                                                                                          tmp_path):
    source = Source(icecast, "drop.mp3").start()
    try:
        place_relay(service, icecast.listen_url("drop.mp3"), 40)
        running, out = relaying_agent(service, tmp_path)
        with running as agent:
            # Relaying for a few seconds (16,000 bytes a second of WAV at 8 kHz), then the source dies.
            until(lambda: any(kind == "stream" and path.stat().st_size > 64_000 for kind, path in recordings(out)),
                  timeout_s=30, what="four seconds of the stream on air")
            source.stop()
            until(lambda: [k for k, _ in recordings(out)][-1:] == ["file"], timeout_s=20,
                  what="the filler standing in")
            source.start()
            until(lambda: [k for k, _ in recordings(out)].count("stream") == 2, timeout_s=20,
                  what="the relay back on air")
            event = until(lambda: relay_event(agent), timeout_s=60, what="the relay's as-run event")
    finally:
        source.stop()
    assert event["outcome"] == "played"
    assert event["reason"].startswith("partly relayed: stream ") and "the stream dropped 1 time" in event["reason"]
    fallback_s = float(event["reason"].split("filler ", 1)[1].split(" s", 1)[0])
    assert fallback_s >= 1 and event["seconds_played"] > 4
    total = (_time(event["ended_at"]) - _time(event["started_at"])).total_seconds()
    assert event["seconds_played"] + fallback_s == pytest.approx(total, abs=2)  # stream and filler share it
    kinds = [kind for kind, _ in recordings(out)]
    first_back = kinds.index("stream", 1)
    assert kinds[0] == "stream" and set(kinds[1:first_back]) == {"file"}  # stream, filler..., stream again
    played = recordings(out)
    assert pitch(played[0][1]) == pytest.approx(SOURCE_HZ, abs=5)
    assert pitch(played[1][1]) == pytest.approx(FILLER_HZ, abs=5)
    assert pitch(played[first_back][1]) == pytest.approx(SOURCE_HZ, abs=5)
    assert event["audio_sha256"] == service.filler_sha
    state, played_ms = airing_state(service)
    # The filler stood in for part of it: the session is partial, not aired.
    assert state is AiringState.PARTIAL and played_ms >= event["seconds_played"] * 1000 - 1


def test_a_stream_that_never_works_leaves_the_filler_on_air_and_says_why(service, icecast, tmp_path):
    place_relay(service, icecast.listen_url("nobody-feeds-this.mp3"), 10)
    running, out = relaying_agent(service, tmp_path)
    with running as agent:
        event = until(lambda: relay_event(agent), timeout_s=40, what="the relay's as-run event")
        until(lambda: [e for e in stored_events(service) if e.kind == "stream"], what="the event at the service")
    assert event["outcome"] == "failed" and event["seconds_played"] == 0
    assert event["reason"].startswith("the stream did not play (") and "404" in event["reason"]
    assert "; filler " in event["reason"]
    played = recordings(out)
    assert played and {kind for kind, _ in played} == {"file"}  # the stream never reached the player
    assert pitch(played[0][1]) == pytest.approx(FILLER_HZ, abs=5)
    # Failed, so the session's one bulletin did not air: not aired (missed, or partial when a filler entry after
    # the window was reported before the agent stopped), and the relay adds no seconds.
    [stored] = [e for e in stored_events(service) if e.kind == "stream"]
    assert stored.outcome.value == "failed" and stored.seconds_played == 0
    state, played_ms = airing_state(service)
    fillers_ms = sum(e.seconds_played * 1000 for e in stored_events(service) if e.kind == "filler")
    assert state in (AiringState.MISSED, AiringState.PARTIAL) and played_ms == pytest.approx(fillers_ms, abs=1)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_an_hls_stream_is_relayed(service, tmp_path):
    need_tool("ffmpeg")
    folder = Path(tempfile.mkdtemp(prefix="hls-", dir=tmp_path))
    encoder = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         f"sine=frequency={SOURCE_HZ}:sample_rate=44100", "-ac", "1", "-c:a", "aac", "-b:a", "64k", "-f", "hls",
         "-hls_time", "1", "-hls_list_size", "6", "-hls_flags", "delete_segments", str(folder / "live.m3u8")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        until(lambda: len(list(folder.glob("*.ts"))) >= 3, timeout_s=20, what="three HLS segments")
        place_relay(service, f"http://127.0.0.1:{server.server_port}/live.m3u8", 10)
        running, out = relaying_agent(service, tmp_path)
        with running as agent:
            event = until(lambda: relay_event(agent), timeout_s=40, what="the relay's as-run event")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        encoder.terminate()
        encoder.wait(timeout=10)
    assert event["outcome"] == "played" and event["reason"] is None
    streams = [path for kind, path in recordings(out) if kind == "stream"]
    assert len(streams) == 1 and pitch(streams[0]) == pytest.approx(SOURCE_HZ, abs=5)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_recording_player_is_what_the_agent_runs(tmp_path):
    """The script the cases use stands where a real player does: it plays a file to its end at its own pace."""
    need_tool("ffmpeg")
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "player.sh"
    script.write_text(PLAYER.format(rate=RATE), encoding="utf-8")
    script.chmod(0o755)
    clip = audio_fixtures.tone(tmp_path / "clip.mp3", 1.0, freq=FILLER_HZ)
    subprocess.run([str(script), str(clip), "file"], env={**os.environ, "OUT": str(out)}, check=True, timeout=30)
    [(kind, path)] = recordings(out)
    assert kind == "file" and pitch(path) == pytest.approx(FILLER_HZ, abs=5)
    assert seconds_of(path) == pytest.approx(1.0, abs=0.1)
