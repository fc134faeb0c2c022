"""A day with a live relay, exported as M3U8 and opened in a real player (ffmpeg, as ffplay and mpv read it).

A player reads each entry of the list to its end, whatever its #EXTINF says, and a live Icecast mount has no end:
a relay written as its stream's address kept the player on the stream for good, and the rest of the day never
played. The export writes the relay's window as the fallback the station airs (the slot's filler, looped and cut
to the window, as the station would loop it), names the stream in a comment and the title, and plays through.
"""

from __future__ import annotations

import hashlib
import subprocess

import pytest
import requests

from broadcast.db.models import AudioAsset, Slot
from stations.manifest import from_json
from tests import audio_fixtures
from tests.icecast import icecast_or_skip
from tests.integration.test_agent_sync import live_service, sqlite_database
from tests.integration.test_stream_relay import Source, place_relay
from tests.services import need_tool

pytestmark = pytest.mark.slow

DAY = "2026-11-29"
FILLER_S = 60.0


@pytest.fixture
def database(tmp_path):
    yield from sqlite_database(tmp_path)


@pytest.fixture
def service(seeded, client, settings, tmp_path):
    """The live service; its 06:00 slot (10 minutes) has a real one-minute MP3 as filler."""
    filler = audio_fixtures.tone(tmp_path / "filler.mp3", FILLER_S, freq=660)
    for live in live_service(seeded, client, settings):
        payload = filler.read_bytes()
        sha = hashlib.sha256(payload).hexdigest()
        (live.audio_dir / sha[:2]).mkdir(parents=True, exist_ok=True)
        (live.audio_dir / sha[:2] / f"{sha}.mp3").write_bytes(payload)
        duration_ms = round(float(audio_fixtures.ffprobe(filler)["format"]["duration"]) * 1000)
        with live.database.sessions() as session:
            session.get(Slot, live.slot_id).filler_asset = AudioAsset(
                sha256=sha, size_bytes=len(payload), duration_ms=duration_ms, origin="filler")
            session.commit()
        live.filler_sha = sha
        yield live


def test_a_day_with_a_relay_plays_to_its_end_in_ffmpeg(service, tmp_path):
    with icecast_or_skip() as icecast:
        source = Source(icecast, "vov1.mp3").start()
        try:
            url = icecast.listen_url("vov1.mp3")
            place_relay(service, url, 150)  # two and a half minutes of the ten
            answer = requests.get(f"{service.url}/api/v1/stations/HG1-01/playlists/{DAY}.m3u8", timeout=10,
                                  headers=service.people["bientap"])
            answer.raise_for_status()
            text = answer.text
            saved = tmp_path / f"HG1-01-{DAY}.m3u8"
            saved.write_bytes(answer.content)
            try:
                done = subprocess.run(
                    [need_tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error",
                     "-protocol_whitelist", "file,http,https,tcp,tls,crypto,data", "-i", str(saved),
                     "-map", "0:a", "-ac", "1", "-ar", "8000", "-f", "s16le", "-"],
                    capture_output=True, timeout=60, check=False)
            except subprocess.TimeoutExpired:
                pytest.fail("the player never got past the relay: the day's playlist did not end")
        finally:
            source.stop()
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    seconds = len(done.stdout) / 2 / 8000
    # The whole slot: the relay's window as filler (one minute, one minute, then half a minute cut, which
    # ffmpeg plays whole, as it does the slot's last filler), then the slot's own filler to its end.
    manifest = from_json(service.manifest_body())
    day = next(d for d in manifest.days if d.date.isoformat() == DAY)
    planned = sum(e.play_ms for e in day.entries) / 1000
    assert planned - 1 <= seconds <= planned + 2 * FILLER_S, (seconds, planned)
    lines = text.splitlines()
    # The stream is named, but only in a comment and the title; every line a player opens is our audio.
    assert url not in [line for line in lines if not line.startswith("#")]
    assert any(line.startswith("#") and url in line for line in lines)
    # The window as three plays of the one-minute filler, titled as the relay, the last cut at 150 s in all.
    relayed = [n for n, line in enumerate(lines) if line.startswith("#EXTINF:") and line.endswith(",Tiếp sóng VOV1")]
    assert len(relayed) == 3
    assert sum(float(lines[n].split(":")[1].split(",")[0]) for n in relayed) == 150.0
    assert lines[relayed[0] - 1] == "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T06:00:00+07:00"
    assert lines[relayed[-1] + 1].startswith("#EXTVLCOPT:stop-time=")
    assert all(f"/api/v1/audio/{service.filler_sha}.mp3" in lines[n + 1] for n in relayed[:2])
