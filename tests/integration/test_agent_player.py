"""The playout engine on the wall clock with real player commands: ffplay airs a real MP3; failures are logged."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stations.agent.asrun import AsRunLog
from stations.agent.cache import AudioCache
from stations.agent.clock import SystemClock
from stations.agent.player import CommandPlayer
from stations.agent.playout import Playout
from stations.manifest import AudioFile, Day, Entry, build_manifest
from tests import audio_fixtures
from tests.services import need_tool

FFPLAY = ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "{file}"]
DUMMY_AUDIO = {"SDL_AUDIODRIVER": "dummy"}


@pytest.fixture(scope="module")
def tones(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tones")
    return {"short": audio_fixtures.tone(folder / "short.mp3", 1.0), "long": audio_fixtures.tone(folder / "long.mp3",
                                                                                                  5.0, freq=550)}


class Station:
    def __init__(self, tmp_path: Path, player: CommandPlayer, **options):
        self.cache = AudioCache(tmp_path / "cache")
        self.asrun = AsRunLog(tmp_path / "cache" / "asrun.sqlite3")
        self.manifest = None
        self.engine = Playout(clock=SystemClock(), player=player, cache=self.cache, asrun=self.asrun,
                              schedule=lambda: self.manifest, **options)
        self.thread = threading.Thread(target=self.engine.run, daemon=True)

    def schedule(self, mp3: Path, *, in_s: float = 0.3, duration_ms: int | None = None) -> Entry:
        payload = mp3.read_bytes()
        sha = hashlib.sha256(payload).hexdigest()
        self.cache.path_for(sha).write_bytes(payload)
        if duration_ms is None:
            duration_ms = round(float(audio_fixtures.ffprobe(mp3)["format"]["duration"]) * 1000)
        audio = AudioFile(sha256=sha, size=len(payload), duration_ms=duration_ms, url=f"/api/v1/audio/{sha}")
        start = datetime.now(UTC) + timedelta(seconds=in_s)
        start = start.replace(microsecond=start.microsecond // 1000 * 1000)  # the wire carries milliseconds
        entry = Entry(id="slot1@today#0", start=start, end=start + timedelta(milliseconds=duration_ms), kind="item",
                      item_id=1, title="Bản tin", item_class="normal", audio=audio, play_ms=duration_ms, slot_id=1,
                      occurrence_key="slot1@today")
        self.manifest = build_manifest("HG1-01", "UTC", start, [Day(start.date(), 1, (entry,))], 1)
        self.engine.wake()  # as the agent does when it installs a manifest
        return entry

    def __enter__(self) -> Station:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.engine.stop()
        self.thread.join(timeout=10)
        self.asrun.close()

    def wait_for_events(self, count: int, timeout_s: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            events = self.asrun.all_events()
            if len(events) >= count:
                return events
            time.sleep(0.05)
        raise AssertionError(f"expected {count} events, got {self.asrun.all_events()}")


def test_ffplay_airs_a_real_mp3_and_the_event_says_how_long(tmp_path, tones):
    need_tool("ffplay")
    with Station(tmp_path, CommandPlayer(FFPLAY, DUMMY_AUDIO)) as station:
        entry = station.schedule(tones["short"])
        event, = station.wait_for_events(1)
    assert (event["outcome"], event["entry_id"], event["reason"]) == ("played", entry.id, None)
    assert 0.9 <= event["seconds_played"] <= 2.5
    started = datetime.fromisoformat(event["started_at"])
    assert abs((started - entry.start).total_seconds()) < 0.5  # on time, to a fraction of a second


def test_a_player_that_fails_is_logged_as_failed(tmp_path, tones):
    with Station(tmp_path, CommandPlayer(["false", "{file}"])) as station:
        station.schedule(tones["short"])
        event, = station.wait_for_events(1)
    assert (event["outcome"], event["reason"], event["seconds_played"]) == (
        "failed", "player exited with status 1", 0.0)


def test_a_missing_player_binary_is_logged_as_failed(tmp_path, tones):
    with Station(tmp_path, CommandPlayer(["/nonexistent/ffplay", "{file}"])) as station:
        station.schedule(tones["short"])
        event, = station.wait_for_events(1)
    assert (event["outcome"], event["reason"]) == ("failed", "player not found: /nonexistent/ffplay")


def test_ffplay_without_an_audio_device_ends_at_once_and_that_is_a_failure(tmp_path, tones):
    # A shell player that exits 0 at once, like ffplay does when it cannot open any audio device.
    with Station(tmp_path, CommandPlayer(["sh", "-c", "exit 0", "{file}"])) as station:
        station.schedule(tones["long"])
        event, = station.wait_for_events(1)
    assert event["outcome"] == "failed" and event["reason"].startswith("player ended after 0.")


def test_stop_ends_a_real_player_and_its_process(tmp_path, tones):
    need_tool("ffplay")
    with Station(tmp_path, CommandPlayer(FFPLAY, DUMMY_AUDIO)) as station:
        station.schedule(tones["long"], in_s=0.1)
        deadline = time.monotonic() + 5
        while station.engine.status()[0] != "playing" and time.monotonic() < deadline:
            time.sleep(0.02)
        process = station.engine.on_air.handle.process
        time.sleep(0.5)
        assert station.engine.stop_playback(3).result(timeout=5) == (True, "stopped slot1@today#0")
        event, = station.wait_for_events(1)
    assert process.poll() is not None
    assert event["outcome"] == "played" and event["reason"] == "stopped by command 3"
    assert 0.4 <= event["seconds_played"] <= 1.5
