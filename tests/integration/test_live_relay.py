"""Live announcements end to end on the server side: a speaker's WebSocket, ffmpeg, a real Icecast, stations.

The service runs on a real HTTP server (Werkzeug, threaded, as in the browser tests) so the WebSocket is real;
the "browser" is a WebSocket client sending WebM/Opus in half-second slices at the pace of speech, as
MediaRecorder does. A listener (ffmpeg) reads the mount as a station would. Stations are the demo's, polling
the real command API with their tokens.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
import wave
from pathlib import Path

import numpy as np
import paho.mqtt.client as paho
import pytest
import requests
import simple_websocket
from sqlalchemy import select

from broadcast.config import load_settings
from broadcast.db.models import AuditLog, CommandKind, CommandState, LiveEnd, LiveSession, LiveState, StationCommand
from broadcast.services import stations
from tests.browser.conftest import PASSWORD, serve
from tests.conftest import csrf_from
from tests.icecast import icecast_or_skip
from tests.services import need_tool, port_open, unavailable

pytestmark = pytest.mark.slow

SECONDS = 4  # of speech sent in each test
TONE_HZ = 440
SLICES_PER_SECOND = 2  # MediaRecorder.start(500)


@pytest.fixture(scope="module")
def icecast():
    need_tool("ffmpeg")
    with icecast_or_skip() as server:
        yield server


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> bytes:
    """Four seconds of a 440 Hz tone as WebM/Opus, as Chromium's MediaRecorder makes it."""
    path = tmp_path_factory.mktemp("live") / "voice.webm"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"sine=frequency={TONE_HZ}:duration={SECONDS}:sample_rate=48000", "-ac", "1", "-c:a", "libopus",
                    "-b:a", "32k", "-f", "webm", str(path)], check=True)
    return path.read_bytes()


@pytest.fixture
def mqtt_prefix() -> str:
    """Commands also go out on MQTT (the Mosquitto on 127.0.0.1:1883), under a prefix of this test's own."""
    if not port_open("127.0.0.1", 1883):
        unavailable("Mosquitto is not listening on 127.0.0.1:1883")
    return f"test-live-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(tmp_path, database, icecast, mqtt_prefix):
    return load_settings(instance_path=tmp_path / "instance", database_url=database.url, totp_required_roles="",
                         live_icecast_url=icecast.source_base, live_listen_url=icecast.base_url, live_silence_s=3,
                         mqtt_url="mqtt://127.0.0.1:1883", mqtt_topic_prefix=mqtt_prefix)


class Subscriber:
    """What a station's MQTT client hears on its command topic."""

    def __init__(self, prefix: str, code: str):
        self.heard: queue.Queue = queue.Queue()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, message: self.heard.put(json.loads(message.payload))
        self.client.connect("127.0.0.1", 1883)
        self.client.subscribe(f"{prefix}/{code}/commands", qos=1)
        self.client.loop_start()

    def next(self) -> dict:
        return self.heard.get(timeout=20)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def site(seeded):
    with serve(seeded) as base:
        yield base


@pytest.fixture
def tokens(seeded) -> dict[str, str]:
    with seeded.extensions["database"].sessions() as session:
        return {code: stations.issue_token(session, stations.get_station(session, code))
                for code in ("HG1-01", "HG1-02", "HG2-01")}


def logged_in(base: str, username: str = "bientap") -> requests.Session:
    browser = requests.Session()
    token = csrf_from(browser.get(f"{base}/login", timeout=10).text)
    answer = browser.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                          timeout=10)
    assert answer.ok
    return browser


def open_announcement(browser: requests.Session, base: str, **fields) -> requests.Response:
    token = csrf_from(browser.get(f"{base}/live", timeout=10).text)
    data = {"csrf_token": token, "title": "Thông báo khẩn về bão số 3", "minutes": "15", "targets": ["00694"],
            **fields}
    return browser.post(f"{base}/live", data=data, headers={"Accept": "application/json"}, timeout=10)


def socket_for(browser: requests.Session, base: str, path: str) -> simple_websocket.Client:
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    return simple_websocket.Client.connect(f"ws://{base.removeprefix('http://')}{path}",
                                           headers={"Cookie": cookie, "Origin": base})


