"""Requests to addresses others give us: webhooks and a CAP alert's audio link cannot reach the service's own network.

A real HTTP server on 127.0.0.1 stands for an internal service (the admin port of something on the same machine).
By default nothing reaches it: registering it as a webhook is refused with the reason, a webhook that points at
it (a name that resolved elsewhere at registration) fails without a request, and a CAP alert naming audio there
is read aloud instead, nothing fetched. Listed in OUTBOUND_ALLOW_NETWORKS, it is reached as before.
"""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from broadcast.audio_setup import audio_tools
from broadcast.channels import outbound
from broadcast.db.models import AuditLog, ContentSource, EmergencyBroadcast, Webhook, WebhookDelivery
from broadcast.services import areas, items, placements, rendering, slots, users, webhooks
from tests.audio_fixtures import tone
from tests.services import need_tool
from tests.standins.http_server import Reply, Request, StandInServer

ROOT = Path(__file__).resolve().parents[2]
CAP_ALERT = (ROOT / "tests" / "fixtures" / "cap" / "legacy-commune.xml").read_text(encoding="utf-8")


class Internal:
    """A service on this machine that must not be reached from outside: records what it gets, answers 204/200."""

    def __init__(self, body: bytes = b"", *, host: str = "127.0.0.1"):
        self.got: list[Request] = []
        self.body = body
        self.server = StandInServer(self._respond, host=host)

    def _respond(self, request: Request) -> Reply:
        self.got.append(request)
        return Reply(status=200, body=self.body, content_type="audio/mpeg") if self.body else Reply(status=204)

    @property
    def port(self) -> int:
        return int(self.server.url.rsplit(":", 1)[1])


@pytest.fixture
def internal():
    made = Internal()
    with made.server:
        yield made


@pytest.fixture
def world(seeded):
    database = seeded.extensions["database"]
    with database.sessions() as session:
        people = {name: {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, name),
                                                                            "t")}
                  for name in ("admin", "bientap", "pheduyet")}
    return {"app": seeded, "api": seeded.test_client(), "people": people, "database": database}


def allow(world, networks: str) -> None:
    app = world["app"]
    app.extensions["settings"] = app.extensions["settings"].model_copy(update={"outbound_allow_networks": networks})


# -- webhooks ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254", "10.0.0.7", "0.0.0.0",  # noqa: S104
                                  "[::ffff:127.0.0.1]", "224.0.0.1"])
def test_registering_a_webhook_to_an_internal_address_is_refused_with_the_reason(world, internal, host):
    url = f"http://{host}:{internal.port}/hook"
    answer = world["api"].post("/api/v1/webhooks", json={"area": "08", "url": url}, headers=world["people"]["bientap"])
    assert answer.status_code == 422, answer.json
    assert "địa chỉ nội bộ" in answer.json["message"] and "OUTBOUND_ALLOW_NETWORKS" in answer.json["message"]
    assert "url" in answer.json["errors"]
    english = world["api"].post("/api/v1/webhooks?lang=en", json={"area": "08", "url": url},
                                headers=world["people"]["bientap"])
    assert english.status_code == 422 and "an internal address" in english.json["message"]
    with world["database"].sessions() as session:
        assert session.scalars(select(Webhook)).all() == []
    assert internal.got == []  # checking the address sends nothing to it


def test_a_webhook_on_an_allowed_network_is_registered_and_receives_events(world, internal):
    allow(world, "127.0.0.0/8")
    url = f"http://localhost:{internal.port}/hook"
    answer = world["api"].post("/api/v1/webhooks", json={"area": "08", "url": url}, headers=world["people"]["bientap"])
    assert answer.status_code == 201, answer.json
    assert publish_and_deliver(world) == webhooks.DeliveryRun(sent=1, failed=0)
    assert [r.path for r in internal.got] == ["/hook"]


