"""Recordings from the item page and the media library, on SQLite and PostgreSQL through the Flask test client.

The upload route of the item page takes a real file (tones, silence and speech made by ffmpeg and espeak-ng, a
WebM/Opus file as a browser's MediaRecorder makes one) as a plain form (redirect and message) and from the page's
script (JSON); a refused file leaves nothing stored. The library lists what the reader's area may see, finds by
title, language and kind, reuses a recording in a new draft (the same audio, not a copy), takes fillers and jingles
and sets one as a slot's filler.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from broadcast import create_app, load_settings
from broadcast.audio_setup import audio_tools
from broadcast.db.models import (
    Area,
    AudioAsset,
    ContentSource,
    Level,
    LibraryClip,
    NewsItem,
    RenderState,
    Role,
    Slot,
    Structure,
)
from broadcast.services import areas, items, slots, stations, users
from broadcast.services.demo import DEMO_PASSWORD
from stations import manifest as wire
from tests.audio_fixtures import silence, speech, tone
from tests.conftest import csrf_from, log_in
from tests.services import need_tool

JSON = {"Accept": "application/json"}


@pytest.fixture
def app(tmp_path, database):
    # 1 MB and 6 s at most, so "too long" and "too large" files stay small.
    settings = load_settings(instance_path=tmp_path / "instance", database_url=database.url, upload_max_mb=1,
                             upload_max_minutes=0.1, totp_required_roles="")
    app = create_app(settings)
    app.config.update(TESTING=True)
    from broadcast.services import demo

    with app.app_context(), database.sessions() as session:
        list(demo.seed(session))
    yield app
    app.extensions["database"].dispose()


def sessions(app):
    return app.extensions["database"].sessions()


def signed_in(app, username: str):
    client = app.test_client()
    log_in(client, username)
    return client


def recording_item(app, *, author: str = "bientap", title: str = "Chương trình tiếng Mông", language: str = "hmn",
                   owner: str | None = None) -> int:
    with app.app_context(), sessions(app) as session:
        user = users.get_user(session, author)
        area = areas.find_area(session, owner) if owner else None
        return items.create_item(session, user, items.ItemFields(
            title=title, language=language, content_source=ContentSource.RECORDING), owner_area=area).id


def upload(client, item_id: int, path: Path, *, as_script: bool = True, name: str | None = None):
    token = csrf_from(client.get(f"/items/{item_id}").data)
    with path.open("rb") as fh:
        return client.post(f"/items/{item_id}/recording", data={"csrf_token": token, "file": (fh, name or path.name)},
                           headers=JSON if as_script else {}, content_type="multipart/form-data")


def stored_item(app, item_id: int) -> NewsItem:
    with sessions(app) as session:
        item = session.get(NewsItem, item_id)
        item.audio_asset  # noqa: B018 - loaded before the session closes
        session.expunge_all()
        return item


def nothing_stored(app) -> bool:
    store = audio_tools(app.extensions["settings"]).store
    with sessions(app) as session:
        assets = session.scalar(select(func.count(AudioAsset.id)))
    work = Path(app.extensions["settings"].instance_path) / "work"
    return assets == 0 and not any(p.is_file() for p in store.root.rglob("*")) and not any(work.glob("*"))


def browser_take(path: Path, seconds: float = 3) -> Path:
    """Speech in Opus, in WebM (as Chromium's MediaRecorder makes it) or Ogg (as Firefox's does), by the suffix."""
    source = speech(path.with_suffix(".wav"), "Xin chào bà con, đây là chương trình tiếng Mông.")
    subprocess.run([need_tool("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(source), "-t", str(seconds),
                    "-c:a", "libopus", "-b:a", "32k", str(path)], check=True, timeout=60)
    return path


def test_a_good_file_from_the_page_script_gives_its_duration_and_player(app, tmp_path):
    client = signed_in(app, "bientap")
    item_id = recording_item(app)
    answer = upload(client, item_id, tone(tmp_path / "tone.mp3", 4, lead_s=0.2))
    assert answer.status_code == 200, answer.json
    assert 3500 <= answer.json["duration_ms"] <= 4300 and answer.json["duration"] == "0:04"
    assert answer.json["message"] == "Đã tải bản ghi lên: 0:04."
    audio = client.get(answer.json["audio_url"])
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg"
    item = stored_item(app, item_id)
    assert item.render_state is RenderState.READY and item.audio_asset.origin == "upload"

    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert '<strong id="recording-duration">0:04</strong>' in page
    assert re.search(rf'<audio id="recording-player" controls preload="metadata" src="/api/v1/items/{item_id}/audio'
                     rf'\?v=[0-9a-f]{{12}}"', page)
    assert re.search(r'<audio id="recording-player" [^>]*aria-label="Nghe: Chương trình tiếng Mông"', page)


def test_without_javascript_the_form_comes_back_with_the_message(app, tmp_path):
    client = signed_in(app, "bientap")
    item_id = recording_item(app)
    done = upload(client, item_id, tone(tmp_path / "tone.wav", 2), as_script=False)
    assert done.status_code == 302 and done.headers["Location"] == f"/items/{item_id}#recording"
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Đã tải bản ghi lên: 0:02." in page and '<strong id="recording-duration">0:02</strong>' in page

    refused = upload(client, item_id, silence(tmp_path / "quiet.wav", 3), as_script=False)
    assert refused.status_code == 302
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    # Next to the file field, once (not also at the top of the page), and the earlier recording kept.
    assert page.count("Bản ghi im lặng") == 1
    assert re.search(r'<p id="recording-message" class="upload-message error" role="alert" aria-live="polite">'
                     r'Bản ghi im lặng', page)
    assert '<strong id="recording-duration">0:02</strong>' in page
    again = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Bản ghi im lặng" not in again  # said once


def _text_file(path: Path) -> Path:
    path.write_text("<html>không phải âm thanh</html>" * 40)
    return path


@pytest.mark.parametrize(("make", "status", "says"), [
    (lambda p: (p.write_bytes(b""), p)[1], 422, "Tệp rỗng."),
    (_text_file, 422, "Tệp không phải âm thanh"),
    (lambda p: tone(p.with_suffix(".mp3"), 8), 422, "Bản ghi dài hơn 0,1 phút."),
    (lambda p: tone(p.with_suffix(".mp3"), 0.2), 422, "Bản ghi quá ngắn, không đủ để phát."),
    (lambda p: silence(p.with_suffix(".wav"), 3), 422, "Bản ghi im lặng"),
], ids=["empty", "garbage", "too-long", "too-short", "silent"])
def test_a_bad_file_is_refused_with_its_reason_and_nothing_is_written(app, tmp_path, make, status, says):
    client = signed_in(app, "bientap")
    item_id = recording_item(app)
    refused = upload(client, item_id, make(tmp_path / "upload.mp3"))
    assert refused.status_code == status
    assert refused.json["message"].startswith(says) and refused.json["field"] == "file"
    assert nothing_stored(app)
    item = stored_item(app, item_id)
    assert item.audio_asset_id is None and item.render_state is RenderState.NONE


def test_the_api_refuses_a_silent_recording_too(app, tmp_path):
    with app.app_context(), sessions(app) as session:
        token = users.issue_api_token(session, users.get_user(session, "bientap"), "test")
    item_id = recording_item(app)
    with silence(tmp_path / "quiet.wav", 3).open("rb") as fh:
        refused = app.test_client().post(f"/api/v1/items/{item_id}/recording", data={"file": (fh, "quiet.wav")},
                                         headers={"Authorization": f"Bearer {token}"},
                                         content_type="multipart/form-data")
    assert refused.status_code == 422 and refused.json["details"] == {"reason": "silent"}
    assert refused.json["message"] == "Bản ghi im lặng: không nghe thấy âm thanh nào."
    assert nothing_stored(app)


def test_a_file_over_the_size_limit_is_refused_with_413(app, tmp_path):
    client = signed_in(app, "bientap")
    item_id = recording_item(app)
    big = tmp_path / "big.wav"
    big.write_bytes(b"RIFF" + b"\0" * 1_100_000)
    refused = upload(client, item_id, big)
    assert refused.status_code == 413 and refused.json["message"] == "Tệp lớn hơn 1 MB."
    assert nothing_stored(app)


@pytest.mark.parametrize("name", ["ghi-am.webm", "ghi-am.ogg"])
def test_opus_from_a_browser_is_converted_like_any_upload(app, tmp_path, name):
    client = signed_in(app, "bientap")
    item_id = recording_item(app)
    answer = upload(client, item_id, browser_take(tmp_path / name))
    assert answer.status_code == 200, answer.json
    item = stored_item(app, item_id)
    assert item.audio_asset.mime_type == "audio/mpeg" and 1500 <= item.audio_asset.duration_ms <= 3300
    data = client.get(f"/api/v1/items/{item_id}/audio").data
    assert data[:3] == b"ID3" or data[0] == 0xFF  # MP3, the station format, not the Opus that was sent


def test_a_new_mong_item_is_saved_with_its_recording_in_one_form(app, tmp_path):
    client = signed_in(app, "bientap")
    form = client.get("/items/new").get_data(as_text=True)
    # Without JavaScript the file field is there to use (items.js hides it while a voice reads the bulletin).
    assert '<div id="recording" class="recording-panel">' in form and 'form="item-form"' in form
    token = csrf_from(form)
    with tone(tmp_path / "t.mp3", 3).open("rb") as fh:
        saved = client.post("/items/new", content_type="multipart/form-data", data={
            "csrf_token": token, "title": "Tin tiếng Mông", "body": "", "language": "hmn", "item_class": "normal",
            "content_source": "recording", "file": (fh, "t.mp3")})
    assert saved.status_code == 302
    item_id = int(re.fullmatch(r"/items/(\d+)", saved.headers["Location"]).group(1))
    item = stored_item(app, item_id)
    assert item.content_source is ContentSource.RECORDING and item.audio_asset.duration_ms > 2500

    # The same from the page's script with a refused file: the item is saved, the reason waits on its page.
    with _text_file(tmp_path / "x.mp3").open("rb") as fh:
        answer = client.post("/items/new", content_type="multipart/form-data", headers=JSON, data={
            "csrf_token": token, "title": "Tin tiếng Tày", "language": "tay", "item_class": "normal",
            "content_source": "recording", "file": (fh, "x.mp3")})
    assert answer.status_code == 200
    page = client.get(answer.json["location"]).get_data(as_text=True)
    assert 'class="upload-message error" role="alert"' in page and "Tệp không phải âm thanh" in page


def test_an_operator_cannot_upload_to_a_province_item(app, tmp_path):
    item_id = recording_item(app)
    client = signed_in(app, "vanhanh")
    token = csrf_from(client.get("/media").data)
    with tone(tmp_path / "t.mp3", 2).open("rb") as fh:
        refused = client.post(f"/items/{item_id}/recording", data={"csrf_token": token, "file": (fh, "t.mp3")},
                              headers=JSON, content_type="multipart/form-data")
    assert refused.status_code == 404
    assert nothing_stored(app)


def _attach(app, client, item_id, path):
    assert upload(client, item_id, path).status_code == 200


def add_clip(client, path: Path, title: str, kind: str = "jingle", language: str = "", as_script=True):
    token = csrf_from(client.get("/media").data)
    with path.open("rb") as fh:
        return client.post("/media/clips", content_type="multipart/form-data", headers=JSON if as_script else {},
                           data={"csrf_token": token, "title": title, "kind": kind, "language": language,
                                 "file": (fh, path.name)})


def rows(page: str) -> list[str]:
    return re.findall(r'<tr class="media-entry" data-kind="(\w+)">\s*<td data-label="[^"]+">(?:<a [^>]+>)?([^<]+)',
                      page)


def test_the_library_lists_what_each_area_may_see_and_finds_by_title_language_and_kind(app, tmp_path):
    editor, operator = signed_in(app, "bientap"), signed_in(app, "vanhanh")
    province = recording_item(app, title="Chương trình tiếng Mông tuần 1")
    commune = recording_item(app, author="vanhanh", title="Thông báo tiếng Tày của phường", language="tay")
    _attach(app, editor, province, tone(tmp_path / "a.mp3", 3, freq=300))
    _attach(app, operator, commune, tone(tmp_path / "b.mp3", 2, freq=500))
    added = add_clip(editor, tone(tmp_path / "j.wav", 2, freq=700), "Nhạc hiệu đài tỉnh")
    assert added.status_code == 200 and added.json["location"] == "/media"

    page = editor.get("/media").get_data(as_text=True)
    assert sorted(rows(page)) == [("jingle", "Nhạc hiệu đài tỉnh"), ("recording", "Chương trình tiếng Mông tuần 1"),
                                  ("recording", "Thông báo tiếng Tày của phường")]
    assert "Biên tập viên tỉnh" in page and "Vận hành viên phường Hà Giang 1" in page  # full names
    assert re.search(r'<td data-label="[^"]+" class="num">0:03</td>', page)
    assert re.search(r'<td data-label="[^"]+" class="media-date">\d\d/\d\d/\d{4}</td>', page)

    # The operator: their commune's recording and the province's jingle (it plays there), not the province's items.
    page = operator.get("/media").get_data(as_text=True)
    assert sorted(rows(page)) == [("jingle", "Nhạc hiệu đài tỉnh"), ("recording", "Thông báo tiếng Tày của phường")]
    with sessions(app) as session:
        province_sha = session.get(NewsItem, province).audio_asset.sha256
    assert operator.get(f"/api/v1/items/{province}/audio").status_code == 404
    assert province_sha not in page

    assert rows(editor.get("/media?q=m%C3%B4ng").get_data(as_text=True)) == [
        ("recording", "Chương trình tiếng Mông tuần 1")]
    assert rows(editor.get("/media?q=T%C3%A0y").get_data(as_text=True)) == [
        ("recording", "Thông báo tiếng Tày của phường")]  # by language name
    assert rows(editor.get("/media?kind=jingle").get_data(as_text=True)) == [("jingle", "Nhạc hiệu đài tỉnh")]
    assert rows(editor.get("/media?language=hmn").get_data(as_text=True)) == [
        ("recording", "Chương trình tiếng Mông tuần 1")]
    assert rows(editor.get("/media?q=kh%C3%B4ng+c%C3%B3").get_data(as_text=True)) == []

    clip_audio = editor.get(re.search(r'src="(/media/clips/\d+/audio)"', page).group(1))
    assert clip_audio.status_code == 200 and clip_audio.mimetype == "audio/mpeg"


def test_use_in_a_new_item_shares_the_audio_and_the_library_lists_it_once(app, tmp_path):
    editor = signed_in(app, "bientap")
    source = recording_item(app, title="Bản tin tiếng Dao", language="dao")
    _attach(app, editor, source, tone(tmp_path / "a.mp3", 3))
    token = csrf_from(editor.get("/media").data)
    made = editor.post("/media/reuse", data={"csrf_token": token, "item_id": source})
    assert made.status_code == 302
    new_id = int(re.fullmatch(r"/items/(\d+)", made.headers["Location"]).group(1))
    old, new = stored_item(app, source), stored_item(app, new_id)
    assert new_id != source and new.status.value == "draft" and new.language == "dao"
    assert new.audio_asset_id == old.audio_asset_id and new.render_state is RenderState.READY
    # The draft carries the original's title: the message says so rather than asking for a title it already has.
    assert new.title == "Bản tin tiếng Dao"
    assert ("Đã tạo bản tin nháp mới dùng bản ghi này, với tiêu đề của bản gốc; hãy sửa tiêu đề nếu cần rồi gửi "
            "phê duyệt.") in editor.get(made.headers["Location"]).get_data(as_text=True)
    with sessions(app) as session:
        assert session.scalar(select(func.count(AudioAsset.id))) == 1
    assert rows(editor.get("/media").get_data(as_text=True)) == [("recording", "Bản tin tiếng Dao")]
    assert editor.get(f"/api/v1/items/{new_id}/audio").status_code == 200

    # An operator cannot reuse what their area may not see.
    operator = signed_in(app, "vanhanh")
    token = csrf_from(operator.get("/media").data)
    assert operator.post("/media/reuse", data={"csrf_token": token, "item_id": source}).status_code == 404


def province_slot(app) -> int:
    with app.app_context(), sessions(app) as session:
        editor = users.get_user(session, "bientap")
        return slots.create_slot(session, editor, slots.SlotSpec(
            name="Buổi sáng", start_time=time(6, 0), duration_s=3600, valid_from=date.today()),
            area=editor.scope_area).id


def test_a_jingle_becomes_a_slots_filler_and_a_bad_clip_is_refused(app, tmp_path):
    editor = signed_in(app, "bientap")
    slot_id = province_slot(app)
    refused = add_clip(editor, silence(tmp_path / "q.wav", 2), "Im lặng")
    assert refused.status_code == 422 and refused.json["message"].startswith("Bản ghi im lặng")
    no_title = add_clip(editor, tone(tmp_path / "t.mp3", 2), "  ", as_script=False)
    assert no_title.status_code == 302
    assert nothing_stored(app)
    assert "Hãy đặt tiêu đề cho bản ghi." in editor.get("/media").get_data(as_text=True)

    assert add_clip(editor, tone(tmp_path / "f.mp3", 3), "Nhạc đệm buổi sáng", kind="filler").status_code == 200
    with sessions(app) as session:
        clip = session.scalar(select(LibraryClip))
        assert clip.audio_asset.origin == "filler" and clip.uploaded_by.username == "bientap"
        clip_id, asset_id = clip.id, clip.audio_asset_id
    page = editor.get("/media").get_data(as_text=True)
    assert f'action="/media/clips/{clip_id}/filler"' in page and f'<option value="{slot_id}">Buổi sáng' in page
    token = csrf_from(page)
    chosen = editor.post(f"/media/clips/{clip_id}/filler", data={"csrf_token": token, "slot_id": slot_id})
    assert chosen.status_code == 302
    with sessions(app) as session:
        assert session.get(Slot, slot_id).filler_asset_id == asset_id
    assert "nay lấp chỗ trống của khung giờ" in editor.get("/media").get_data(as_text=True)

    # An operator plans only their commune's slots: the province's slot is not theirs to change.
    operator = signed_in(app, "vanhanh")
    page = operator.get("/media").get_data(as_text=True)
    assert f'<option value="{slot_id}">' not in page and "Nhạc đệm buổi sáng" in page


def test_a_communes_filler_stays_in_its_commune(app, tmp_path):
    with app.app_context(), sessions(app) as session:
        other = session.scalar(select(Area).where(Area.level == Level.COMMUNE, Area.structure == Structure.CURRENT,
                                                  Area.code != "00694").order_by(Area.code))
        users.create_user(session, username="vanhanh2", password=DEMO_PASSWORD, role=Role.OPERATOR,
                          full_name="Vận hành viên xã bên", scope_area=other)
    own, neighbour, editor = signed_in(app, "vanhanh"), signed_in(app, "vanhanh2"), signed_in(app, "bientap")
    assert add_clip(own, tone(tmp_path / "f.mp3", 2), "Nhạc đệm của phường", kind="filler").status_code == 200
    with sessions(app) as session:
        clip_id = session.scalar(select(LibraryClip.id))
    assert rows(own.get("/media").get_data(as_text=True)) == [("filler", "Nhạc đệm của phường")]
    assert rows(editor.get("/media").get_data(as_text=True)) == [("filler", "Nhạc đệm của phường")]  # below it
    assert rows(neighbour.get("/media").get_data(as_text=True)) == []
    assert neighbour.get(f"/media/clips/{clip_id}/audio").status_code == 404
    token = csrf_from(neighbour.get("/media").data)
    assert neighbour.post("/media/reuse", data={"csrf_token": token, "clip_id": clip_id}).status_code == 404
    assert own.get(f"/media/clips/{clip_id}/audio").status_code == 200

    # The commune's own reuse: a draft of the commune carrying the filler's audio.
    token = csrf_from(own.get("/media").data)
    made = own.post("/media/reuse", data={"csrf_token": token, "clip_id": clip_id})
    item = stored_item(app, int(made.headers["Location"].rsplit("/", 1)[1]))
    with sessions(app) as session:
        assert item.audio_asset_id == session.get(LibraryClip, clip_id).audio_asset_id
        assert session.get(Area, item.owner_area_id).code == "00694"


def test_the_library_pages_through_many_entries(app, tmp_path):
    editor = signed_in(app, "bientap")
    assert add_clip(editor, tone(tmp_path / "f.mp3", 2), "Nhạc đệm 00", kind="filler").status_code == 200
    with sessions(app) as session:
        first = session.scalar(select(LibraryClip))
        # More rows for the same audio (the listing pages rows, whatever their audio).
        session.add_all([LibraryClip(audio_asset_id=first.audio_asset_id, kind="filler", title=f"Nhạc đệm {n:02d}",
                                     owner_area_id=first.owner_area_id, uploaded_by_id=first.uploaded_by_id,
                                     created_at=first.created_at + timedelta(minutes=n)) for n in range(1, 21)])
        session.commit()
    page = editor.get("/media").get_data(as_text=True)
    listed = rows(page)
    assert len(listed) == 20 and listed[0] == ("filler", "Nhạc đệm 20") and 'href="/media?page=2" rel="next"' in page
    second = editor.get("/media?page=2").get_data(as_text=True)
    assert rows(second) == [("filler", "Nhạc đệm 00")] and 'rel="next"' not in second
    assert 'href="/media?kind=filler&amp;page=2"' in editor.get("/media?kind=filler").get_data(as_text=True)


def test_the_menu_has_the_library_for_every_role(app):
    for username in ("bientap", "pheduyet", "vanhanh", "admin"):
        page = signed_in(app, username).get("/").get_data(as_text=True)
        assert '<a href="/media"' in page and "Thư viện âm thanh" in page, username
    approver = signed_in(app, "pheduyet").get("/media").get_data(as_text=True)
    assert 'action="/media/clips"' not in approver and 'action="/media/reuse"' not in approver



@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank_url(request, tmp_path):
    """The address of a database with nothing in it (not even the schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(request.getfixturevalue("postgres_server_url"))
    name = f"{server.database}_library"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_migration_lists_the_fillers_slots_already_had(blank_url):
    from alembic import command
    from sqlalchemy.orm import Session

    from broadcast.db.engine import Database

    database = Database(blank_url)
    config = database.alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0013")
    with Session(database.engine) as session:
        province = Area(structure=Structure.CURRENT, level=Level.PROVINCE, code="08", name="Tỉnh Tuyên Quang",
                        short_name="Tuyên Quang", kind="Tỉnh", path="2025/08/")
        filler = AudioAsset(sha256="a" * 64, size_bytes=1000, duration_ms=30_000, origin="filler")
        session.add_all([province, filler])
        session.flush()
        for name, start in (("Buổi sáng", time(6)), ("Buổi chiều", time(17))):  # one filler, two slots
            session.add(Slot(name=name, area_id=province.id, start_time=start, duration_s=3600,
                             valid_from=date(2026, 12, 1), filler_asset_id=filler.id))
        session.commit()
        province_id, filler_id = province.id, filler.id
    database.upgrade()
    with Session(database.engine) as session:
        clips = session.scalars(select(LibraryClip)).all()
        assert [(c.audio_asset_id, c.kind, c.title, c.owner_area_id, c.uploaded_by_id) for c in clips] == [
            (filler_id, "filler", "Buổi chiều", province_id, None)]  # once per filler and area, under the first name
    database.dispose()


def test_search_ignores_tone_marks_and_letter_case_as_people_type(app, tmp_path):
    # Editors type on phones and office keyboards without a Vietnamese input method: "mong" must find "Mông",
    # "dai tinh" "đài tỉnh", and upper case must match on SQLite too (its lower() only knows ASCII).
    editor = signed_in(app, "bientap")
    mong = recording_item(app, title="Chương trình tiếng Mông tuần 1")
    dao = recording_item(app, title="Bản tin tiếng Dao", language="dao")
    _attach(app, editor, mong, tone(tmp_path / "a.mp3", 3, freq=300))
    _attach(app, editor, dao, tone(tmp_path / "b.mp3", 2, freq=500))
    assert add_clip(editor, tone(tmp_path / "j.wav", 2, freq=700), "Nhạc hiệu đài tỉnh").status_code == 200

    def found(text: str) -> list:
        return sorted(title for _kind, title in rows(editor.get("/media", query_string={"q": text}).get_data(
            as_text=True)))

    assert found("mong") == found("MÔNG") == found("Mông") == ["Chương trình tiếng Mông tuần 1"]
    assert found("chuong trinh") == ["Chương trình tiếng Mông tuần 1"]
    assert found("dai tinh") == found("ĐÀI TỈNH") == ["Nhạc hiệu đài tỉnh"]
    assert found("nhac hieu") == found("nhạc hiệu") == ["Nhạc hiệu đài tỉnh"]  # the title and the kind's label
    assert found("tieng dao") == ["Bản tin tiếng Dao"]
    assert found("ban ghi") == ["Bản tin tiếng Dao", "Chương trình tiếng Mông tuần 1"]  # the kind "Bản ghi âm"
    assert found("tay") == []


def test_a_reused_recording_and_a_library_filler_reach_the_stations_manifest(app, tmp_path):
    # From the library to the loudspeaker: the new draft airs the reused recording, and the slot's stations get
    # the chosen filler in the gaps, as the agent reads its manifest.
    editor = signed_in(app, "bientap")
    source = recording_item(app, title="Bản tin tiếng Mông số 5")
    _attach(app, editor, source, tone(tmp_path / "mong.mp3", 3, freq=330))
    made = editor.post("/media/reuse", data={"csrf_token": csrf_from(editor.get("/media").data), "item_id": source})
    reused = int(made.headers["Location"].rsplit("/", 1)[1])
    assert add_clip(editor, tone(tmp_path / "f.mp3", 4, freq=660), "Nhạc đệm", kind="filler").status_code == 200
    with app.app_context(), sessions(app) as session:
        api = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name), "t")}
               for name in ("bientap", "pheduyet")}
        station = {"Authorization": "Bearer " + stations.issue_token(session, stations.get_station(session,
                                                                                                    "HG1-01"))}
        recording_sha = session.get(NewsItem, source).audio_asset.sha256
        clip = session.scalar(select(LibraryClip))
        clip_id, filler_sha = clip.id, clip.audio_asset.sha256
    slot_id = province_slot(app)
    assert editor.post(f"/api/v1/items/{reused}/submit", headers=api["bientap"]).status_code == 200
    assert editor.post(f"/api/v1/items/{reused}/approve", headers=api["pheduyet"]).status_code == 200
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    placed = editor.post("/api/v1/placements", headers=api["bientap"], json={
        "item_id": reused, "slot_id": slot_id, "targets": ["08"], "date_from": tomorrow, "date_until": tomorrow})
    assert placed.status_code == 201, placed.json
    assert editor.post(f"/media/clips/{clip_id}/filler", data={
        "csrf_token": csrf_from(editor.get("/media").data), "slot_id": slot_id}).status_code == 302

    manifest = wire.from_json(editor.get("/api/v1/stations/HG1-01/manifest", headers=station).data)
    [day] = [d for d in manifest.days if d.date.isoformat() == tomorrow]
    [bulletin] = [e for e in day.entries if e.item_id == reused]
    assert bulletin.kind == "item" and bulletin.audio.sha256 == recording_sha
    fillers = [e for e in day.entries if e.kind == "filler"]
    assert fillers and {e.audio.sha256 for e in fillers} == {filler_sha}
    assert {recording_sha, filler_sha} <= {a.sha256 for a in wire.audio_files(manifest)}


