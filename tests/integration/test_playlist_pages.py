"""The commune operator's playlists page: today's and tomorrow's compiled playlist of each station with a player,
the audio behind the players served only within the user's area, and the way there from the navigation."""

from __future__ import annotations

import re
import shutil

import pytest

from audio.processing import AudioStore
from broadcast.db.models import Structure
from broadcast.services import areas
from tests.airing import build_world
from tests.audio_fixtures import tone
from tests.conftest import log_in

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def world(seeded):
    """A 06:00 province session with two approved items on 29/11/2026, compiled; the clock at 06:30 that day."""
    return build_world(seeded)


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def area_id(app, code: str) -> int:
    with app.extensions["database"].sessions() as session:
        return areas.find_area(session, code, structure=Structure.CURRENT).id


def day_card(page: str, code: str, day: str) -> str:
    start = page.index(f'id="st-{code}-{day}"')
    return page[start:page.index("</div>", start)]


def rows(card: str) -> list[list[str]]:
    """The cells of each entry row, as text, with the player's source in place of the player."""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", card, re.S)[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        found.append([m.group(1) if (m := re.search(r'<audio controls preload="none" src="([^"]+)"', c))
                      else re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return found


def test_operator_lands_on_their_communes_playlists_from_the_navigation(world, client):
    log_in(client, "vanhanh")
    dashboard = page_of(client.get("/"))
    assert '<a href="/playlists">Danh sách phát</a>' in dashboard
    page = page_of(client.get("/playlists"))
    assert "<h1>Danh sách phát của Phường Hà Giang 1</h1>" in page
    assert '<a href="/playlists" aria-current="page">Danh sách phát</a>' in page
    assert 'id="st-HG1-01"' in page and 'id="st-HG1-02"' in page and "HG2-01" not in page


def test_todays_and_tomorrows_entries_with_local_times_kinds_and_players(world, client):
    log_in(client, "vanhanh")
    page = page_of(client.get("/playlists"))
    [first, second] = world["entries"]
    today = day_card(page, "HG1-01", "2026-11-29")
    assert "Hôm nay · Chủ Nhật, 29/11/2026" in today and "06:00–06:10 · Buổi sáng" in today
    assert "phiên bản 3, lập lúc 28/11/2026 22:00" in today  # the slot, then one version per item placed
    assert rows(today) == [
        ["06:00:00", "Tin một", "Bản tin", "1:00", f"/stations/HG1-01/audio/{first.audio.sha256}"],
        ["06:01:01", "Tin hai", "Bản tin", "1:00", f"/stations/HG1-01/audio/{second.audio.sha256}"],
    ]
    assert 'aria-label="Nghe: Tin một"' in today
    assert 'href="/stations/HG1-01/days/2026-11-29">Các buổi phát và xác nhận</a>' in today
    tomorrow = day_card(page, "HG1-01", "2026-11-30")
    assert "Ngày mai · Thứ Hai, 30/11/2026" in tomorrow and "Buổi này chưa có tin nào." in tomorrow
    assert 'href="/stations/HG1-01/days/2026-11-30"' in tomorrow
    # The commune's other station has the same day: said once, not played twice.
    same = day_card(page, "HG1-02", "2026-11-29")
    assert 'Giống danh sách phát của <a href="#st-HG1-01-2026-11-29">HG1-01</a>' in same and "<audio" not in same
    assert page.count("<audio ") == 2


def test_the_station_page_leads_to_the_playlists(seeded, world, client):
    log_in(client, "vanhanh")
    page = page_of(client.get("/stations/HG1-02"))
    assert f'href="/playlists?area={area_id(seeded, "00694")}#st-HG1-02">Nghe danh sách phát</a>' in page


def test_a_wider_area_chooses_a_commune_first(seeded, world, client):
    log_in(client, "bientap")
    page = page_of(client.get("/playlists"))
    assert '<a href="/playlists">' not in page  # the entry is for operators; editors come from a station
    picks = re.findall(r'<li><a href="/playlists\?area=(\d+)">([^<]+)</a> <span class="muted">([^<]+)</span>', page)
    assert [(int(i), name, n) for i, name, n in picks] == [
        (area_id(seeded, "00694"), "Phường Hà Giang 1", "số đài: 2"),
        (area_id(seeded, "00691"), "Phường Hà Giang 2", "số đài: 1"),
        (area_id(seeded, "00721"), "Xã Đồng Văn", "số đài: 1"),
    ]
    other = page_of(client.get(f"/playlists?area={area_id(seeded, '00691')}"))
    assert rows(day_card(other, "HG2-01", "2026-11-29"))[0][4].startswith("/stations/HG2-01/audio/")


def test_another_communes_playlists_are_forbidden(seeded, world, client):
    log_in(client, "vanhanh")
    response = client.get(f"/playlists?area={area_id(seeded, '00691')}")
    assert response.status_code == 403 and "nằm ngoài địa bàn của bạn" in response.get_data(as_text=True)


def test_audio_is_served_within_the_users_area_only(seeded, world, client, tmp_path):
    settings = seeded.extensions["settings"]
    sha = world["entries"][0].audio.sha256
    # The compiled playlist names the item's audio: put real audio in the store under that name.
    path = AudioStore(settings.resolved_audio_dir).path_for(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tone(tmp_path / "tone.mp3", 1.0), path)
    log_in(client, "vanhanh")
    heard = client.get(f"/stations/HG1-01/audio/{sha}")
    assert heard.status_code == 200 and heard.mimetype == "audio/mpeg" and heard.data == path.read_bytes()
    part = client.get(f"/stations/HG1-01/audio/{sha}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    # Another commune's station, though its playlist names the same file: not found for this operator.
    assert client.get(f"/stations/HG2-01/audio/{sha}").status_code == 404
    # A file the station's playlist does not name, and a name that is no digest.
    assert client.get(f"/stations/HG1-01/audio/{'f' * 64}").status_code == 404
    assert client.get("/stations/HG1-01/audio/..%2F..%2Fsecret_key").status_code == 404
    # The item's own audio route is the province's, not the commune operator's: why the station route exists.
    assert client.get(f"/api/v1/items/{world['entries'][0].item_id}/audio").status_code == 404
    log_in(client, "bientap")
    assert client.get(f"/stations/HG2-01/audio/{sha}").status_code == 200
    response = seeded.test_client().get(f"/stations/HG1-01/audio/{sha}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_titles_are_escaped(seeded, client):
    build_world(seeded, titles=(SCRIPT, "Tin hai"))
    log_in(client, "vanhanh")
    page = page_of(client.get("/playlists"))
    assert SCRIPT not in page
    assert "<td data-label=\"Tiêu đề\">&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert 'aria-label="Nghe: &lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_english_labels(world, client):
    log_in(client, "vanhanh")
    client.get("/lang/en")
    page = page_of(client.get("/playlists"))
    assert "Playlists of Phường Hà Giang 1" in page and "Today · Sunday, 29/11/2026" in page
    assert "Tomorrow · Monday, 30/11/2026" in page and ">Bulletin</span>" in page
