"""Writing CAP 1.2 alerts and their Atom feed, without a database: the Cancel message's element order against
the real OASIS schema, text XML cannot hold, the error a broken record raises, and the feed's author."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from broadcast.alerts import export
from broadcast.db.models import EmergencyBroadcast, EmergencyState

CAP_XSD = Path(__file__).resolve().parents[2] / "broadcast" / "alerts" / "schema" / "CAP-v1.2.xsd"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
SENDER = "radio@tuyenquang.invalid"
ISSUED = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def cancelled(reason: str | None) -> EmergencyBroadcast:
    return EmergencyBroadcast(id=7, state=EmergencyState.CANCELLED, issued_at=ISSUED, created_at=ISSUED,
                              closed_at=ISSUED + timedelta(minutes=5), close_reason=reason)


def schema_errors(document: bytes) -> list[str]:
    schema = etree.XMLSchema(etree.parse(str(CAP_XSD)))
    schema.validate(etree.fromstring(document))
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def test_a_cancel_with_a_reason_puts_the_note_before_the_references_as_the_schema_wants():
    document = export.to_cap_cancel(cancelled("Tin sai"), sender=SENDER, zone=UTC)
    assert schema_errors(document) == []
    assert [child.tag.removeprefix(CAP) for child in etree.fromstring(document)] == [
        "identifier", "sender", "sent", "status", "msgType", "scope", "note", "references"]


@pytest.mark.parametrize("reason", [None, "", "Tin sai\x00\x0b\x0c, đã hết nguy hiểm \U0001f30a"])
def test_a_cancel_is_valid_whatever_its_reason(reason):
    document = export.to_cap_cancel(cancelled(reason), sender=SENDER, zone=UTC)
    assert schema_errors(document) == []
    note = etree.fromstring(document).findtext(f"{CAP}note")
    assert note == ("Tin sai, đã hết nguy hiểm \U0001f30a" if reason else None)


def test_a_broadcast_whose_stored_original_is_damaged_raises_an_export_error():
    broadcast = EmergencyBroadcast(id=9, state=EmergencyState.ISSUED, issued_at=ISSUED, cap_xml="<alert/>")
    with pytest.raises(export.ExportError) as raised:
        export.to_cap(broadcast, sender=SENDER, zone=UTC, audio_url=str)
    # A server error naming the broadcast, not the 422 that would blame the request.
    assert raised.value.status == 500 and raised.value.broadcast_id == 9
    assert "Emergency broadcast 9 cannot be published as a CAP 1.2 alert" in str(raised.value)


def test_the_atom_feed_names_its_author_and_keeps_its_texts_xml_safe():
    alert = export.to_cap_cancel(cancelled(None), sender=SENDER, zone=UTC)
    body = export.atom_feed(title="Cảnh báo — Hà Giang", author="Đài truyền thanh\x0b cơ sở", feed_id="urn:x",
                            self_url="http://localhost/feeds/02/alerts.atom", updated=ISSUED, zone=UTC,
                            entries=[("urn:e", "Đã hủy: lũ\x00", ISSUED, "http://localhost/a.xml", alert)])
    feed = etree.fromstring(body)
    assert [a.findtext(f"{ATOM}name") for a in feed.findall(f"{ATOM}author")] == ["Đài truyền thanh cơ sở"]
    assert feed.findtext(f"{ATOM}entry/{ATOM}title") == "Đã hủy: lũ"
