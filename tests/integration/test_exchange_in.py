"""Bulletins in: upstream sources configured through the API, pulled from real HTTP stand-ins on 127.0.0.1 (JSON
with ETags, RSS with audio enclosures, CAP), and pushing to us with a token or an HMAC; each bulletin once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from broadcast import load_settings
from broadcast.audio_setup import audio_tools
from broadcast.channels import webhook
from broadcast.db.models import (
    ContentSource,
    EmergencyBroadcast,
    ItemStatus,
    NewsItem,
    ReceivedBulletin,
    RenderState,
    UpstreamSource,
)
from broadcast.services import bulletins_in, upstream_pull, users
from tests.audio_fixtures import tone
from tests.services import free_port
from tests.standins.http_server import Reply, Request, StandInServer

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
CAP_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cap"


class Upstream:
    """An upstream system: serves one document per path with an ETag, answers 304 to a matching If-None-Match,
    and serves audio files; ``down`` makes it answer 503."""

    def __init__(self):
        self.documents: dict[str, tuple[bytes, str]] = {}
        self.files: dict[str, bytes] = {}
        self.down = False
        self.server = StandInServer(self._respond)

    def _respond(self, request: Request) -> Reply:
        if self.down:
            return Reply(503, b"maintenance", "text/plain")
        if request.path in self.files:
            return Reply(200, self.files[request.path], "audio/mpeg")
        if request.path not in self.documents:
            return Reply(404, b"no such feed", "text/plain")
        body, content_type = self.documents[request.path]
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            return Reply(304, b"", content_type, headers={"ETag": etag})
        return Reply(200, body, content_type, headers={"ETag": etag,
                                                       "Last-Modified": "Fri, 04 Dec 2026 00:00:00 GMT"})

    def url(self, path: str) -> str:
        return self.server.url + path


@pytest.fixture
def upstream():
    made = Upstream()
    with made.server:
        yield made


@pytest.fixture
def settings(tmp_path, database):
    """The stand-ins are on 127.0.0.1, which the service refuses to fetch from unless its network is allowed."""
    return load_settings(instance_path=tmp_path / "instance", database_url=database.url,
                         outbound_allow_networks="127.0.0.0/8")


@pytest.fixture
def api(client, seeded):
    seeded.extensions["clock"] = lambda: NOW
    with seeded.extensions["database"].sessions() as session:
        tokens = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name),
                                                                             "t")}
                  for name in ("admin", "bientap")}

    class Api:
        def create(self, **fields) -> dict:
            answer = client.post("/api/v1/exchange/sources", json=fields, headers=tokens["admin"])
            assert answer.status_code == 201, answer.json
            return answer.json

    made = Api()
    made.client, made.tokens = client, tokens
    return made


def _pull(app, now=NOW) -> list:
    settings = app.extensions["settings"]
    with app.extensions["database"].sessions() as session:
        context = bulletins_in.Context.from_settings(settings, audio_tools(settings), now)
        return upstream_pull.pull_due(session, context)


def _items(app) -> list[NewsItem]:
    with app.extensions["database"].sessions() as session:
        found = list(session.scalars(select(NewsItem).where(NewsItem.source.is_not(None))
                                     .options(selectinload(NewsItem.audio_asset)).order_by(NewsItem.id)))
        session.expunge_all()
        return found


def _source(app, source_id: int) -> UpstreamSource:
    with app.extensions["database"].sessions() as session:
        found = session.get(UpstreamSource, source_id)
        session.expunge(found)
        return found


def _json(*bulletins: dict) -> bytes:
    return json.dumps({"bulletins": list(bulletins)}, ensure_ascii=False).encode()


BULLETIN_1 = {"id": "TW-1", "title": "Tiêm phòng dại cho chó mèo", "body": "Từ ngày 5/12, các thôn tổ chức tiêm."}
BULLETIN_2 = {"id": "TW-2", "title": "Lịch cắt điện", "body": "Thôn Nà Mèo cắt điện từ 7 giờ đến 11 giờ.",
              "class": "priority", "valid_until": "2026-12-10"}


def test_only_admins_configure_sources_and_the_secret_is_shown_once(api):
    refused = api.client.post("/api/v1/exchange/sources", json={"name": "TW", "kind": "json"},
                              headers=api.tokens["bientap"])
    assert refused.status_code == 403
    created = api.create(name="Hệ thống nguồn trung ương", kind="json")
    assert len(created["secret"]) >= 40 and created["source"]["active"] is True
    listed = api.client.get("/api/v1/exchange/sources", headers=api.tokens["admin"]).json
    assert [s["name"] for s in listed] == ["Hệ thống nguồn trung ương"] and "secret" not in listed[0]
    bad = api.client.post("/api/v1/exchange/sources", json={"name": "X", "kind": "json", "url": "ftp://x/y"},
                          headers=api.tokens["admin"])
    assert bad.status_code == 422 and "url" in str(bad.json["errors"]), bad.json
    same = api.client.post("/api/v1/exchange/sources", json={"name": "Hệ thống nguồn trung ương", "kind": "rss"},
                           headers=api.tokens["admin"])
    assert same.status_code == 409


def test_a_json_source_is_pulled_with_etags_and_each_bulletin_arrives_once(api, upstream, seeded):
    upstream.documents["/bulletins"] = (_json(BULLETIN_1, BULLETIN_2), "application/json")
    source = api.create(name="Trung ương", kind="json", url=upstream.url("/bulletins"))["source"]
    [batch] = _pull(seeded)
    assert batch.created == 2
    got = _items(seeded)
    assert [(i.title, i.status, i.source, i.item_class.value) for i in got] == [
        ("Tiêm phòng dại cho chó mèo", ItemStatus.SUBMITTED, "Trung ương", "normal"),
        ("Lịch cắt điện", ItemStatus.SUBMITTED, "Trung ương", "priority")]
    assert got[1].valid_until.isoformat() == "2026-12-10" and got[0].estimated_duration_ms > 0
    assert got[0].content_source is ContentSource.SPEECH and got[0].render_state is RenderState.NONE

    # Not due yet: nothing is asked. Due again: the ETag goes back and the upstream answers 304.
    assert _pull(seeded, NOW + timedelta(seconds=10)) == []
    [again] = _pull(seeded, NOW + timedelta(minutes=6))
    assert again.created == 0 and upstream.server.requests[-1].headers["If-None-Match"]
    assert _source(seeded, source["id"]).last_outcome == "not_modified"

    # The feed changes: the same bulletin again beside a new one makes one item more, not two.
    upstream.documents["/bulletins"] = (_json(BULLETIN_2, {"id": "TW-3", "title": "Họp dân",
                                                           "body": "Mời bà con họp lúc 19 giờ."}),
                                        "application/json")
    [third] = _pull(seeded, NOW + timedelta(minutes=12))
    assert third.created == 1 and [r.duplicate for r in third.received] == [True, False]
    assert [i.title for i in _items(seeded)] == ["Tiêm phòng dại cho chó mèo", "Lịch cắt điện", "Họp dân"]


def test_an_upstream_that_is_down_or_answers_garbage_is_tried_again_later(api, upstream, seeded):
    port = free_port()  # nothing listens there
    down = api.create(name="Đài tỉnh", kind="json", url=f"http://127.0.0.1:{port}/x", pull_interval_s=60)["source"]
    upstream.documents["/garbage"] = (b"<html>502 Bad Gateway</html>", "text/html")
    garbage = api.create(name="Cổng tỉnh", kind="rss", url=upstream.url("/garbage"), pull_interval_s=60)["source"]
    upstream.documents["/half"] = (b'{"bulletins": [{"id": "A"}, {"title": "no id"}, 17]}', "application/json")
    half = api.create(name="Một nửa", kind="json", url=upstream.url("/half"), pull_interval_s=60)["source"]
    assert [batch is None for batch in _pull(seeded)] == [True, True, False]
    for made, words in ((down, "cannot connect"), (garbage, "not an RSS or Atom feed")):
        state = _source(seeded, made["id"])
        assert state.last_outcome == "failed" and words in state.last_error, state.last_error
        assert state.failures == 1 and state.next_pull_at == NOW + timedelta(seconds=120)  # backed off
        assert state.etag is None
    # A document with bad entries only is no failure of the source: the entries are named and left out.
    state = _source(seeded, half["id"])
    assert state.last_outcome == "ok" and "title is required" in state.last_error and "id is required" in \
        state.last_error
    assert _items(seeded) == []

    upstream.down = True
    _pull(seeded, NOW + timedelta(seconds=130))
    assert _source(seeded, garbage["id"]).failures == 2 and "HTTP 503" in _source(seeded, garbage["id"]).last_error
    upstream.down = False
    upstream.documents["/garbage"] = (b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Cong</title>
        <item><guid>p-1</guid><title>Thu gom r\xc3\xa1c</title><description>&lt;p&gt;Xe r\xc3\xa1c \xc4\x91i
        l\xc3\xbac 6 gi\xe1\xbb\x9d.&lt;/p&gt;</description></item></channel></rss>""", "application/rss+xml")
    _pull(seeded, NOW + timedelta(hours=2))
    recovered = _source(seeded, garbage["id"])
    assert recovered.last_outcome == "ok" and recovered.failures == 0 and recovered.last_error is None
    assert [(i.title, i.body) for i in _items(seeded)] == [("Thu gom rác", "Xe rác đi lúc 6 giờ.")]


