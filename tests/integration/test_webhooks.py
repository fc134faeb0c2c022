"""Signed webhooks: registration through the API, one queued event per reached webhook, and delivery by the job
to a real HTTP receiver on 127.0.0.1 that checks every signature the way a receiver is told to.

The world is legacy Hà Giang, which still has districts: Thành phố Hà Giang (024) with the ward Quang Trung
(00688), and Đồng Văn (026).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import pytest
from sqlalchemy import func, select

from audio.processing import AudioStore
from broadcast import load_settings
from broadcast.audio_setup import audio_tools
from broadcast.channels import outbound, webhook
from broadcast.channels.retry import RetryPolicy
from broadcast.db.models import (
    AudioAsset,
    AuditLog,
    DeliveryState,
    NewsItem,
    RenderState,
    Role,
    Structure,
    Webhook,
    WebhookDelivery,
)
from broadcast.services import areas, items, placements, rendering, slots, users, webhooks
from tests.audio_fixtures import tone
from tests.services import free_port, need_tool
from tests.standins.http_server import Reply, Request, StandInServer

NOW = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)


class Receiver:
    """Another system's endpoint: checks each request's signature with its secret, answers as the test says."""

    def __init__(self):
        self.secrets: dict[str, str] = {}  # path -> secret
        self.answers: dict[str, list[int]] = {}  # path -> statuses to give, then 204
        self.got: list[tuple[Request, bool]] = []
        self.server = StandInServer(self._respond)

    def _respond(self, request: Request) -> Reply:
        ok = webhook.verify(self.secrets[request.path], int(request.headers["X-Radio-Timestamp"]), request.body,
                            request.headers["X-Radio-Signature"], now=time.time())
        self.got.append((request, ok))
        queued = self.answers.get(request.path) or []
        status = (queued.pop(0) if queued else 204) if ok else 401
        return Reply(status=status, body=b"" if status == 204 else b"receiver says no", content_type="text/plain")

    def url(self, path: str) -> str:
        return self.server.url + path

    def paths(self) -> list[str]:
        return [r.path for r, _ in self.got]


@pytest.fixture
def receiver():
    made = Receiver()
    with made.server:
        yield made


@pytest.fixture
def settings(tmp_path, database):
    """The receivers here are stand-ins on 127.0.0.1, an address the service refuses unless its network is allowed
    (tests/integration/test_outbound.py shows the refusal)."""
    return load_settings(instance_path=tmp_path / "instance", database_url=database.url,
                         outbound_allow_networks="127.0.0.0/8")


@pytest.fixture
def world(app, tmp_path):
    """Hà Giang with an editor of the city (024), a provincial editor and approver, a morning slot, and a helper
    that makes approved items with real MP3 audio."""
    app.extensions["clock"] = lambda: NOW
    store = AudioStore(app.extensions["settings"].resolved_audio_dir)
    database = app.extensions["database"]
    with database.sessions() as session:
        areas.load_province(session, "Hà Giang", Structure.LEGACY)
        province = areas.find_area(session, "02")
        for name, role, code in (("tinh", Role.EDITOR, "02"), ("thanhpho", Role.EDITOR, "024"),
                                 ("pheduyet", Role.APPROVER, "02"), ("admin", Role.ADMIN, None)):
            users.create_user(session, username=name, password="long enough", role=role,
                              scope_area=areas.find_area(session, code) if code else None)
        slot_id = slots.create_slot(session, users.get_user(session, "tinh"), slots.SlotSpec(
            name="Buổi sáng", start_time=clock_time(6, 0), duration_s=3600, valid_from=TODAY), area=province).id

    class World:
        def session(self):
            return database.sessions()

        def hook(self, code: str, url: str, *, active=True) -> tuple[int, str]:
            with database.sessions() as session:
                made = webhooks.register(session, users.get_user(session, "admin"), area_code=code, url=url,
                                         policy=outbound.OutboundPolicy.from_text("127.0.0.0/8"))
                made.webhook.active = active
                session.commit()
                return made.webhook.id, made.secret

        def item(self, title: str, *, audio=True, approve=True) -> int:
            with database.sessions() as session:
                editor = users.get_user(session, "tinh")
                made = items.create_item(session, editor, items.ItemFields(title=title, body=f"{title}. Kính mời."))
                if audio:
                    stored = store.put(tone(tmp_path / f"{made.id}.mp3", 1.5, freq=300 + 40 * made.id))
                    made.audio_asset = AudioAsset(sha256=stored.sha256, size_bytes=stored.size_bytes,
                                                  duration_ms=1500, origin="upload")
                    made.render_state = RenderState.READY
                    session.commit()
                items.submit(session, editor, made)
                if approve:
                    items.approve(session, users.get_user(session, "pheduyet"), made)
                return made.id

        def place(self, item_id: int, targets: list[str], days: int = 6) -> None:
            with database.sessions() as session:
                placements.create_placement(session, users.get_user(session, "tinh"), placements.PlacementSpec(
                    item_id=item_id, slot_id=slot_id, targets=targets, date_from=TODAY,
                    date_until=TODAY + timedelta(days=days)), today=TODAY)

        def deliveries(self) -> list[WebhookDelivery]:
            with database.sessions() as session:
                return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))

        def deliver(self, now: datetime, **options) -> webhooks.DeliveryRun:
            with database.sessions() as session:
                return webhooks.deliver_webhooks(session, app.extensions["settings"], now, **options)

    return World()


def test_a_publication_is_queued_once_for_each_webhook_it_reaches(world, receiver):
    hooks = {code: world.hook(code, receiver.url(f"/{code}"))[0] for code in ("02", "024", "00688", "026")}
    inactive, _ = world.hook("024", receiver.url("/off"), active=False)
    item_id = world.item("Phường Quang Trung: tiêm chủng")
    assert world.deliveries() == []  # approved with audio, but not placed anywhere yet

    world.place(item_id, ["00688"])
    queued = world.deliveries()
    # The ward's own webhook, its district's and its province's; not the other district's, not the inactive one.
    assert sorted(d.webhook_id for d in queued) == sorted([hooks["02"], hooks["024"], hooks["00688"]])
    assert inactive not in {d.webhook_id for d in queued}
    assert {d.event for d in queued} == {"bulletin.published"} and len({d.event_id for d in queued}) == 1
    assert all(d.state is DeliveryState.QUEUED and d.attempts == 0 for d in queued)

    # Placing the same reading again (more days, the whole province) queues nothing new for those webhooks...
    world.place(item_id, ["02"], days=3)
    world.place(item_id, ["00688"], days=2)
    with world.session() as session:
        assert webhooks.publish_item(session, session.get(NewsItem, item_id), today=TODAY) == 0
        session.commit()
    # ... except for the webhook that the province-wide placement newly reaches (Đồng Văn).
    assert sorted(d.webhook_id for d in world.deliveries()) == sorted(hooks.values())
    payload = world.deliveries()[0].payload
    assert payload["title"] == "Phường Quang Trung: tiêm chủng" and payload["item_class"] == "normal"
    assert payload["areas"] == ["00688"]
    assert (payload["date_from"], payload["date_until"]) == ("2026-11-28", "2026-12-04")
    assert payload["audio"]["url"] == f"/feeds/audio/{payload['audio']['sha256']}.mp3"
    assert payload["audio"]["size"] > 0 and payload["audio"]["duration_ms"] == 1500


def test_approval_publishes_an_item_placed_beforehand(world, receiver):
    hook_id, _ = world.hook("024", receiver.url("/024"))
    item_id = world.item("Chờ duyệt", approve=False)
    world.place(item_id, ["00688"])
    assert world.deliveries() == []  # placed, but not approved
    with world.session() as session:
        items.approve(session, users.get_user(session, "pheduyet"), session.get(NewsItem, item_id))
    assert [d.webhook_id for d in world.deliveries()] == [hook_id]


def test_rendering_publishes_an_approved_placed_item(app, world, receiver):
    need_tool("espeak-ng")
    need_tool("ffmpeg")
    hook_id, _ = world.hook("02", receiver.url("/02"))
    item_id = world.item("Đọc bằng giọng máy", audio=False)  # approved: waits for the render job
    world.place(item_id, ["024"])
    assert world.deliveries() == []
    with app.app_context(), world.session() as session:
        assert [i.id for i in rendering.render_pending(session, audio_tools(app.extensions["settings"]))] == [item_id]
    [queued] = world.deliveries()
    assert queued.webhook_id == hook_id and queued.payload["id"] == item_id


def test_the_job_delivers_a_signed_event_the_receiver_can_check(app, world, receiver):
    hook_id, secret = world.hook("00688", receiver.url("/00688"))
    receiver.secrets["/00688"] = secret
    item_id = world.item("Phường Quang Trung: tiêm chủng")
    world.place(item_id, ["00688"])
    started = datetime.now(UTC)
    assert world.deliver(started) == webhooks.DeliveryRun(sent=1, failed=0)

    [(request, verified)] = receiver.got
    assert verified
    [delivery] = world.deliveries()
    assert request.method == "POST" and request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Radio-Event"] == "bulletin.published"
    assert request.headers["X-Radio-Event-Id"] == delivery.event_id
    assert webhook.verify(secret, int(request.headers["X-Radio-Timestamp"]), request.body,
                          request.headers["X-Radio-Signature"], now=time.time())
    body = json.loads(request.body)
    assert body["event"] == "bulletin.published" and body["event_id"] == delivery.event_id
    assert body["data"]["id"] == item_id and body["data"]["title"] == "Phường Quang Trung: tiêm chủng"
    # The audio path in the event serves the published audio.
    audio = app.test_client().get(body["data"]["audio"]["url"])
    assert audio.status_code == 200 and len(audio.data) == body["data"]["audio"]["size"]

    assert delivery.state is DeliveryState.SENT and delivery.response_status == 204 and delivery.attempts == 1
    assert delivery.sent_at is not None and delivery.sent_at >= started and delivery.last_error is None
    # Sent is sent: the next run has nothing to do.
    assert world.deliver(datetime.now(UTC)) == webhooks.DeliveryRun(sent=0, failed=0)
    assert len(receiver.got) == 1


def test_a_failing_receiver_is_retried_with_backoff_until_it_takes_the_event(world, receiver):
    hook_id, secret = world.hook("024", receiver.url("/024"))
    receiver.secrets["/024"], receiver.answers["/024"] = secret, [500]
    world.place(world.item("Tin thành phố"), ["024"])
    first = datetime.now(UTC)
    assert world.deliver(first) == webhooks.DeliveryRun(sent=0, failed=1)
    [failed] = world.deliveries()
    assert failed.state is DeliveryState.FAILED and failed.attempts == 1 and failed.response_status == 500
    assert failed.last_error.startswith("HTTP 500") and "receiver says no" in failed.last_error
    # RetryPolicy's equal jitter: between half the base wait and the whole of it after the first failure.
    base = webhooks.POLICY.base_s
    assert first + timedelta(seconds=base / 2) <= failed.next_retry_at <= first + timedelta(seconds=base + 1)

    assert world.deliver(first + timedelta(seconds=1)) == webhooks.DeliveryRun(sent=0, failed=0)  # not due yet
    assert len(receiver.got) == 1
    assert world.deliver(failed.next_retry_at) == webhooks.DeliveryRun(sent=1, failed=0)
    [sent] = world.deliveries()
    assert sent.state is DeliveryState.SENT and sent.attempts == 2 and sent.next_retry_at is None
    assert [ok for _, ok in receiver.got] == [True, True]
    assert receiver.got[0][0].body == receiver.got[1][0].body  # a retry sends the very same event


def test_an_unreachable_receiver_fails_with_the_reason_and_stops_after_the_last_attempt(world):
    world.hook("024", f"http://127.0.0.1:{free_port()}/nobody-listens")
    world.place(world.item("Tin thành phố"), ["024"])
    now = datetime.now(UTC)
    policy = RetryPolicy(base_s=10, max_attempts=2)
    assert world.deliver(now, policy=policy, timeout_s=2) == webhooks.DeliveryRun(sent=0, failed=1)
    [failed] = world.deliveries()
    assert failed.state is DeliveryState.FAILED and failed.response_status is None
    assert failed.last_error.startswith("cannot connect") and "refused" in failed.last_error.lower()
    assert failed.next_retry_at is not None
    world.deliver(failed.next_retry_at, policy=policy, timeout_s=2)
    [given_up] = world.deliveries()
    assert given_up.attempts == 2 and given_up.next_retry_at is None  # stays failed until someone acts
    assert world.deliver(now + timedelta(days=1), policy=policy) == webhooks.DeliveryRun(sent=0, failed=0)


def test_a_tampered_request_fails_verification(world, receiver):
    _, secret = world.hook("024", receiver.url("/024"))
    _, other_secret = world.hook("026", receiver.url("/026"))
    receiver.secrets.update({"/024": secret, "/026": other_secret})
    world.place(world.item("Tin thành phố"), ["024"])
    world.deliver(datetime.now(UTC))
    [(request, ok)] = receiver.got
    timestamp, signature = int(request.headers["X-Radio-Timestamp"]), request.headers["X-Radio-Signature"]
    assert ok and webhook.verify(secret, timestamp, request.body, signature, now=time.time())
    tampered = request.body.replace("Tin thành phố".encode(), "Tin giả mạo".encode())
    assert tampered != request.body
    assert not webhook.verify(secret, timestamp, tampered, signature, now=time.time())
    assert not webhook.verify(other_secret, timestamp, request.body, signature, now=time.time())
    assert not webhook.verify(secret, timestamp, request.body, signature, now=time.time() + 3600)  # replayed later


@pytest.fixture
def api(app, world):
    with world.session() as session:
        tokens = {name: users.issue_api_token(session, users.get_user(session, name), "t")
                  for name in ("tinh", "thanhpho", "pheduyet", "admin")}
    return app.test_client(), {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}


@pytest.mark.parametrize("url", ["ftp://cong.example.vn/radio", "cong.example.vn/radio", "https://", "",
                                 "https://cong example.vn/", "https://user:pw@cong.example.vn/radio",
                                 "https://cong.example.vn:99999/radio"])
def test_api_refuses_a_bad_address_with_the_reason(api, url):
    client, headers = api
    response = client.post("/api/v1/webhooks", json={"area": "024", "url": url}, headers=headers["thanhpho"])
    assert response.status_code == 422, response.json
    assert "url" in response.json["errors"]
    assert "địa chỉ" in response.json["message"]


def test_api_registers_lists_and_deletes_within_the_editors_area(api, world):
    client, headers = api
    created = client.post("/api/v1/webhooks", headers=headers["thanhpho"], json={
        "area": "00688", "url": "https://congthongtin.example.vn/radio", "description": "Cổng thông tin phường"})
    assert created.status_code == 201, created.json
    secret = created.json["secret"]
    assert len(secret) >= 43 and created.json["area"]["code"] == "00688" and created.json["active"] is True
    with world.session() as session:
        assert session.get(Webhook, created.json["id"]).secret == secret
        audit = session.scalar(select(AuditLog).where(AuditLog.action == "webhook.create"))
        assert audit.actor == "thanhpho" and secret not in json.dumps(audit.details)

    # Another district is outside the city editor's area, whether registering or deleting.
    outside = client.post("/api/v1/webhooks", json={"area": "026", "url": "https://dongvan.example.vn/"},
                          headers=headers["thanhpho"])
    assert outside.status_code == 403 and "Huyện Đồng Văn" in outside.json["message"]
    dong_van = client.post("/api/v1/webhooks", json={"area": "026", "url": "https://dongvan.example.vn/"},
                           headers=headers["tinh"]).json["id"]
    assert client.delete(f"/api/v1/webhooks/{dong_van}", headers=headers["thanhpho"]).status_code == 404
    assert client.post("/api/v1/webhooks", json={"area": "024", "url": "https://x.example.vn/"},
                       headers=headers["pheduyet"]).status_code == 403  # approvers do not manage webhooks
    assert client.post("/api/v1/webhooks", json={"area": "99999", "url": "https://x.example.vn/"},
                       headers=headers["thanhpho"]).status_code == 404

    # The secret is never shown again.
    mine = client.get("/api/v1/webhooks", headers=headers["thanhpho"]).json
    assert [h["id"] for h in mine] == [created.json["id"]]
    everything = client.get("/api/v1/webhooks", headers=headers["tinh"]).json
    assert {h["id"] for h in everything} == {created.json["id"], dong_van}
    assert all("secret" not in h for h in mine + everything)

    assert client.delete(f"/api/v1/webhooks/{created.json['id']}", headers=headers["thanhpho"]).status_code == 204
    assert client.get("/api/v1/webhooks", headers=headers["thanhpho"]).json == []
    with world.session() as session:
        deleted = select(func.count()).select_from(AuditLog).where(AuditLog.action == "webhook.delete")
        assert session.scalar(deleted) == 1


def test_deleting_a_webhook_removes_its_deliveries(world, receiver):
    hook_id, _ = world.hook("024", receiver.url("/024"))
    world.place(world.item("Tin thành phố"), ["024"])
    assert len(world.deliveries()) == 1
    with world.session() as session:
        webhooks.deactivate(session, users.get_user(session, "tinh"), hook_id)
    assert world.deliver(datetime.now(UTC)) == webhooks.DeliveryRun(sent=0, failed=0)  # inactive: nothing sent
    with world.session() as session:
        webhooks.delete_webhook(session, users.get_user(session, "tinh"), hook_id)
    assert world.deliveries() == []