def publish_and_deliver(world) -> webhooks.DeliveryRun:
    """Publish one bulletin for the province with real audio, then run the delivery job once."""
    app, database = world["app"], world["database"]
    settings = app.extensions["settings"]
    now = datetime.now(UTC)
    today = now.date()
    with database.sessions() as session:
        editor, approver = users.get_user(session, "bientap"), users.get_user(session, "pheduyet")
        made = items.create_item(session, editor, items.ItemFields(title="Tin tỉnh", body="Kính mời bà con."))
        rendering.render_item(session, made, audio_tools(settings), actor="test")
        items.submit(session, editor, made)
        items.approve(session, approver, made)
        province = areas.find_area(session, "08")
        slot = slots.create_slot(session, editor, slots.SlotSpec(
            name="Buổi tối", start_time=clock_time(23, 50), duration_s=600, valid_from=today), area=province)
        placements.create_placement(session, editor, placements.PlacementSpec(
            item_id=made.id, slot_id=slot.id, targets=["08"], date_from=today + timedelta(days=1),
            date_until=today + timedelta(days=2)), today=today)
        webhooks.publish_item(session, made, today=today)
        session.commit()
        assert session.scalars(select(WebhookDelivery)).all(), "the bulletin reached no webhook"
        return webhooks.deliver_webhooks(session, settings, now, timeout_s=5)


def test_a_webhook_that_now_leads_to_an_internal_address_is_not_sent_to(world, internal):
    # Registered while its name pointed elsewhere (or written before this check): sending checks again.
    need_tool("espeak-ng")
    with world["database"].sessions() as session:
        province = areas.find_area(session, "08")
        session.add(Webhook(area_id=province.id, url=f"http://localhost:{internal.port}/hook", secret="s" * 43,
                            description="", active=True))
        session.commit()
    assert publish_and_deliver(world) == webhooks.DeliveryRun(sent=0, failed=1)
    with world["database"].sessions() as session:
        failed = session.scalar(select(WebhookDelivery))
        assert failed.last_error.startswith("not sent") and "loopback" in failed.last_error
        assert "OUTBOUND_ALLOW_NETWORKS" in failed.last_error and failed.response_status is None
    assert internal.got == []


