"""A commune operator opens the playlists from the navigation and listens to an entry, in Chromium, on a desktop
and a 360 px phone.

The app with the demo data and a compiled 06:00 session (tests/airing.py) is served on the loopback interface,
with real audio in the store under the name the playlist gives the first bulletin. Screenshots go to
tests/artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest

from audio.processing import AudioStore
from tests.airing import build_world
from tests.audio_fixtures import tone
from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(seeded, tmp_path) -> str:
    world = build_world(seeded)
    path = AudioStore(seeded.extensions["settings"].resolved_audio_dir).path_for(world["entries"][0].audio.sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tone(tmp_path / "tone.mp3", 2.0), path)
    with serve(seeded) as url:
        yield url


def test_operator_listens_to_todays_playlist(page, live_url):
    log_in(page, live_url, "vanhanh")
    page.get_by_role("navigation", name="Chính").get_by_role("link", name="Danh sách phát", exact=True).click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/playlists"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "Danh sách phát của Phường Hà Giang 1"
    today = page.locator("#st-HG1-01-2026-11-29")
    assert today.get_by_role("heading", level=3).inner_text().strip() == "Hôm nay · Chủ Nhật, 29/11/2026"
    assert today.locator("tbody tr td:nth-child(2)").all_inner_texts() == ["Tin một", "Tin hai"]
    players = today.locator("audio")
    assert players.count() == 2 and players.first.get_attribute("preload") == "none"
    screenshot(page, "playlists.png")

    # The player plays the file the page names, fetched with the operator's session.
    played = players.first.evaluate("""a => new Promise((done, fail) => {
        a.muted = true;
        a.addEventListener('playing', () => done(a.duration), {once: true});
        a.addEventListener('error', () => fail(new Error('cannot play: ' + (a.error && a.error.code))), {once: true});
        a.play().catch(fail);
    })""")
    assert 1.5 < played < 2.5

    today.get_by_role("link", name="Các buổi phát và xác nhận").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/stations/HG1-01/days/2026-11-29"


def test_playlists_fit_a_phone(phone, live_url):
    log_in(phone, live_url, "vanhanh")
    phone.goto(f"{live_url}/playlists")
    assert phone.locator("#st-HG1-01-2026-11-29 audio").first.is_visible()
    screenshot(phone, "playlists-360.png")
    fits_the_screen(phone)