def test_rss_audio_enclosures_are_checked_like_uploads(api, upstream, seeded, tmp_path):
    upstream.files["/a/ban-tin.mp3"] = tone(tmp_path / "ban-tin.mp3", 2.0).read_bytes()
    upstream.files["/a/hong.mp3"] = b"this is not audio at all" * 20
    feed = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Đài tỉnh</title><id>urn:dai-tinh</id>
<updated>2026-12-04T00:00:00Z</updated>
<entry><id>urn:dai-tinh:1</id><title>Bản tin tiếng Mông</title><updated>2026-12-04T00:00:00Z</updated>
  <link rel="enclosure" type="audio/mpeg" href="{upstream.url('/a/ban-tin.mp3')}"/></entry>
<entry><id>urn:dai-tinh:2</id><title>Thông báo</title><updated>2026-12-04T00:00:00Z</updated>
  <summary>Mời bà con đi bầu cử.</summary>
  <link rel="enclosure" type="audio/mpeg" href="{upstream.url('/a/hong.mp3')}"/></entry>
<entry><id>urn:dai-tinh:3</id><title>Chỉ có âm thanh hỏng</title><updated>2026-12-04T00:00:00Z</updated>
  <link rel="enclosure" type="audio/mpeg" href="{upstream.url('/a/hong.mp3')}"/></entry>