def test_a_name_that_resolves_again_elsewhere_cannot_redirect_a_checked_connection(world, monkeypatch):
    """DNS rebinding: the name first resolves to an allowed address, then to a refused one where an internal
    service listens. The connection goes to the address that was checked; the internal one hears nothing."""
    hidden = Internal(host="127.0.0.2")  # not allowed below: stands for an internal service
    with hidden.server:
        allow(world, "127.0.0.1/32")
        real = socket.getaddrinfo
        answers = iter(["127.0.0.1"])

        def rebinding(host, port, *args, **kwargs):
            if host != "rebind.example.vn":
                return real(host, port, *args, **kwargs)
            return real(next(answers, "127.0.0.2"), port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        policy = outbound.OutboundPolicy.from_text("127.0.0.1/32")
        url = f"http://rebind.example.vn:{hidden.port}/hook"
        with outbound.session(policy) as sender, pytest.raises(Exception) as raised:
            sender.get(url, timeout=5)
        # Nothing listens on 127.0.0.1 at that port: the checked address was the one tried.
        assert "refused" in str(raised.value).lower()
        # Asked again, the name now gives the hidden address, which is refused before any connection.
        with outbound.session(policy) as sender, pytest.raises(outbound.Refused):
            sender.get(url, timeout=5)
        assert hidden.got == []


# -- CAP alerts --------------------------------------------------------------------------------------------------


def alert_with_audio(uri: str, identifier: str) -> str:
    resource = (f"<resource><resourceDesc>Bản tin</resourceDesc><mimeType>audio/mpeg</mimeType><uri>{uri}</uri>"
                "</resource>\n    <area>")
    return (CAP_ALERT.replace("<area>", resource, 1)
            .replace("VN-TQ-2026-legacy-commune", identifier))


def import_alert(world, xml: str):
    return world["api"].post("/api/v1/emergencies/cap", headers=world["people"]["pheduyet"], data=xml.encode(),
                             content_type="application/cap+xml")


@pytest.fixture
def audio_server(tmp_path):
    need_tool("ffmpeg")
    made = Internal(tone(tmp_path / "canhbao.mp3", 2.0).read_bytes())
    with made.server:
        yield made


def test_a_cap_alerts_audio_on_an_internal_address_is_not_fetched_and_the_alert_is_read_aloud(world, audio_server):
    need_tool("espeak-ng")
    answer = import_alert(world, alert_with_audio(f"http://127.0.0.1:{audio_server.port}/canhbao.mp3", "ssrf-1"))
    assert answer.status_code == 201, answer.json
    [warning] = answer.json["warnings"]
    assert "refused, nothing fetched" in warning and "loopback" in warning and "OUTBOUND_ALLOW_NETWORKS" in warning
    assert audio_server.got == []
    with world["database"].sessions() as session:
        broadcast = session.get(EmergencyBroadcast, answer.json["broadcast"])
        assert broadcast.item.content_source is ContentSource.SPEECH and broadcast.item.audio_asset is not None
        audit = session.scalar(select(AuditLog).where(AuditLog.action == "emergency.cap_import"))
        assert audit.details["warnings"] == [warning]  # the problem stays on record with the import


def test_a_cap_alerts_audio_on_an_allowed_network_is_fetched(world, audio_server):
    allow(world, "127.0.0.0/8")
    answer = import_alert(world, alert_with_audio(f"http://127.0.0.1:{audio_server.port}/canhbao.mp3", "ssrf-2"))
    assert answer.status_code == 201, answer.json
    assert answer.json["warnings"] == []
    assert [r.path for r in audio_server.got] == ["/canhbao.mp3"]
    with world["database"].sessions() as session:
        item = session.get(EmergencyBroadcast, answer.json["broadcast"]).item
        assert item.content_source is ContentSource.RECORDING and 1900 <= item.audio_asset.duration_ms <= 2100


# -- limits of a download ----------------------------------------------------------------------------------------


def test_a_download_stops_at_its_size_limit(tmp_path):
    big = Internal(b"\xff" * 300_000)
    with big.server:
        policy = outbound.OutboundPolicy.from_text("127.0.0.1")
        with pytest.raises(OSError, match="larger than 100000 bytes"):
            outbound.download(f"{big.server.url}/big.mp3", tmp_path / "x", policy, max_bytes=100_000, timeout_s=10)
        outbound.download(f"{big.server.url}/big.mp3", tmp_path / "x", policy, max_bytes=300_000, timeout_s=10)
        assert (tmp_path / "x").stat().st_size == 300_000


def test_a_download_that_does_not_answer_gives_up(tmp_path):
    slow = StandInServer(lambda request: Reply(status=200, body=b"late", delay_s=60))
    with slow:
        policy = outbound.OutboundPolicy.from_text("127.0.0.1")
        with pytest.raises(OSError, match="cannot download"):
            outbound.download(f"{slow.url}/late.mp3", tmp_path / "x", policy, max_bytes=1000, timeout_s=0.5)


def test_a_redirect_to_an_internal_address_is_refused(tmp_path, internal):
    """A public-looking first hop (allowed here) that redirects inside: each hop is checked."""
    hop = StandInServer(lambda request: Reply(status=302, headers={"Location": f"http://localhost:{internal.port}/"}),
                        host="127.0.0.3")
    with hop:
        policy = outbound.OutboundPolicy.from_text("127.0.0.3/32")
        with pytest.raises(outbound.Refused):
            outbound.download(f"{hop.url}/audio.mp3", tmp_path / "x", policy, max_bytes=1000, timeout_s=5)
    assert internal.got == []


def test_only_http_and_https_are_fetched(tmp_path):
    with pytest.raises(OSError, match="not an http"):
        outbound.download("file:///etc/passwd", tmp_path / "x", outbound.PUBLIC_ONLY, max_bytes=10, timeout_s=1)


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the name ``localhost`` (not for 127.0.0.1), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
                   .not_valid_after(now + timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_to_a_pinned_address_still_checks_the_certificate_against_the_name(tmp_path):
    """The connection goes to the checked 127.0.0.1, yet TLS names ``localhost`` (SNI) and verifies the
    certificate for it, and the Host header is the URL's."""
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = StandInServer(lambda request: Reply(status=200, body=request.headers.get("Host", "").encode()),
                           tls=context)
    with server:
        port = int(server.url.rsplit(":", 1)[1])
        policy = outbound.OutboundPolicy.from_text("127.0.0.1/32")
        with outbound.session(policy) as sender:
            answer = sender.get(f"https://localhost:{port}/", verify=str(cert), timeout=5)
            assert answer.status_code == 200 and answer.text == f"localhost:{port}"
            # The same server by its address: the certificate does not name 127.0.0.1, so TLS refuses it.
            with pytest.raises(requests.exceptions.SSLError):
                sender.get(f"https://127.0.0.1:{port}/", verify=str(cert), timeout=5)
