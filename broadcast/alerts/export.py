"""Emergency broadcasts as OASIS CAP 1.2 alerts, and an area's alerts as an Atom feed.

Mapping (the reverse of the import, so exporting then importing gives the same alert):

- ``identifier`` ``<sender>.emergency.<id>``, ``sender`` the service's ``CAP_SENDER``, ``sent`` the issue time;
  a broadcast that came from a CAP alert keeps that alert's identifier, sender, sent time, status and areas.
- ``msgType`` Alert, or Update (``references`` the replaced alert) when it replaces one; a cancelled broadcast
  also has a Cancel message (:func:`to_cap_cancel`).
- ``severity`` Extreme for risk level 5, else Severe: an emergency broadcast interrupts programmes, which CAP
  expresses as Severe or Extreme with Immediate urgency. The exact level travels in the ``riskLevel``
  parameter (Decision 18/2021/QĐ-TTg), the repeats in ``repeatCount`` and ``repeatIntervalSeconds``.
- One ``area`` per target area with its ``VN-NSO`` geocode; the audio as a ``resource`` (audio/mpeg) whose
  ``uri`` is the public feed address of the file.

Every document is validated against the CAP 1.2 schema before it leaves, like every document that comes in; one
that fails raises :class:`ExportError`, so a caller listing many alerts can leave that one out and go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, tzinfo

from lxml import etree

from broadcast.alerts import cap
from broadcast.alerts.cap import CAP_NS, CapError
from broadcast.db.models import EmergencyBroadcast, EmergencyState
from broadcast.errors import DomainError
from broadcast.i18n import _l

ATOM_NS = "http://www.w3.org/2005/Atom"
LANGUAGE = "vi-VN"
CATEGORY = "Safety"
PARAM_RISK, PARAM_REPEAT, PARAM_INTERVAL = "riskLevel", "repeatCount", "repeatIntervalSeconds"

AudioUrl = Callable[[str], str]  # sha256 -> absolute URL of the public audio file
# Characters XML 1.0 cannot hold at all (most C0 controls): lxml refuses them, and a reason pasted from a word
# processor can carry one (a vertical tab, a form feed); dropped rather than making the whole alert unpublishable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class ExportError(DomainError):
    """A broadcast whose data does not make a valid CAP 1.2 document.

    The service's own data is at fault, not the request, so it answers 500 rather than the 422 of a bad import.
    """

    status = 500
    code = "cap_export_failed"

    def __init__(self, broadcast_id: int, detail: str):
        super().__init__(_l("Emergency broadcast %(id)s cannot be published as a CAP 1.2 alert: %(detail)s",
                            id=broadcast_id, detail=detail))
        self.broadcast_id = broadcast_id
        self.detail = detail


@contextmanager
def _building(broadcast: EmergencyBroadcast) -> Iterator[None]:
    """Turn any failure to build or validate the document of ``broadcast`` into :class:`ExportError`."""
    try:
        yield
    except CapError as exc:  # a stored original that no longer parses, or our output failing the schema
        raise ExportError(broadcast.id, str(exc.message)) from exc
    except ValueError as exc:  # lxml refusing a value, or a stored value that does not convert
        raise ExportError(broadcast.id, str(exc)) from exc


def _xml_safe(value: object) -> str:
    """``value`` as text XML can hold (see ``_NOT_XML``)."""
    return _NOT_XML.sub("", str(value))


def _moment(value: datetime, zone: tzinfo) -> str:
    # CAP dates carry an explicit offset and no fractions ("Z" is not allowed: UTC is written -00:00).
    return value.astimezone(zone).isoformat(timespec="seconds").replace("+00:00", "-00:00")


def identifier_of(broadcast: EmergencyBroadcast, sender: str) -> str:
    return broadcast.cap_identifier or f"{sender}.emergency.{broadcast.id}"


def _original(broadcast: EmergencyBroadcast) -> cap.CapAlert | None:
    if broadcast.cap_xml:
        return cap.parse_cap(broadcast.cap_xml.encode("utf-8"))
    return None


def _sub(parent: etree._Element, name: str, text: object | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAP_NS}}}{name}")
    if text is not None:
        element.text = _xml_safe(text)
    return element


def _pair(parent: etree._Element, name: str, value_name: str, value: object) -> None:
    element = _sub(parent, name)
    _sub(element, "valueName", value_name)
    _sub(element, "value", value)


def _header(root: etree._Element, broadcast: EmergencyBroadcast, sender: str, zone: tzinfo,
            original: cap.CapAlert | None) -> None:
    _sub(root, "identifier", identifier_of(broadcast, sender))
    _sub(root, "sender", broadcast.cap_sender or sender)
    _sub(root, "sent", _moment(broadcast.cap_sent or broadcast.issued_at or broadcast.created_at, zone))
    status = original.status if original is not None else (
        "Test" if broadcast.state is EmergencyState.TEST else "Actual")
    _sub(root, "status", status)


def _areas(info: etree._Element, broadcast: EmergencyBroadcast, original: cap.CapAlert | None) -> None:
    given: Sequence[cap.CapArea] = [a for i in original.infos for a in i.areas] if original is not None else [
        cap.CapArea(description=a.name, geocodes=(("VN-NSO", a.code),)) for a in broadcast.areas]
    for area in given:
        element = _sub(info, "area")
        _sub(element, "areaDesc", area.description)
        for ring in area.polygons:
            _sub(element, "polygon", " ".join(f"{lat:g},{lon:g}" for lat, lon in ring))
        for circle in area.circles:
            _sub(element, "circle", f"{circle.lat:g},{circle.lon:g} {circle.radius_km:g}")
        for name, value in area.geocodes:
            _pair(element, "geocode", name, value)


def to_cap(broadcast: EmergencyBroadcast, *, sender: str, zone: tzinfo, audio_url: AudioUrl,
           sender_name: str = "") -> bytes:
    """The broadcast as one CAP 1.2 alert (UTF-8 XML); raises :class:`ExportError` if it cannot be one."""
    with _building(broadcast):
        return _alert(broadcast, sender=sender, zone=zone, audio_url=audio_url, sender_name=sender_name)


def _alert(broadcast: EmergencyBroadcast, *, sender: str, zone: tzinfo, audio_url: AudioUrl,
           sender_name: str) -> bytes:
    """The alert itself, built and checked (errors left to the caller)."""
    original = _original(broadcast)
    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _header(root, broadcast, sender, zone, original)
    replaced = broadcast.replaces
    _sub(root, "msgType", "Update" if replaced is not None else "Alert")
    _sub(root, "scope", "Public")
    if replaced is not None:
        _sub(root, "references", _reference(replaced, sender, zone))
    item = broadcast.item
    info = _sub(root, "info")
    _sub(info, "language", LANGUAGE)
    _sub(info, "category", CATEGORY)
    _sub(info, "event", item.title)
    _sub(info, "urgency", "Immediate")
    _sub(info, "severity", "Extreme" if broadcast.risk_level >= 5 else "Severe")
    _sub(info, "certainty", "Likely")
    _sub(info, "expires", _moment(broadcast.expires_at, zone))
    if sender_name:
        _sub(info, "senderName", sender_name)
    _sub(info, "headline", item.title)
    if item.body.strip():
        _sub(info, "description", item.body.strip())
    _pair(info, "parameter", PARAM_RISK, broadcast.risk_level)
    _pair(info, "parameter", PARAM_REPEAT, broadcast.repeat_count)
    _pair(info, "parameter", PARAM_INTERVAL, broadcast.repeat_interval_s)
    asset = item.audio_asset
    if asset is not None:
        resource = _sub(info, "resource")
        _sub(resource, "resourceDesc", "Bản tin âm thanh / audio bulletin")
        _sub(resource, "mimeType", asset.mime_type)
        _sub(resource, "size", asset.size_bytes)
        _sub(resource, "uri", audio_url(asset.sha256))
    _areas(info, broadcast, original)
    return _checked(root)


def _reference(broadcast: EmergencyBroadcast, sender: str, zone: tzinfo) -> str:
    """``sender,identifier,sent`` of an earlier alert (CAP 1.2, 3.2.1)."""
    sent = broadcast.cap_sent or broadcast.issued_at or broadcast.created_at
    return f"{broadcast.cap_sender or sender},{identifier_of(broadcast, sender)},{_moment(sent, zone)}"


def to_cap_cancel(broadcast: EmergencyBroadcast, *, sender: str, zone: tzinfo) -> bytes:
    """The Cancel message of a cancelled broadcast (its own identifier, referencing the alert), the reason as its
    ``note``; raises :class:`ExportError` if it cannot be one."""
    with _building(broadcast):
        root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
        _sub(root, "identifier", f"{identifier_of(broadcast, sender)}.cancel")
        _sub(root, "sender", sender)
        _sub(root, "sent", _moment(broadcast.closed_at or broadcast.updated_at, zone))
        _sub(root, "status", "Actual")
        _sub(root, "msgType", "Cancel")
        _sub(root, "scope", "Public")
        # The schema is a sequence: <note> comes before <references>, or the whole message is invalid.
        if broadcast.close_reason:
            _sub(root, "note", broadcast.close_reason)
        _sub(root, "references", _reference(broadcast, sender, zone))
        return _checked(root)


def _checked(root: etree._Element) -> bytes:
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    cap.parse_cap(data)  # what we send passes the same checks as what we accept
    return data


def atom_feed(*, title: str, author: str, feed_id: str, self_url: str, updated: datetime, zone: tzinfo,
              entries: Sequence[tuple[str, str, datetime, str, bytes]]) -> bytes:
    """An Atom feed of CAP alerts: entries are (id, title, updated, link to the CAP file, CAP XML bytes);
    each entry carries its whole alert as content, as CAP feeds readers (e.g. aggregators) expect.

    ``author`` names who publishes them, at feed level: RFC 4287 (4.1.1) wants an atom:author on the feed unless
    every entry has its own, and the entries here have none.
    """
    atom = f"{{{ATOM_NS}}}"
    root = etree.Element(f"{atom}feed", nsmap={None: ATOM_NS})
    etree.SubElement(root, f"{atom}id").text = feed_id
    etree.SubElement(root, f"{atom}title").text = _xml_safe(title)
    etree.SubElement(root, f"{atom}updated").text = updated.astimezone(zone).isoformat(timespec="seconds")
    etree.SubElement(etree.SubElement(root, f"{atom}author"), f"{atom}name").text = _xml_safe(author)
    etree.SubElement(root, f"{atom}link", rel="self", href=self_url)
    for entry_id, entry_title, entry_updated, link, alert in entries:
        entry = etree.SubElement(root, f"{atom}entry")
        etree.SubElement(entry, f"{atom}id").text = entry_id
        etree.SubElement(entry, f"{atom}title").text = _xml_safe(entry_title)
        etree.SubElement(entry, f"{atom}updated").text = entry_updated.astimezone(zone).isoformat(
            timespec="seconds")
        etree.SubElement(entry, f"{atom}link", rel="alternate", type="application/cap+xml", href=link)
        content = etree.SubElement(entry, f"{atom}content", type="application/cap+xml")
        content.append(etree.fromstring(alert, etree.XMLParser(resolve_entities=False, no_network=True)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
