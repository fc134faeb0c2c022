"""A live announcement end to end with real processes: the service under gunicorn (gevent workers, as deployed),
a real Icecast, and the real station agent relaying the mount.

The speaker is a WebSocket client sending WebM/Opus in half-second slices at the pace of speech, as the page's
MediaRecorder does. The agent's stream player is ffmpeg writing what it relays to a file, so the test hears what
the station would have played: the speaker's tone, from the service's ffmpeg through Icecast to the station.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import requests
import simple_websocket

from broadcast.services.demo import DEMO_PASSWORD
from tests.conftest import csrf_from
from tests.e2e.agents import Processes, agent_config, local_log, seed, until
from tests.icecast import icecast_or_skip
from tests.services import free_port, need_tool

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SECONDS = 8  # of speech
TONE_HZ = 440


@pytest.fixture(scope="module")
def icecast():
    need_tool("ffmpeg")
    with icecast_or_skip() as server:
        yield server


@pytest.fixture
def world(icecast):
    with tempfile.TemporaryDirectory(prefix="live-e2e-") as folder:
        folder = Path(folder)
        tokens = seed(folder / "instance")
        processes = Processes(folder)
        try:
            yield folder, tokens, processes
        finally:
            processes.stop_all()


def speech(folder: Path) -> bytes:
    path = folder / "voice.webm"
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"sine=frequency={TONE_HZ}:duration={SECONDS}:sample_rate=48000", "-ac", "1", "-c:a", "libopus",
                    "-b:a", "32k", "-f", "webm", str(path)], check=True)
    return path.read_bytes()


def dominant_hz(path: Path) -> float:
    with wave.open(str(path)) as wav:
        rate, frames = wav.getframerate(), wav.readframes(wav.getnframes())
        samples = np.frombuffer(frames, dtype=np.int16).astype(float)
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.abs(np.fft.rfft(samples)).argmax()])


def test_the_agent_relays_the_speakers_voice_and_stops_with_the_announcement(world, icecast):
    folder, tokens, processes = world
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = processes.server(folder / "instance", port, env={
        "LIVE_ICECAST_URL": icecast.source_base, "LIVE_LISTEN_URL": icecast.base_url, "LIVE_SILENCE_S": "5"})
    relayed = folder / "relayed.wav"
    config = agent_config(folder / "HG1-01", base, "HG1-01", tokens.stations["HG1-01"], stream_retry_s=1,
                          stream_player=["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", "{url}", "-ac", "1",
                                         "-ar", "16000", str(relayed)])
    agent = processes.agent(config, "HG1-01")
    logs = (server.log, agent.log)

    browser = requests.Session()
    token = csrf_from(browser.get(f"{base}/login", timeout=10).text)
    browser.post(f"{base}/login", data={"username": "bientap", "password": DEMO_PASSWORD, "csrf_token": token},
                 timeout=10)
    token = csrf_from(browser.get(f"{base}/live", timeout=10).text)
    opened = browser.post(f"{base}/live", data={"csrf_token": token, "title": "Họp dân khẩn", "minutes": "5",
                                                 "targets": ["00694"]}, headers={"Accept": "application/json"},
                          timeout=10)
    assert opened.status_code == 201, opened.text
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{port}{opened.json()['audio']}",
                                         headers={"Cookie": cookie, "Origin": base})
    data = speech(folder)
    size = -(-len(data) // (SECONDS * 2))

    def speak():
        for start in range(0, len(data), size):
            ws.send(data[start:start + size])
            time.sleep(0.5)

    speaker = threading.Thread(target=speak)
    speaker.start()

    def commands() -> list[dict]:
        return browser.get(f"{base}/api/v1/stations/HG1-01/commands", timeout=10).json()["commands"]

    # The agent fetched the command and answered that it relays the mount.
    play = until(lambda: next((c for c in commands() if c["kind"] == "play_stream" and c["state"] == "done"), None),
                 30, "the agent relaying the announcement", logs)
    assert play["args"]["url"].startswith(f"{icecast.base_url}/live-")
    speaker.join()
    ws.send("stop")
    states = []
    while not states or states[-1]["state"] != "ended":
        raw = ws.receive(timeout=20)
        assert raw is not None, states
        states.append(json.loads(raw))
    assert states[-1] == {"state": "ended", "reason": "stopped"}

    stop = until(lambda: next((c for c in commands() if c["kind"] == "stop" and c["state"] in ("done", "failed")),
                              None), 30, "the agent acknowledging the stop", logs)
    assert stop["state"] == "done", stop
    # The station reported what it relayed, once, for that command.
    event = until(lambda: next((e for e in local_log(folder / "HG1-01" / "cache")
                                if e["entry_id"] == f"command-{play['id']}" and e["delivered"]), None),
                  30, "the relay's as-run event", logs)
    assert event["seconds_played"] > 0, event
    # What the station's player got is the speaker's voice.
    until(lambda: relayed.is_file() and relayed.stat().st_size > 44, 10, "the relayed recording", logs)
    assert abs(dominant_hz(relayed) - TONE_HZ) < 5
    until(lambda: not any(m.startswith("/live-") for m in icecast.mounts()), 15, "the mount to close", logs)
