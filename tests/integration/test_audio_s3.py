"""Audio on an S3-compatible object store (AUDIO_STORE_URL=s3://...), against moto's real server on 127.0.0.1.

The store itself, the station API's redirect to a presigned link, the station agent fetching through it, an item
read by espeak-ng landing in the bucket, and the SFTP push taking its files from the bucket. The bucket is read
back with a plain boto3 client of the test's own, not through the code under test.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from sqlalchemy import select

from audio.processing import AudioStore
from broadcast import create_app, load_settings
from broadcast.audio_setup import audio_tools
from broadcast.channels.sftp import inbox_manifest
from broadcast.db.models import AudioAsset, CommandKind, NewsItem, Station, StationCommand, StationManifest
from broadcast.services import demo, emergency_delivery, items, pushing, rendering, stations, users
from broadcast.storage import audio_store
from broadcast.storage.s3 import IMMUTABLE, S3AudioStore
from stations.agent.agent import Agent
from stations.agent.clock import ManualClock
from stations.agent.config import parse_config
from tests import audio_fixtures
from tests.e2e.agents import duration_ms
from tests.integration.test_agent_sync import NOW, live_service, serving, sqlite_database
from tests.s3 import RecordingProxy, moto_or_skip
from tests.services import need_tool

pytestmark = pytest.mark.timeout(180)
PREFIX = "radio/audio"
# The API's usual answers (in Vietnamese, the default language).
NO_AUDIO = "Không có tệp âm thanh nào có mã băm {sha}."
PLAYLIST_LACKS = "Danh sách phát của đài này không có tệp âm thanh {sha}."
SLOT = {"name": "Buổi sáng", "area": "08", "start_time": "06:00", "duration_s": 600, "valid_from": "2026-11-28",
        "rrule": "FREQ=DAILY"}


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    with moto_or_skip(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch, tmp_path):
    """Credentials from the environment, as boto3's chain finds them; nothing of the developer's ~/.aws."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_CONFIG_FILE", str(tmp_path / "no-config")),
                        ("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def raw(moto):
    """The test's own view of the object store."""
    return boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1")


@pytest.fixture
def bucket(raw) -> str:
    name = f"radio-{secrets.token_hex(6)}"
    raw.create_bucket(Bucket=name)
    return name


@pytest.fixture
def database(tmp_path):
    yield from sqlite_database(tmp_path)


def s3_settings(tmp_path: Path, moto, bucket: str, **overrides):
    return load_settings(instance_path=tmp_path / "instance", audio_store_url=f"s3://{bucket}/{PREFIX}/",
                         audio_store_endpoint_url=moto.url, **overrides)


def key(sha: str) -> str:
    return f"{PREFIX}/{sha[:2]}/{sha}.mp3"


def object_bytes(raw, bucket: str, sha: str) -> bytes:
    return raw.get_object(Bucket=bucket, Key=key(sha))["Body"].read()


def seeded_app(settings):
    app = create_app(settings)
    app.config.update(TESTING=True)
    app.extensions["clock"] = lambda: NOW  # the fixed evening the placements below are made on
    with app.app_context(), app.extensions["database"].sessions() as session:
        list(demo.seed(session))
    return app


def tokens(app) -> dict[str, dict[str, str]]:
    """Authorization headers: people by login, stations by code."""
    with app.extensions["database"].sessions() as session:
        found = {name: users.issue_api_token(session, users.get_user(session, name), "t")
                 for name in ("bientap", "pheduyet", "vanhanh")}
        found |= {code: stations.issue_token(session, stations.get_station(session, code))
                  for code in ("HG1-01", "HG2-01", "DV-01")}
    return {name: {"Authorization": f"Bearer {token}"} for name, token in found.items()}


def place(app, headers, payload: bytes, *, item_class: str = "normal", targets=("08",)) -> int:
    """An item with this audio (whose bytes the caller stores, or not); a normal one approved and placed daily
    on the morning slot from tomorrow, two days, for ``targets`` (08: the whole demo province). Returns its id."""
    client = app.test_client()
    sha = hashlib.sha256(payload).hexdigest()
    created = client.post("/api/v1/items", json={"title": "Tin", "body": "Một hai ba.", "item_class": item_class},
                          headers=headers["bientap"]).json
    with app.extensions["database"].sessions() as session:
        session.get(NewsItem, created["id"]).audio_asset = AudioAsset(
            sha256=sha, size_bytes=len(payload), duration_ms=60_000, origin="tts")
        session.commit()
    if item_class == "normal":
        client.post(f"/api/v1/items/{created['id']}/submit", headers=headers["bientap"])
        client.post(f"/api/v1/items/{created['id']}/approve", headers=headers["pheduyet"])
        slot = app.extensions.get("test_slot")
        if slot is None:
            slot = app.extensions["test_slot"] = client.post("/api/v1/slots", json=SLOT,
                                                             headers=headers["bientap"]).json["id"]
        placed = client.post("/api/v1/placements", headers=headers["bientap"], json={
            "item_id": created["id"], "slot_id": slot, "targets": list(targets), "date_from": "2026-11-29",
            "date_until": "2026-11-30"})
        assert placed.status_code == 201, placed.json
    return created["id"]


# -- the store --------------------------------------------------------------------------------------------------


def test_audio_is_stored_in_the_bucket_once_and_read_back_on_any_node(moto, raw, bucket, tmp_path):
    need_tool("ffmpeg")
    mp3 = audio_fixtures.tone(tmp_path / "news.mp3", 1.0, freq=440)
    payload, sha = mp3.read_bytes(), hashlib.sha256(mp3.read_bytes()).hexdigest()
    settings = s3_settings(tmp_path, moto, bucket)
    store = audio_store(settings)
    assert isinstance(store, S3AudioStore) and audio_store(settings) is store  # one client per configuration
    puts = []
    store.client.meta.events.register("before-call.s3.PutObject", lambda **_: puts.append(1))

    stored = store.put(mp3)

    assert (stored.sha256, stored.size_bytes) == (sha, len(payload)) and len(puts) == 1
    answer = raw.get_object(Bucket=bucket, Key=key(sha))
    assert answer["Body"].read() == payload
    assert (answer["ContentType"], answer["CacheControl"]) == ("audio/mpeg", IMMUTABLE)
    assert stored.path == settings.resolved_audio_cache_dir / sha[:2] / f"{sha}.mp3"  # this node keeps a copy
    assert stored.path.read_bytes() == payload
    assert store.exists(sha) and store.size(sha) == len(payload) and store.open(sha).read() == payload

    # Idempotent: the same content again, as a file or as bytes, on this node or a fresh one, uploads nothing.
    twin = audio_fixtures.copy(mp3, tmp_path / "twin.mp3")
    assert store.put(twin) == stored and store.put_bytes(payload) == stored and len(puts) == 1
    other_node = audio_store(s3_settings(tmp_path, moto, bucket, audio_cache_dir=tmp_path / "node2"))
    other_node.client.meta.events.register("before-call.s3.PutObject", lambda **_: puts.append(2))
    assert other_node is not store and other_node.put_bytes(payload).sha256 == sha and len(puts) == 1
    assert [o["Key"] for o in raw.list_objects_v2(Bucket=bucket)["Contents"]] == [key(sha)]

    # A node that never had the file reads it from the bucket, as a stream or as a cached file.
    third = audio_store(s3_settings(tmp_path, moto, bucket, audio_cache_dir=tmp_path / "node3"))
    assert third.open(sha).read() == payload
    assert not (tmp_path / "node3" / sha[:2]).exists()  # streaming left no file behind
    assert third.path_for(sha).read_bytes() == payload and third.path_for(sha).parent == tmp_path / "node3" / sha[:2]

    # New bytes are uploaded once.
    fresh = store.put_bytes(b"ID3 other audio")
    assert len(puts) == 2 and object_bytes(raw, bucket, fresh.sha256) == b"ID3 other audio"
    assert store.put_bytes(b"ID3 other audio") == fresh and len(puts) == 2


def test_a_nodes_cache_stays_under_its_bound_keeping_what_was_used_last(moto, raw, bucket, tmp_path):
    """AUDIO_CACHE_MAX_MB: the files used longest ago go first; what goes is fetched again when needed."""
    settings = s3_settings(tmp_path, moto, bucket, audio_cache_max_mb=1)
    store = audio_store(settings)
    cache = settings.resolved_audio_cache_dir
    blobs = [b"ID3" + bytes([n]) * 300_000 for n in range(5)]  # 300 kB each: three fit in 1 MB, four do not
    shas = []
    for n, blob in enumerate(blobs[:3]):
        shas.append(store.put_bytes(blob).sha256)
        os.utime(store.path_for(shas[-1]), (1_000 + n, 1_000 + n))  # put in this order, long ago
    store.path_for(shas[0])  # the oldest is used again: now the newest
    shas.append(store.put_bytes(blobs[3]).sha256)  # past the bound

    cached = {p.name.removesuffix(".mp3") for p in cache.glob("??/*.mp3")}
    assert sum(p.stat().st_size for p in cache.glob("??/*.mp3")) <= 1024 * 1024
    assert shas[1] not in cached  # used longest ago
    assert {shas[0], shas[3]} <= cached
    # Still in the bucket, and fetched back into the cache when a file is needed.
    assert store.exists(shas[1]) and store.path_for(shas[1]).read_bytes() == blobs[1]

    unbounded = audio_store(s3_settings(tmp_path, moto, bucket, audio_cache_max_mb=0,
                                        audio_cache_dir=tmp_path / "big"))
    for blob in blobs:
        unbounded.put_bytes(blob)
    assert len(list((tmp_path / "big").glob("??/*.mp3"))) == 5


def test_absent_audio_is_absent_and_bytes_unlike_their_name_are_never_used(moto, raw, bucket, tmp_path):
    store = audio_store(s3_settings(tmp_path, moto, bucket))
    absent = "0" * 64
    assert not store.exists(absent) and store.size(absent) is None
    assert not store.path_for(absent).exists()
    with pytest.raises(FileNotFoundError):
        store.open(absent)
    with pytest.raises(ValueError):
        store.exists("../" + absent)

    # Someone wrote other bytes under a digest's name: no node hands them to ffmpeg or a push.
    named = hashlib.sha256(b"the real audio").hexdigest()
    raw.put_object(Bucket=bucket, Key=key(named), Body=b"something else")
    assert not store.path_for(named).exists()
    assert list(Path(store.cache.root).rglob("*")) == []  # no temporary file left either


def test_the_folder_store_stays_the_default_and_has_the_same_interface(tmp_path):
    settings = load_settings(instance_path=tmp_path / "instance")
    store = audio_store(settings)
    assert isinstance(store, AudioStore) and store.root == settings.resolved_audio_dir
    stored = store.put_bytes(b"ID3 bytes")
    assert store.put_bytes(b"ID3 bytes") == stored and store.size(stored.sha256) == 9
    assert store.open(stored.sha256).read() == b"ID3 bytes" and store.download_url(stored.sha256) is None
    assert sorted(p.name for p in settings.resolved_audio_dir.rglob("*")) == [stored.sha256[:2], stored.path.name]
    assert not settings.resolved_audio_cache_dir.exists()


# -- serving stations -------------------------------------------------------------------------------------------


def test_stations_are_sent_to_a_presigned_link_after_the_usual_checks(moto, raw, bucket, tmp_path, database):
    settings = s3_settings(tmp_path, moto, bucket, database_url=database.url, audio_store_url_expiry_s=120)
    app = seeded_app(settings)
    headers = tokens(app)
    client = app.test_client()
    payload = b"ID3" + secrets.token_bytes(50_000)
    sha = hashlib.sha256(payload).hexdigest()
    place(app, headers, payload, targets=("00694",))  # HG1-01's ward only
    raw.put_object(Bucket=bucket, Key=key(sha), Body=payload, ContentType="audio/mpeg")

    for path in (f"/api/v1/audio/{sha}", f"/api/v1/audio/{sha}.mp3"):
        answer = client.get(path, headers=headers["HG1-01"])
        assert answer.status_code == 302 and answer.headers["Cache-Control"] == "no-store"
        link = urlsplit(answer.headers["Location"])
        assert f"{link.scheme}://{link.netloc}{link.path}" == f"{moto.url}/{bucket}/{key(sha)}"
        query = parse_qs(link.query)
        assert query["X-Amz-Expires"] == ["120"] and query["X-Amz-Signature"]
        fetched = requests.get(answer.headers["Location"], timeout=10)  # no credentials but the link's
        assert fetched.status_code == 200 and fetched.content == payload

    # The same checks as with files: a token, and only the audio the station's playlist names.
    assert client.get(f"/api/v1/audio/{sha}").status_code == 401
    refused = client.get(f"/api/v1/audio/{sha}", headers=headers["HG2-01"])
    assert refused.status_code == 404 and refused.json["message"] == PLAYLIST_LACKS.format(sha=sha)
    # A person may fetch any stored audio; absent audio is the usual 404, never a link to nothing.
    assert client.get(f"/api/v1/audio/{sha}", headers=headers["vanhanh"]).status_code == 302
    absent = "a" * 64
    answer = client.get(f"/api/v1/audio/{absent}", headers=headers["vanhanh"])
    assert answer.status_code == 404 and answer.json["message"] == NO_AUDIO.format(sha=absent)
    named_but_absent = place(app, headers, b"never uploaded")
    with app.extensions["database"].sessions() as session:
        lost = session.get(NewsItem, named_but_absent).audio_asset.sha256
    answer = client.get(f"/api/v1/audio/{lost}", headers=headers["HG1-01"])
    assert answer.status_code == 404 and answer.json["message"] == NO_AUDIO.format(sha=lost)


def test_a_real_http_client_follows_the_redirect_without_the_station_token(moto, raw, bucket, tmp_path, database):
    app = seeded_app(s3_settings(tmp_path, moto, bucket, database_url=database.url))
    headers = tokens(app)
    payload = b"ID3" + secrets.token_bytes(20_000)
    sha = hashlib.sha256(payload).hexdigest()
    place(app, headers, payload)
    raw.put_object(Bucket=bucket, Key=key(sha), Body=payload)
    with serving(app) as url:
        answer = requests.get(f"{url}/api/v1/audio/{sha}.mp3", headers=headers["HG1-01"], timeout=10)
    assert answer.status_code == 200 and answer.content == payload
    assert [r.status_code for r in answer.history] == [302]
    assert answer.url.startswith(f"{moto.url}/{bucket}/")
    # requests drops the Authorization header when a redirect leaves the host: the bucket never sees the token.
    assert "Authorization" in answer.history[0].request.headers
    assert "Authorization" not in answer.request.headers


def test_the_station_agent_fetches_through_the_redirect_and_verifies_the_sha256(moto, raw, bucket, tmp_path,
                                                                               database):
    need_tool("ffmpeg")
    mp3s = {name: audio_fixtures.tone(tmp_path / f"{name}.mp3", 1.0, freq=freq)
            for name, freq in (("news", 440), ("notice", 660), ("warning", 880))}
    with RecordingProxy(moto.host, moto.port) as proxy:
        # Stations reach the store by another address than the service does (AUDIO_STORE_PUBLIC_ENDPOINT_URL):
        # here a proxy that notes what they send.
        settings = s3_settings(tmp_path, moto, bucket, database_url=database.url,
                               audio_store_public_endpoint_url=proxy.url)
        app = seeded_app(settings)
        with contextmanager(live_service)(app, app.test_client(), settings) as service:
            store = audio_store(settings)

            def place_in_bucket(title: str, mp3: Path, *, corrupt: bool = False) -> str:
                sha = service.place(title, mp3, corrupt=corrupt)  # writes the bytes under AUDIO_DIR, unused here
                raw.put_object(Bucket=bucket, Key=key(sha),
                               Body=(service.audio_dir / sha[:2] / f"{sha}.mp3").read_bytes())
                return sha

            sha = place_in_bucket("Tin tỉnh", mp3s["news"])
            agent = Agent(parse_config(service.config(tmp_path)), clock=ManualClock(NOW))
            cache = tmp_path / "cache-HG1-01" / "audio"
            try:
                assert agent.sync_once() == []
                assert (cache / f"{sha}.mp3").read_bytes() == mp3s["news"].read_bytes()
                assert service.recorder.audio_gets() == [(f"/api/v1/audio/{sha}", None)]
                [sent] = proxy.gets(sha)
                assert "Authorization" not in sent and "X-Amz-Signature=" in proxy.requests[-1][1]
                assert sent["Host"] == urlsplit(proxy.url).netloc

                # A broken download resumes with a Range request, which the redirect carries to the store.
                second = place_in_bucket("Thông báo", mp3s["notice"])
                head = mp3s["notice"].read_bytes()[:1000]
                (cache / f"{second}.mp3.part").write_bytes(head)
                assert agent.sync_once() == []
                assert [h.get("Range") for h in proxy.gets(second)] == ["bytes=1000-"]
                assert (cache / f"{second}.mp3").read_bytes() == mp3s["notice"].read_bytes()

                # Bytes in the bucket unlike their name: the agent refuses them, the installed day stays.
                installed = agent.syncer.installed.version
                bad = place_in_bucket("Cảnh báo", mp3s["warning"], corrupt=True)
                problems = agent.sync_once()
                assert len(problems) == 1 and "fails verification" in problems[0] and bad in problems[0]
                assert agent.syncer.installed.version == installed and not (cache / f"{bad}.mp3").exists()
                assert store.exists(bad)  # the service only redirects; the station is the one that checks
            finally:
                agent.close()


# -- what needs a file ------------------------------------------------------------------------------------------


def test_an_item_read_by_espeak_lands_in_the_bucket_and_is_served_from_it(moto, raw, bucket, tmp_path, database):
    need_tool("espeak-ng")
    need_tool("ffmpeg")
    settings = s3_settings(tmp_path, moto, bucket, database_url=database.url)
    app = seeded_app(settings)
    headers = tokens(app)
    with app.app_context(), app.extensions["database"].sessions() as session:
        editor, approver = users.get_user(session, "bientap"), users.get_user(session, "pheduyet")
        item = items.create_item(session, editor, items.ItemFields(
            title="Tin", body="Ngày 13/12/2019, UBND tỉnh họp về phòng chống lũ quét."))
        items.submit(session, editor, item)
        items.approve(session, approver, item)
        item_id = item.id
        assert [i.id for i in rendering.render_pending(session, audio_tools(settings))] == [item_id]
        asset = session.get(NewsItem, item_id).audio_asset
        sha, size, duration = asset.sha256, asset.size_bytes, asset.duration_ms

    stored = object_bytes(raw, bucket, sha)
    assert hashlib.sha256(stored).hexdigest() == sha and len(stored) == size
    probed = tmp_path / "probed.mp3"
    probed.write_bytes(stored)
    # Seconds of real speech, as measured at render (within two MP3 frames: ffprobe counts the encoder padding).
    assert duration > 2000 and abs(duration_ms(probed) - duration) <= 60

    # Another node, with nothing cached: the editor's player streams it, stations are sent to the bucket.
    cache = settings.resolved_audio_cache_dir
    for path in cache.rglob("*.mp3"):
        path.unlink()
    client = app.test_client()
    played = client.get(f"/api/v1/items/{item_id}/audio", headers=headers["bientap"])
    assert played.status_code == 200 and played.data == stored and (cache / sha[:2] / f"{sha}.mp3").is_file()
    sent = client.get(f"/api/v1/audio/{sha}", headers=headers["bientap"])
    assert sent.status_code == 302 and requests.get(sent.headers["Location"], timeout=10).content == stored

    # AUDIO_STORE_SERVE=stream: the service sends the bytes itself, with the folder store's caching headers.
    streaming = create_app(s3_settings(tmp_path / "streaming", moto, bucket, database_url=database.url,
                                       audio_store_serve="stream"))
    answer = streaming.test_client().get(f"/api/v1/audio/{sha}", headers=headers["bientap"])
    assert answer.status_code == 200 and answer.data == stored
    assert answer.headers["ETag"] == f'"{sha}"' and "immutable" in answer.headers["Cache-Control"]


def test_the_sftp_push_takes_audio_from_the_bucket(moto, raw, bucket, tmp_path, database, sshd):
    settings = s3_settings(tmp_path, moto, bucket, database_url=database.url, ssh_key_path=sshd.client_key_path)
    app = seeded_app(settings)
    headers = tokens(app)
    remote = tmp_path / "station-inbox"
    with app.extensions["database"].sessions() as session:
        station = session.scalar(select(Station).where(Station.code == "DV-01"))
        station.ssh_host, station.ssh_port, station.ssh_user = sshd.host, sshd.port, sshd.username
        station.ssh_remote_dir, station.ssh_host_key = str(remote), sshd.host_key_line
        session.commit()
    payload = b"ID3" + secrets.token_bytes(30_000)
    sha = hashlib.sha256(payload).hexdigest()
    place(app, headers, payload)
    raw.put_object(Bucket=bucket, Key=key(sha), Body=payload)  # written by another node: nothing cached here
    assert not settings.resolved_audio_cache_dir.joinpath(sha[:2]).exists()

    with app.extensions["database"].sessions() as session:
        run = pushing.push_due(session, settings, now=NOW)
        assert (run.sent, run.failed) == (1, 0)
        body = session.get(StationManifest, session.scalar(select(Station.id).where(Station.code == "DV-01"))).body
    assert (remote / "manifest.json").read_bytes() == inbox_manifest(body.encode())
    assert (remote / "audio" / f"{sha}.mp3").read_bytes() == payload

    # Audio the bucket lacks is not pushed: the delivery waits and is retried, as while rendering.
    place(app, headers, b"not in the bucket")
    with app.extensions["database"].sessions() as session:
        run = pushing.push_due(session, settings, now=NOW)
        assert (run.sent, run.failed) == (0, 1)

    # An emergency's audio goes the same way into the station's inbox.
    alarm = b"ID3" + secrets.token_bytes(10_000)
    alarm_sha = hashlib.sha256(alarm).hexdigest()
    raw.put_object(Bucket=bucket, Key=key(alarm_sha), Body=alarm)
    item_id = place(app, headers, alarm, item_class="emergency")
    client = app.test_client()
    made = client.post("/api/v1/emergencies", headers=headers["bientap"], json={
        "item_id": item_id, "areas": ["00721"], "risk_level": 4, "expires_at": "2026-11-29T01:00"}).json
    assert client.post(f"/api/v1/emergencies/{made['id']}/approve", headers=headers["pheduyet"]).status_code == 200
    with app.extensions["database"].sessions() as session:
        assert emergency_delivery.push_pending(session, settings, now=NOW) == (1, 0)
        command = session.scalar(select(StationCommand).where(StationCommand.kind == CommandKind.EMERGENCY))
        assert command.push_error is None
    assert (remote / "audio" / f"{alarm_sha}.mp3").read_bytes() == alarm