</feed>""".encode()
    upstream.documents["/feed.atom"] = (feed, "application/atom+xml")
    source = api.create(name="Đài tỉnh", kind="rss", url=upstream.url("/feed.atom"))["source"]
    [batch] = _pull(seeded)
    recorded, spoken = _items(seeded)
    assert recorded.content_source is ContentSource.RECORDING and recorded.render_state is RenderState.READY
    assert 1900 <= recorded.duration_ms <= 2100
    # What happened to its audio, in Vietnamese: editors read it beside the item.
    assert spoken.content_source is ContentSource.SPEECH and "đọc văn bản thay thế" in spoken.render_warning
    # Audio alone, and not audio: refused for good, said once and not tried again.
    with seeded.extensions["database"].sessions() as session:
        refused = session.scalar(select(ReceivedBulletin).where(ReceivedBulletin.source_ref == "urn:dai-tinh:3"))
        assert refused.item_id is None and "Không dùng âm thanh" in refused.warning
    assert batch.created == 3 and _source(seeded, source["id"]).etag  # all settled: the validators are kept


def test_a_cap_feed_makes_an_emergency_broadcast_waiting_for_an_approver(api, upstream, seeded):
    upstream.documents["/alerts/1.xml"] = ((CAP_FIXTURES / "province.xml").read_bytes(), "application/cap+xml")
    upstream.documents["/alerts.atom"] = (f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>PCTT</title><id>urn:pctt</id><updated>2026-12-04T00:00:00Z</updated>
<entry><id>urn:pctt:1</id><title>Lũ quét</title><updated>2026-12-04T00:00:00Z</updated>
  <link rel="alternate" type="application/cap+xml" href="{upstream.url('/alerts/1.xml')}"/></entry>
</feed>""".encode(), "application/atom+xml")
    api.create(name="PCTT", kind="cap", url=upstream.url("/alerts.atom"))
    [batch] = _pull(seeded)
    [received] = batch.received
    with seeded.extensions["database"].sessions() as session:
        broadcast = session.get(EmergencyBroadcast, received.record.emergency_id)
        assert broadcast.state.value == "pending" and broadcast.cap_identifier == "VN-TQ-2026-province"
    # The feed changed (no ETag match) but the alert is the same entry: nothing new.
    upstream.documents["/alerts.atom"] = (upstream.documents["/alerts.atom"][0] + b"\n", "application/atom+xml")
    [again] = _pull(seeded, NOW + timedelta(hours=1))
    assert [r.duplicate for r in again.received] == [True]
    with seeded.extensions["database"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(EmergencyBroadcast)) == 1