def test_a_filler_is_renamed_and_removed_by_its_area_not_by_those_who_only_use_it(app, tmp_path):
    editor, operator = signed_in(app, "bientap"), signed_in(app, "vanhanh")
    assert add_clip(editor, tone(tmp_path / "f.mp3", 2), "Nhac dem sang", kind="filler").status_code == 200
    assert add_clip(editor, tone(tmp_path / "j.mp3", 2, freq=600), "Nhạc hiệu cũ").status_code == 200
    with sessions(app) as session:
        ids = {c.title: c.id for c in session.scalars(select(LibraryClip))}
        filler_asset = session.get(LibraryClip, ids["Nhac dem sang"]).audio_asset_id
    filler, jingle = ids["Nhac dem sang"], ids["Nhạc hiệu cũ"]
    page = editor.get("/media?kind=filler").get_data(as_text=True)
    assert f'action="/media/clips/{filler}/rename"' in page and 'name="back" value="/media?kind=filler"' in page
    token = csrf_from(page)

    # A typo put right; an empty title refused, the old one kept.
    renamed = editor.post(f"/media/clips/{filler}/rename", data={"csrf_token": token, "title": " Nhạc đệm sáng ",
                                                                  "back": "/media?kind=filler"})
    assert renamed.status_code == 302 and renamed.headers["Location"] == "/media?kind=filler"
    page = editor.get("/media?kind=filler").get_data(as_text=True)
    assert "Đã đổi tên: Nhac dem sang thành Nhạc đệm sáng." in page
    assert rows(page) == [("filler", "Nhạc đệm sáng")]
    editor.post(f"/media/clips/{filler}/rename", data={"csrf_token": token, "title": "  "})
    assert "Hãy đặt tiêu đề cho bản ghi." in editor.get("/media").get_data(as_text=True)
    # A redirect elsewhere is not followed.
    away = editor.post(f"/media/clips/{filler}/rename", data={"csrf_token": token, "title": "Nhạc đệm sáng",
                                                               "back": "//evil.example/x"})
    assert away.headers["Location"] == "/media"

    # The commune operator uses the province's clips but does not change them.
    page = operator.get("/media").get_data(as_text=True)
    assert "Nhạc đệm sáng" in page and "/rename" not in page and "/remove" not in page
    op_token = csrf_from(page)
    assert operator.post(f"/media/clips/{jingle}/remove", data={"csrf_token": op_token}).status_code == 403
    assert operator.post(f"/media/clips/{filler}/rename", data={"csrf_token": op_token, "title": "X"}
                         ).status_code == 403

    # A filler a session plays is not removed from under it; an unused jingle is.
    slot_id = province_slot(app)
    assert editor.post(f"/media/clips/{filler}/filler", data={"csrf_token": token, "slot_id": slot_id}
                       ).status_code == 302
    editor.post(f"/media/clips/{filler}/remove", data={"csrf_token": token})
    page = editor.get("/media").get_data(as_text=True)
    assert ("Nhạc đệm sáng là nhạc đệm của các buổi phát Buổi sáng: hãy chọn nhạc đệm khác cho các buổi đó "
            "trước.") in page
    assert editor.post(f"/media/clips/{jingle}/remove", data={"csrf_token": token}).status_code == 302
    page = editor.get("/media").get_data(as_text=True)
    assert "Đã xoá khỏi thư viện: Nhạc hiệu cũ." in page
    assert rows(page) == [("filler", "Nhạc đệm sáng")]
    with sessions(app) as session:
        assert session.get(Slot, slot_id).filler_asset_id == filler_asset
        assert session.scalar(select(func.count(AudioAsset.id))) == 2  # the audio stays: only the entry goes
        from broadcast.db.models import AuditLog

        actions = [a.action for a in session.scalars(select(AuditLog).where(
            AuditLog.entity_type == "library_clip").order_by(AuditLog.id))]
        assert actions == ["library.add", "library.add", "library.rename", "library.rename", "library.remove"]