def slices(data: bytes) -> list[bytes]:
    size = -(-len(data) // (SECONDS * SLICES_PER_SECOND))
    return [data[i:i + size] for i in range(0, len(data), size)]


def send_paced(ws, parts: list[bytes]) -> None:
    for part in parts:
        try:
            ws.send(part)
        except simple_websocket.ConnectionClosed:
            return  # ended by the server meanwhile
        time.sleep(1 / SLICES_PER_SECOND)


def messages_until(ws, wanted: str, timeout_s: float = 30) -> list[dict]:
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        raw = ws.receive(timeout=1)
        if raw is None:
            continue
        seen.append(json.loads(raw))
        if seen[-1]["state"] == wanted:
            return seen
    raise AssertionError(f"no {wanted!r} message; got {seen}")


def poll(base: str, tokens: dict[str, str], code: str, wait: float = 0) -> list[dict]:
    answer = requests.get(f"{base}/api/v1/stations/{code}/commands", params={"wait": wait},
                          headers={"Authorization": f"Bearer {tokens[code]}"}, timeout=wait + 10)
    assert answer.status_code == 200, answer.text
    return answer.json()["commands"]


def ffmpeg_children() -> list[int]:
    """ffmpeg processes this test process started and that still exist (zombies included: not reaped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if name == "ffmpeg" and int(rest[1]) == os.getpid():
            found.append(int(entry.name))
    return found


def eventually(check, timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def live_row(seeded) -> LiveSession:
    with seeded.extensions["database"].sessions() as session:
        live = session.scalars(select(LiveSession).order_by(LiveSession.id.desc())).first()
        session.expunge(live)
        return live


def dominant_hz(path: Path) -> float:
    with wave.open(str(path)) as wav:
        rate, frames = wav.getframerate(), wav.readframes(wav.getnframes())
        samples = np.frombuffer(frames, dtype=np.int16).reshape(-1, wav.getnchannels())[:, 0].astype(float)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def test_the_voice_reaches_icecast_and_the_stations_relay_it_until_stopped(seeded, site, tokens, icecast, speech,
                                                                           tmp_path, mqtt_prefix):
    browser = logged_in(site)
    mqtt = Subscriber(mqtt_prefix, "HG1-01")
    woken: list = []
    waiting = threading.Thread(target=lambda: woken.extend(poll(site, tokens, "HG1-01", wait=25)))
    waiting.start()  # a station's long poll, waiting before the announcement exists

    opened = open_announcement(browser, site)
    assert opened.status_code == 201, opened.text
    live = opened.json()
    assert live["seconds"] == 15 * 60
    ws = socket_for(browser, site, live["audio"])
    parts = slices(speech)
    sender = threading.Thread(target=send_paced, args=(ws, parts))
    sender.start()

    assert messages_until(ws, "on_air")[-1]["state"] == "on_air"
    waiting.join(timeout=30)
    row = live_row(seeded)
    listen_url = icecast.listen_url(row.mount)
    # The long poll was woken with the command: relay this mount until the latest end.
    assert [c["kind"] for c in woken] == ["play_stream"]
    args = woken[0]["args"]
    assert args["url"] == listen_url and args["title"] == "Thông báo khẩn về bão số 3"
    assert args["until"] == row.until.isoformat(timespec="seconds") and args["until"].endswith("+00:00")
    assert row.mount in icecast.mounts()
    heard = mqtt.next()  # and on MQTT, the same command
    assert (heard["id"], heard["kind"], heard["args"]) == (woken[0]["id"], "play_stream", args)

    # A station's player reads the mount while the speaker talks.
    recording = tmp_path / "heard.wav"
    listener = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "fatal", "-y", "-i", listen_url,
                                 "-ac", "1", "-ar", "16000", str(recording)])
    sender.join()
    ws.send("stop")
    ended = messages_until(ws, "ended")[-1]
    assert ended == {"state": "ended", "reason": "stopped"}
    assert eventually(lambda: not ws.connected)  # the server closed it
    listener.wait(timeout=30)

    # What the listener got is the speaker's voice (the tone), about as long as what was sent: the burst on
    # connect gives the start, the source's end ends the stream.
    assert abs(dominant_hz(recording) - TONE_HZ) < 5
    assert SECONDS - 1.0 <= wav_seconds(recording) <= SECONDS + 1.0

    # Ended: ffmpeg gone and reaped, the mount gone, the station that relayed told to stop, the other one's
    # command (never fetched) withdrawn.
    assert eventually(lambda: not ffmpeg_children()), ffmpeg_children()
    assert row.mount not in icecast.mounts()
    row = live_row(seeded)
    assert (row.state, row.end_reason) == (LiveState.ENDED, LiveEnd.STOPPED)
    stop = poll(site, tokens, "HG1-01")
    assert [(c["kind"], c["args"]["url"]) for c in stop] == [("stop", listen_url)]
    assert (mqtt.next()["kind"], mqtt.heard.empty()) == ("stop", True)
    mqtt.close()
    assert poll(site, tokens, "HG1-02") == []
    assert poll(site, tokens, "HG2-01") == []  # another commune: never concerned
    with seeded.extensions["database"].sessions() as session:
        kinds = {(c.station.code, c.kind, c.state) for c in session.scalars(select(StationCommand))}
        assert ("HG1-02", CommandKind.PLAY_STREAM, CommandState.EXPIRED) in kinds
        actions = [a.action for a in session.scalars(select(AuditLog).where(AuditLog.entity_type == "live")
                                                     .order_by(AuditLog.id))]
        assert actions == ["live.open", "live.start", "live.end"]


KILLED_CLIENT = textwrap.dedent("""
    import sys, time, simple_websocket
    url, cookie, origin, path = sys.argv[1:5]
    data = open(path, "rb").read()
    ws = simple_websocket.Client.connect(url, headers={"Cookie": cookie, "Origin": origin})
    size = len(data) // 8 + 1
    for i in range(0, len(data), size):
        ws.send(data[i:i + size])
        print("sent", flush=True)
        time.sleep(0.5)
    time.sleep(600)  # never reached in the test: it is killed mid-stream
""")


def test_a_killed_browser_ends_the_announcement_ffmpeg_and_the_relay(seeded, site, tokens, icecast, speech,
                                                                      tmp_path):
    browser = logged_in(site)
    live = open_announcement(browser, site).json()
    (tmp_path / "voice.webm").write_bytes(speech)
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    client = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, f"ws://{site.removeprefix('http://')}"
                               f"{live['audio']}", cookie, site, str(tmp_path / "voice.webm")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert eventually(lambda: live_row(seeded).state is LiveState.ON_AIR)
        assert [c["kind"] for c in poll(site, tokens, "HG1-01")] == ["play_stream"]
        mount = live_row(seeded).mount
        assert mount in icecast.mounts() and ffmpeg_children()
    finally:
        client.send_signal(signal.SIGKILL)  # the tab, the browser or the laptop gone mid-sentence
        client.wait()
        client.stdout.close()

    assert eventually(lambda: live_row(seeded).state is LiveState.ENDED)
    assert live_row(seeded).end_reason is LiveEnd.DROPPED
    assert eventually(lambda: not ffmpeg_children()), ffmpeg_children()
    assert eventually(lambda: mount not in icecast.mounts())
    assert [c["kind"] for c in poll(site, tokens, "HG1-01")] == ["stop"]


def test_a_speaker_who_sends_nothing_more_is_cut_off_after_the_silence_allowed(seeded, site, tokens, icecast,
                                                                                 speech):
    """The connection stays open but no audio comes (a frozen tab): after LIVE_SILENCE_S (3 s here) it ends."""
    browser = logged_in(site)
    live = open_announcement(browser, site).json()
    ws = socket_for(browser, site, live["audio"])
    send_paced(ws, slices(speech)[:4])
    ended = messages_until(ws, "ended")[-1]
    assert ended == {"state": "ended", "reason": "dropped"}
    assert eventually(lambda: not ws.connected)
    assert eventually(lambda: not ffmpeg_children()), ffmpeg_children()
    row = live_row(seeded)
    assert (row.state, row.end_reason) == (LiveState.ENDED, LiveEnd.DROPPED)


def test_a_socket_from_another_site_or_of_another_persons_announcement_is_refused(seeded, site, icecast):
    speaker = logged_in(site)
    live = open_announcement(speaker, site).json()
    cookie = "; ".join(f"{c.name}={c.value}" for c in speaker.cookies)
    host = site.removeprefix("http://")
    elsewhere = simple_websocket.Client.connect(f"ws://{host}{live['audio']}",
                                                headers={"Cookie": cookie, "Origin": "http://evil.test"})
    assert messages_until(elsewhere, "refused")[-1] == {"state": "refused"}
    other = logged_in(site, "pheduyet")  # may stop it from the page, but not feed it
    theirs = socket_for(other, site, live["audio"])
    assert messages_until(theirs, "refused")[-1] == {"state": "refused"}
    assert live_row(seeded).state is LiveState.STARTING


def test_stopped_from_another_page_the_speakers_relay_ends_too(seeded, site, icecast, speech):
    """Stop pressed on the announcement's own page (any worker, another person): the loop feeding the mount
    notices, ends ffmpeg and tells the speaker's page."""
    browser = logged_in(site)
    live = open_announcement(browser, site).json()
    ws = socket_for(browser, site, live["audio"])
    sender = threading.Thread(target=send_paced, args=(ws, slices(speech)))
    sender.start()
    messages_until(ws, "on_air")
    approver = logged_in(site, "pheduyet")
    token = csrf_from(approver.get(f"{site}{live['page']}", timeout=10).text)
    assert approver.post(f"{site}{live['stop']}", data={"csrf_token": token}, timeout=10).ok
    assert messages_until(ws, "ended")[-1] == {"state": "ended", "reason": "stopped"}
    sender.join()
    assert eventually(lambda: not ffmpeg_children()), ffmpeg_children()
    row = live_row(seeded)
    assert (row.state, row.end_reason) == (LiveState.ENDED, LiveEnd.STOPPED)