def test_pushes_are_authenticated_per_source_and_idempotent(api, seeded):
    source = api.create(name="Trung ương", kind="json")
    url = f"/api/v1/exchange/sources/{source['source']['id']}/bulletins"
    other = api.create(name="Tỉnh bạn", kind="json")
    bearer = {"Authorization": f"Bearer {source['secret']}"}

    first = api.client.post(url, data=_json(BULLETIN_1), headers=bearer, content_type="application/json")
    assert first.status_code == 201 and first.json["created"] == 1
    assert first.json["received"][0]["duplicate"] is False and first.json["received"][0]["item"]
    again = api.client.post(url, data=_json(BULLETIN_1), headers=bearer, content_type="application/json")
    assert again.status_code == 200 and again.json["received"][0]["duplicate"] is True
    assert again.json["received"][0]["item"] == first.json["received"][0]["item"]

    body = json.dumps(BULLETIN_2).encode()  # one bulletin alone, signed instead of a token
    stamp = int(NOW.timestamp())  # the service's clock is NOW in this test
    signed = {"X-Radio-Timestamp": str(stamp), "X-Radio-Signature": webhook.sign(source["secret"], stamp, body)}
    assert api.client.post(url, data=body, headers=signed, content_type="application/json").status_code == 201
    tampered = api.client.post(url, data=body.replace(b"11", b"12"), headers=signed,
                               content_type="application/json")
    assert tampered.status_code == 401
    wrong = {"Authorization": f"Bearer {other['secret']}"}
    assert api.client.post(url, data=_json(BULLETIN_1), headers=wrong).status_code == 401
    assert api.client.post(url, data=_json(BULLETIN_1)).status_code == 401
    garbage = api.client.post(url, data=b"not json", headers=bearer, content_type="application/json")
    assert garbage.status_code == 422 and "not JSON" in garbage.json["message"]
    assert [i.title for i in _items(seeded)] == [BULLETIN_1["title"], BULLETIN_2["title"]]

    disabled = api.client.post(f"/api/v1/exchange/sources/{source['source']['id']}/disable",
                               headers=api.tokens["admin"])
    assert disabled.status_code == 200 and disabled.json["active"] is False
    assert api.client.post(url, data=_json(BULLETIN_1), headers=bearer).status_code == 409


