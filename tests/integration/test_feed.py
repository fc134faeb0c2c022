"""The e-portal's RSS podcast feed per area, and the public audio it encloses: real MP3 files, real HTTP
semantics (ETag, Range), read back with feedparser.

The world is legacy Hà Giang, which still has districts: Thành phố Hà Giang (024) with the ward Quang Trung
(00688), and Đồng Văn (026) with the township Phố Bảng (00712), where one station stands.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import feedparser
import pytest

from audio.processing import AudioStore
from broadcast.db.models import AudioAsset, RenderState, Role, Structure
from broadcast.services import areas, items, placements, slots, stations, users
from tests.audio_fixtures import tone

NOW = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)  # 12:00 in Hà Giang
TODAY = date(2026, 11, 28)
RSS = "application/rss+xml; charset=utf-8"

# title -> targets, in the order they are approved (the feed lists the newest first)
PUBLISHED = {
    "Toàn tỉnh: phòng chống rét đậm": ["02"],
    "Phường Quang Trung: tiêm chủng": ["00688"],
    "Huyện Đồng Văn: chợ phiên": ["026"],
    "Thị trấn Phố Bảng: họp tổ dân phố": ["station:PB-01"],
}
EXPECTED = {
    "00688": ["Phường Quang Trung: tiêm chủng", "Toàn tỉnh: phòng chống rét đậm"],  # its own, and the province's
    "00691": ["Toàn tỉnh: phòng chống rét đậm"],  # a neighbour ward hears only the province
    "00712": ["Thị trấn Phố Bảng: họp tổ dân phố", "Huyện Đồng Văn: chợ phiên", "Toàn tỉnh: phòng chống rét đậm"],
    "024": ["Phường Quang Trung: tiêm chủng", "Toàn tỉnh: phòng chống rét đậm"],  # its ward's, and the province's
    "026": ["Thị trấn Phố Bảng: họp tổ dân phố", "Huyện Đồng Văn: chợ phiên", "Toàn tỉnh: phòng chống rét đậm"],
    "02": list(reversed(PUBLISHED)),
}


@pytest.fixture
def world(app, tmp_path):
    """Published items with real MP3 audio, plus items that must not show: unapproved, silent, long past."""
    app.extensions["clock"] = lambda: NOW
    store = AudioStore(app.extensions["settings"].resolved_audio_dir)
    files: dict[str, Path] = {}
    with app.extensions["database"].sessions() as session:
        areas.load_province(session, "Hà Giang", Structure.LEGACY)
        province = areas.find_area(session, "02")
        editor = users.create_user(session, username="bientap", password="long enough", role=Role.EDITOR,
                                   scope_area=province)
        approver = users.create_user(session, username="pheduyet", password="long enough", role=Role.APPROVER,
                                     scope_area=province)
        stations.add_station(session, stations.StationSpec(code="PB-01", commune=areas.find_area(session, "00712")))
        slot = slots.create_slot(session, editor, slots.SlotSpec(name="Buổi sáng", start_time=time(6, 0),
                                                                 duration_s=3600, valid_from=date(2026, 9, 1)),
                                 area=province)

        def item(title: str, targets: list[str], *, audio=True, approve=True, first=TODAY, today=TODAY):
            made = items.create_item(session, editor, items.ItemFields(title=title, body=f"{title}. Kính mời bà con."))
            if audio:
                mp3 = tone(tmp_path / f"{len(files)}.mp3", 1.5 + len(files) / 4, freq=300 + 50 * len(files))
                stored = store.put(mp3)
                made.audio_asset = AudioAsset(sha256=stored.sha256, size_bytes=stored.size_bytes,
                                              duration_ms=1500 + 250 * len(files), origin="upload")
                made.render_state = RenderState.READY
                session.commit()
                files[title] = stored.path
            items.submit(session, editor, made)
            if approve:
                items.approve(session, approver, made)
            placements.create_placement(session, editor, placements.PlacementSpec(
                item_id=made.id, slot_id=slot.id, targets=targets, date_from=first,
                date_until=first + timedelta(days=6)), today=today)

        for title, targets in PUBLISHED.items():
            item(title, targets)
        item("Chưa duyệt", ["00688"], approve=False)
        item("Chưa có âm thanh", ["00688"], audio=False)
        item("Tháng chín", ["00688"], first=date(2026, 9, 1), today=date(2026, 9, 1))  # ended 12 weeks ago
    return files


def _feed(client, code: str):
    response = client.get(f"/feeds/{code}.rss")
    assert response.status_code == 200, response.get_data(as_text=True)
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return response, parsed


def test_each_area_lists_its_own_items_those_from_above_and_those_from_below(app, world):
    client = app.test_client()
    for code, titles in EXPECTED.items():
        response, parsed = _feed(client, code)
        assert response.content_type == RSS
        assert parsed.version == "rss20"
        assert parsed.feed.language == "vi"
        assert [e.title for e in parsed.entries] == titles, code
    with app.extensions["database"].sessions() as session:
        name = areas.find_area(session, "00688").name
    assert _feed(client, "00688")[1].feed.title == f"Bản tin phát thanh — {name}"


def test_enclosures_name_the_exact_audio_and_serve_it_with_ranges(app, world):
    client = app.test_client()
    _, parsed = _feed(client, "00712")
    assert len(parsed.entries) == 3
    for entry in parsed.entries:
        path = world[entry.title]
        data = path.read_bytes()
        [enclosure] = entry.enclosures
        assert enclosure["type"] == "audio/mpeg"
        assert int(enclosure["length"]) == path.stat().st_size == len(data)
        assert entry.id == f"urn:radio:item:{entry.id.split(':')[3]}:{path.stem}"
        assert entry.itunes_duration.startswith("0:00:0")
        whole = client.get(enclosure["href"])
        assert whole.status_code == 200 and whole.mimetype == "audio/mpeg"
        assert whole.data == data
        part = client.get(enclosure["href"], headers={"Range": "bytes=100-1123"})
        assert part.status_code == 206
        assert part.data == data[100:1124]
        assert part.headers["Content-Range"] == f"bytes 100-1123/{len(data)}"


def test_audio_that_is_not_published_is_not_served(app, world):
    client = app.test_client()
    for title in ("Chưa duyệt", "Tháng chín"):
        sha = world[title].stem
        assert world[title].is_file()  # the file exists: only publication decides
        missing = client.get(f"/feeds/audio/{sha}.mp3")
        assert missing.status_code == 404, title
        assert "Không có bản tin đã phát hành nào có âm thanh này." in missing.get_data(as_text=True)
    assert client.get(f"/feeds/audio/{'0' * 64}.mp3").status_code == 404
    assert client.get("/feeds/audio/..%2F..%2Fsecret_key.mp3").status_code == 404
    published = world["Toàn tỉnh: phòng chống rét đậm"].stem
    assert client.get(f"/feeds/audio/{published}.mp3").status_code == 200


def test_an_unknown_area_is_404_with_the_reason(app):
    response = app.test_client().get("/feeds/99999.rss")
    assert response.status_code == 404
    assert "Không có địa bàn nào mang mã 99999." in response.get_data(as_text=True)


def test_conditional_get_answers_304_until_the_feed_changes(app, world):
    client = app.test_client()
    first, _ = _feed(client, "00688")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and modified
    same = client.get("/feeds/00688.rss", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.data == b""
    assert client.get("/feeds/00688.rss", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/feeds/00691.rss", headers={"If-None-Match": etag}).status_code == 200  # another feed

    with app.extensions["database"].sessions() as session:
        editor, approver = users.get_user(session, "bientap"), users.get_user(session, "pheduyet")
        late = next(i for i in items.list_items(session, editor) if i.title == "Chưa duyệt")
        items.approve(session, approver, late)
    changed = client.get("/feeds/00688.rss", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert feedparser.parse(changed.data).entries[0].title == "Chưa duyệt"
