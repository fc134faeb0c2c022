"""Exports that must work in other people's tools: a station's day as M3U8, played by a real player from a saved
file against the live service, the signed audio links it carries, and the iCalendar's content type.

The service is seeded and served on a loopback port (see test_agent_sync.py); its clock stands still the evening
before the first airing.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from stations.manifest import from_json
from tests import audio_fixtures
from tests.integration.test_agent_sync import NOW, live_service, sqlite_database
from tests.services import need_tool

DAY = "2026-11-29"
DECODE_RATE = 8000  # mono 16-bit samples per second that ffmpeg writes out; enough to count seconds


@pytest.fixture
def database(tmp_path):
    yield from sqlite_database(tmp_path)


@pytest.fixture
def service(seeded, client, settings):
    yield from live_service(seeded, client, settings)


@pytest.fixture(scope="module")
def tones(tmp_path_factory) -> list[Path]:
    """Four real MP3 files of different lengths and pitches (so different sha256)."""
    folder = tmp_path_factory.mktemp("tones")
    return [audio_fixtures.tone(folder / f"tone{n}.mp3", seconds, freq=freq)
            for n, (seconds, freq) in enumerate(((1.0, 440), (1.5, 550), (2.0, 660), (1.0, 880)))]


def day_entries(service, code: str = "HG1-01"):
    manifest = from_json(service.manifest_body(code))
    return next(day for day in manifest.days if day.date.isoformat() == DAY).entries


def fetch_playlist(service, code: str = "HG1-01", **headers) -> requests.Response:
    answer = requests.get(f"{service.url}/api/v1/stations/{code}/playlists/{DAY}.m3u8", timeout=10,
                          headers={**service.people["bientap"], **headers})
    answer.raise_for_status()
    return answer


def urls_of(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def decode(playlist: Path) -> float:
    """Play ``playlist`` as a person would open a saved file, with ffmpeg decoding to raw samples; the seconds
    of audio it decoded. Its entries are fetched over HTTP with no login (http is allowed from a local list)."""
    done = subprocess.run(
        [need_tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error",
         "-protocol_whitelist", "file,http,https,tcp,tls,crypto,data", "-i", str(playlist),
         "-map", "0:a", "-ac", "1", "-ar", str(DECODE_RATE), "-f", "s16le", "-"],
        capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return len(done.stdout) / 2 / DECODE_RATE


def test_a_saved_day_playlist_plays_in_ffmpeg_from_its_first_entry(service, tmp_path, tones):
    for n, tone in enumerate(tones):
        service.place(f"Tin số {n + 1}", tone)
    entries = day_entries(service)
    assert len(entries) == 4  # more than the three last entries a player starts from in a live HLS list
    answer = fetch_playlist(service)
    assert answer.headers["Content-Type"] == "audio/x-mpegurl; charset=utf-8"
    saved = tmp_path / f"HG1-01-{DAY}.m3u8"
    saved.write_bytes(answer.content)

    seconds = decode(saved)

    # Every entry was fetched, in order, the first one first, and played to its end.
    fetched = [path for path, _ in service.recorder.audio_gets()]
    assert fetched == [f"/api/v1/audio/{e.audio.sha256}.mp3" for e in entries]
    expected = sum(e.play_ms for e in entries) / 1000
    # MP3 framing blurs each file's length by a frame or two (26 ms each); the shortest entry lasts a second.
    assert expected - 0.3 <= seconds <= expected + 0.3, (seconds, expected)
    # What it read: an extended M3U whose entries are absolute links to this very service.
    text = answer.content.decode("utf-8")
    assert text.startswith("#EXTM3U\n") and f"#EXTINF:{entries[0].play_ms / 1000:.3f},Tin số" in text
    assert all(u.startswith(f"{service.url}/api/v1/audio/") for u in urls_of(text))


def test_playlist_links_open_one_file_without_a_login_until_they_expire(service, tones):
    first, second = service.place("Tin tỉnh", tones[0]), service.place("Thông báo", tones[1])
    [link] = [u for u in urls_of(fetch_playlist(service).text) if urlsplit(u).path.endswith(f"/{first}.mp3")]
    query = parse_qs(urlsplit(link).query)
    assert set(query) == {"expires", "signature"}
    path = urlsplit(link).path
    client = service.client  # no cookie, no token

    opened = client.get(f"{path}?{urlsplit(link).query}")
    assert opened.status_code == 200 and opened.mimetype == "audio/mpeg"
    assert opened.data == tones[0].read_bytes()
    # The old name works the same, with the same link; and a player resumes with Range.
    assert client.get(f"/api/v1/audio/{first}?{urlsplit(link).query}").data == opened.data
    assert client.get(f"{path}?{urlsplit(link).query}", headers={"Range": "bytes=0-9"}).status_code == 206

    # One file only: the proof of one opens no other; a forged or cut proof opens nothing; none at all is 401.
    assert client.get(f"/api/v1/audio/{second}.mp3?{urlsplit(link).query}").status_code == 403
    forged = query["signature"][0][::-1]
    assert client.get(f"{path}?expires={query['expires'][0]}&signature={forged}").status_code == 403
    assert client.get(f"{path}?expires={query['expires'][0]}").status_code == 403
    assert client.get(f"{path}?expires={int(query['expires'][0]) + 3600}&signature={query['signature'][0]}"
                      ).status_code == 403  # a later expiry is not the one signed
    for junk in ("expires=%C2%B2&signature=%C3%A9", f"expires={'9' * 5000}&signature=x", "signature="):
        assert client.get(f"{path}?{junk}").status_code == 403  # refused, never a server error
    assert client.get(path).status_code == 401

    # A week and more later the link is refused, and says what to do; the person, signed in, still gets it.
    service.app.extensions["clock"] = lambda: NOW + timedelta(days=9)
    expired = client.get(f"{path}?{urlsplit(link).query}", headers={"Accept-Language": "vi"})
    assert expired.status_code == 403 and "tải lại danh sách phát" in expired.json["message"]
    assert client.get(path, headers=service.people["bientap"]).status_code == 200
    assert client.get(f"/api/v1/audio/{first}", headers=service.people["bientap"]).status_code == 200


def test_playlist_links_use_the_public_address_when_one_is_set(service, tones):
    service.place("Tin tỉnh", tones[0])
    settings = service.app.extensions["settings"]
    service.app.extensions["settings"] = settings.model_copy(update={"public_url": "https://radio.example.vn/tq"})
    try:
        [link] = urls_of(fetch_playlist(service).text)
    finally:
        service.app.extensions["settings"] = settings
    assert link.startswith("https://radio.example.vn/tq/api/v1/audio/") and ".mp3?expires=" in link


def test_the_area_calendar_names_its_charset_once(service):
    answer = service.client.get("/api/v1/areas/00694/schedule.ics", headers=service.people["bientap"])
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.data.startswith(b"BEGIN:VCALENDAR")