def test_the_pull_job_uses_the_configured_database(api, upstream, seeded, settings, monkeypatch):
    from broadcast.jobs import exchange

    monkeypatch.setenv("INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("OUTBOUND_ALLOW_NETWORKS", "127.0.0.0/8")
    upstream.documents["/b"] = (_json(BULLETIN_1), "application/json")
    api.create(name="Trung ương", kind="json", url=upstream.url("/b"))
    assert exchange.pull_sources(now=NOW) == 1
    assert exchange.pull_sources(now=NOW) == 0  # not due again yet


def test_internal_addresses_are_refused_unless_their_network_is_allowed(api, upstream, seeded):
    from broadcast.channels import outbound
    from broadcast.errors import InvalidInput
    from broadcast.services import upstream_sources

    with seeded.extensions["database"].sessions() as session:
        with pytest.raises(InvalidInput, match="internal address"):
            upstream_sources.create_source(session, users.get_user(session, "admin"), upstream_sources.SourceFields(
                name="Nội bộ", kind="json", url=upstream.url("/x")), policy=outbound.PUBLIC_ONLY, now=NOW)
    # Allowed when it was added, no longer when it is pulled: nothing is sent there, and the source says why.
    upstream.documents["/x"] = (_json(BULLETIN_1), "application/json")
    source = api.create(name="Nội bộ", kind="json", url=upstream.url("/x"))["source"]
    settings = seeded.extensions["settings"]
    with seeded.extensions["database"].sessions() as session:
        context = bulletins_in.Context(audio_tools(settings), outbound.PUBLIC_ONLY, None, NOW)
        assert upstream_pull.pull_due(session, context) == [None]
    state = _source(seeded, source["id"])
    assert "loopback" in state.last_error and upstream.server.requests == []


def test_a_bulletin_whose_audio_cannot_be_downloaded_now_comes_again(api, upstream, seeded, tmp_path):
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>a-1</guid><title>Chỉ có âm thanh</title>
  <enclosure url="{upstream.url('/later.mp3')}" type="audio/mpeg" length="1"/></item>
</channel></rss>""".encode()
    upstream.documents["/feed.rss"] = (feed, "application/rss+xml")
    source = api.create(name="Đài tỉnh", kind="rss", url=upstream.url("/feed.rss"))["source"]
    [first] = _pull(seeded)
    assert first.transient and first.received == [] and _items(seeded) == []
    assert _source(seeded, source["id"]).etag is None  # so the next pull gets the whole feed again, not a 304
    upstream.files["/later.mp3"] = tone(tmp_path / "later.mp3", 1.5).read_bytes()
    [second] = _pull(seeded, NOW + timedelta(minutes=6))
    assert second.created == 1 and _items(seeded)[0].content_source is ContentSource.RECORDING
    assert "If-None-Match" not in upstream.server.requests[-2].headers  # the feed itself, asked in full


def test_a_cap_source_pushes_an_alert_once(api, seeded):
    created = api.create(name="PCTT", kind="cap")
    url = f"/api/v1/exchange/sources/{created['source']['id']}/bulletins"
    bearer = {"Authorization": f"Bearer {created['secret']}", "Content-Type": "application/cap+xml"}
    alert = (CAP_FIXTURES / "province.xml").read_bytes()
    first = api.client.post(url, data=alert, headers=bearer)
    assert first.status_code == 201 and first.json["received"][0]["emergency"]
    again = api.client.post(url, data=alert, headers=bearer)
    assert again.status_code == 200 and again.json["received"][0]["duplicate"] is True
    refused = api.client.post(url, data=(CAP_FIXTURES / "malformed.xml").read_bytes(), headers=bearer)
    assert refused.status_code == 422
    with seeded.extensions["database"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(EmergencyBroadcast)) == 1
