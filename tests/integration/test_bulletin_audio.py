"""Items become broadcast-ready audio: real espeak-ng and ffmpeg, through the services, the API and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from broadcast import create_app, load_settings
from broadcast.audio_setup import audio_tools
from broadcast.db.models import AudioAsset, AuditLog, ContentSource, NewsItem, RenderState
from broadcast.services import items, rendering, users
from tests.services import free_port, need_tool

ROOT = Path(__file__).resolve().parents[2]
TEXT = "Ngày 13/12/2019, UBND tỉnh có báo cáo số 485/BC-UBND về phòng chống lũ quét."


@pytest.fixture(autouse=True)
def _tools():
    need_tool("espeak-ng")
    need_tool("ffmpeg")


@pytest.fixture
def database(tmp_path):
    """SQLite only here: the audio pipeline is the subject; the workflow runs on both databases elsewhere."""
    from broadcast.db.engine import Database

    database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    database.upgrade()
    yield database
    database.dispose()


def _app(tmp_path, database, **overrides):
    settings = load_settings(instance_path=tmp_path / "instance", database_url=database.url, **overrides)
    app = create_app(settings)
    app.config.update(TESTING=True)
    with app.app_context(), database.sessions() as session:
        from broadcast.services import demo

        list(demo.seed(session))
    return app


def _approved_item(app, body=TEXT, **fields):
    with app.app_context(), app.extensions["database"].sessions() as session:
        editor, approver = users.get_user(session, "bientap"), users.get_user(session, "pheduyet")
        item = items.create_item(session, editor, items.ItemFields(title="Tin", body=body, **fields))
        items.submit(session, editor, item)
        items.approve(session, approver, item)
        return item.id


def _render_all(app):
    with app.app_context(), app.extensions["database"].sessions() as session:
        return [i.id for i in rendering.render_pending(session, audio_tools(app.extensions["settings"]))]


def _item(app, item_id) -> NewsItem:
    with app.extensions["database"].sessions() as session:
        item = session.get(NewsItem, item_id)
        _ = item.audio_asset
        return item


def _probe_ms(path: Path) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return round(float(out) * 1000)


def test_approval_leads_to_broadcast_ready_audio(tmp_path, database):
    app = _app(tmp_path, database)
    item_id = _approved_item(app)
    assert _render_all(app) == [item_id]
    item = _item(app, item_id)
    assert item.render_state is RenderState.READY and item.rendered_engine == "espeak"
    assert item.render_warning is None
    tools = audio_tools(app.extensions["settings"])
    path = tools.store.path_for(item.audio_asset.sha256)
    assert path.is_file() and path.stat().st_size == item.audio_asset.size_bytes
    # ffprobe counts whole MP3 frames: the encoder's delay (1,105 samples) plus the last frame's padding (up to
    # 1,151), so up to two frames (52 ms at 44.1 kHz) more than the exact samples; which, depends on the length.
    assert 0 <= _probe_ms(path) - item.audio_asset.duration_ms <= 52
    assert item.duration_ms == item.audio_asset.duration_ms
    # The estimate made while typing was in the right range of the measured duration.
    assert 0.5 < item.estimated_duration_ms / item.duration_ms < 2.0
    with database.sessions() as session:
        assert session.scalar(select(AuditLog.details).where(AuditLog.action == "item.rendered"))["engine"] == "espeak"


def test_the_same_reading_is_never_rendered_twice(tmp_path, database):
    app = _app(tmp_path, database)
    first = _approved_item(app)
    _render_all(app)
    cache = tmp_path / "instance" / "speech-cache"
    cached_files = sorted(cache.rglob("*.*"))
    second = _approved_item(app)
    _render_all(app)
    assert _item(app, first).audio_asset.sha256 == _item(app, second).audio_asset.sha256
    assert sorted(cache.rglob("*.*")) == cached_files
    with database.sessions() as session:
        assert session.scalar(select(func.count(AudioAsset.id))) == 1
    # A different rate is another reading.
    third = _approved_item(app, speaking_rate="+20%")
    _render_all(app)
    assert _item(app, third).audio_asset.sha256 != _item(app, first).audio_asset.sha256
    assert _item(app, third).duration_ms < _item(app, first).duration_ms


def test_a_failing_online_engine_falls_back_to_espeak_with_a_warning(tmp_path, database):
    dead = f"http://127.0.0.1:{free_port()}/tts"
    app = _app(tmp_path, database, tts_engine="http", tts_retries=0, tts_timeout_s=2,
               tts_options={"http": {"url": dead}})
    item_id = _approved_item(app)
    _render_all(app)
    item = _item(app, item_id)
    assert item.render_state is RenderState.READY and item.rendered_engine == "espeak"
    assert "http" in item.render_warning
    assert item.audio_asset.render_key is None  # the primary is tried again next time


def test_when_every_engine_fails_the_item_says_why(tmp_path, database):
    dead = f"http://127.0.0.1:{free_port()}/tts"
    app = _app(tmp_path, database, tts_engine="http", tts_fallback_engine="http", tts_retries=0,
               tts_timeout_s=2, tts_options={"http": {"url": dead}})
    item_id = _approved_item(app)
    _render_all(app)
    item = _item(app, item_id)
    assert item.render_state is RenderState.FAILED and item.audio_asset_id is None
    assert item.render_error


def _tone(path: Path, seconds: float, fmt: list[str] | None = None) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    *(fmt or []), str(path)], check=True)
    return path


@pytest.fixture
def recording_item(tmp_path, database):
    app = _app(tmp_path, database, upload_max_mb=1, upload_max_minutes=0.1)
    client = app.test_client()
    with app.app_context(), database.sessions() as session:
        token = users.issue_api_token(session, users.get_user(session, "bientap"), "test")
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/items", headers=headers, json={
        "title": "Chương trình tiếng Mông", "language": "hmn", "content_source": "recording"})
    assert created.status_code == 201, created.json
    return app, client, headers, created.json["id"]


def _upload(client, headers, item_id, path: Path, name: str | None = None):
    with path.open("rb") as fh:
        return client.post(f"/api/v1/items/{item_id}/recording", headers=headers,
                           data={"file": (fh, name or path.name)}, content_type="multipart/form-data")


def test_a_good_recording_is_prepared_and_served_with_ranges(tmp_path, recording_item):
    app, client, headers, item_id = recording_item
    response = _upload(client, headers, item_id, _tone(tmp_path / "tone.wav", 4))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["render_state"] == "ready" and 3500 <= body["duration_ms"] <= 4200
    audio = client.get(body["audio_url"], headers=headers)
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg"
    assert audio.data[:3] == b"ID3" or audio.data[0] == 0xFF
    part = client.get(body["audio_url"], headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206 and len(part.data) == 100


def _text_as_mp3(path: Path) -> Path:
    path.write_text("<html>not audio</html>" * 50)
    return path


def _truncated(path: Path, tmp_path: Path) -> Path:
    full = _tone(tmp_path / "full.mp3", 5, ["-b:a", "128k"])
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    return path


@pytest.mark.parametrize(
    ("make", "status", "says"),
    [
        (lambda p, t: (p.write_bytes(b""), p)[1], 422, "Tệp rỗng"),
        (lambda p, t: _text_as_mp3(p), 422, "không phải âm thanh"),
        (lambda p, t: _truncated(p, t), 422, "bị cắt"),
        (lambda p, t: _tone(p, 8), 422, "dài hơn"),  # over 0.1 min = 6 s
        (lambda p, t: _tone(p, 0.1), 422, "quá ngắn"),
        (lambda p, t: (p.write_bytes(os.urandom(1_200_000)), p)[1], 413, "lớn hơn 1 MB"),
    ],
    ids=["empty", "not-audio", "truncated", "too-long", "too-short", "too-large"],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(tmp_path, recording_item, make, status, says):
    app, client, headers, item_id = recording_item
    path = make(tmp_path / "upload.mp3", tmp_path)
    response = _upload(client, headers, item_id, path)
    assert response.status_code == status, response.json
    assert says in response.json["message"]
    store = audio_tools(app.extensions["settings"]).store
    assert not any(p.is_file() for p in store.root.rglob("*"))
    with app.extensions["database"].sessions() as session:
        assert session.scalar(select(func.count(AudioAsset.id))) == 0
        assert session.get(NewsItem, item_id).render_state is RenderState.NONE
    assert not any((tmp_path / "instance" / "work").glob("*"))


def test_uploading_to_a_speech_item_is_refused(tmp_path, database):
    app = _app(tmp_path, database)
    client = app.test_client()
    with app.app_context(), database.sessions() as session:
        token = users.issue_api_token(session, users.get_user(session, "bientap"), "test")
        item = items.create_item(session, users.get_user(session, "bientap"), items.ItemFields(title="T", body=TEXT))
        assert item.content_source is ContentSource.SPEECH
    response = _upload(client, {"Authorization": f"Bearer {token}"}, item.id, _tone(tmp_path / "t.wav", 2))
    assert response.status_code == 409


def test_cli_renders_with_a_progress_bar(tmp_path, database):
    app = _app(tmp_path, database)
    for _ in range(2):
        _approved_item(app, body=TEXT + f" Lần {_ + 1}.")
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database.url}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "broadcast", "items", "render"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Đã tạo âm thanh cho 2 tin; 0 tin lỗi." in result.stdout
    with database.sessions() as session:
        states = session.scalars(select(NewsItem.render_state)).all()
    assert states == [RenderState.READY, RenderState.READY]
