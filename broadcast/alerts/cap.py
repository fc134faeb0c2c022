"""Reading OASIS CAP 1.2 alerts safely, and the rules that turn one into a broadcast decision (no database).

The XML is parsed with entity resolution, network access and huge trees off, any document type declaration is
refused (that closes "billion laughs" and external entities), and the document is validated against the
OASIS CAP 1.2 schema in ``schema/CAP-v1.2.xsd`` before anything is read from it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lxml import etree

from broadcast.errors import InvalidInput
from broadcast.i18n import _l

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_PATH = Path(__file__).with_name("schema") / "CAP-v1.2.xsd"
MAX_BYTES = 2_000_000  # real alerts are a few kilobytes; anything this big is a mistake or an attack
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")


class CapError(InvalidInput):
    """A CAP document that cannot be used; ``field`` names the element (or "xml" / "DOCTYPE")."""

    def __init__(self, field: str, message):
        super().__init__(message, field=field)


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class Resource:
    description: str
    mime_type: str
    uri: str | None = None
    size: int | None = None
    digest: str | None = None


@dataclass(frozen=True)
class CapArea:
    description: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()  # (valueName, value)


@dataclass(frozen=True)
class CapInfo:
    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    expires: datetime | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    resources: tuple[Resource, ...] = ()
    areas: tuple[CapArea, ...] = ()


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: tuple[str, ...] = ()
    infos: tuple[CapInfo, ...] = ()


# --- parsing -----------------------------------------------------------------------------------------------------

def _q(name: str) -> str:
    return f"{{{CAP_NS}}}{name}"


@functools.cache
def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser))


def _safe_root(data: bytes) -> etree._Element:
    if len(data) > MAX_BYTES:
        raise CapError("alert", _l("The CAP file is larger than %(limit)s bytes.", limit=MAX_BYTES))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                             dtd_validation=False, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise CapError("DOCTYPE", _l("Document type declarations (DTD) and entities are not accepted in "
                                         "CAP alerts.")) from None
        raise CapError("xml", _l("Malformed XML: %(detail)s", detail=str(exc))) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise CapError("DOCTYPE", _l("Document type declarations (DTD) and entities are not accepted in CAP alerts."))
    if root.tag != _q("alert"):
        raise CapError("alert", _l("The root element must be <alert> in the CAP 1.2 namespace %(ns)s, not %(tag)s.",
                                   ns=CAP_NS, tag=root.tag))
    return root


def _validate(root: etree._Element) -> None:
    schema = _schema()
    if schema.validate(root):
        return
    error = schema.error_log.last_error
    detail = error.message.replace(f"{{{CAP_NS}}}", "")
    # Name the missing element when one is expected, else the element at fault.
    element = re.search(r"Expected is \( ([\w:]+) \)", detail) or re.search(r"Element '([^']+)'", detail)
    raise CapError(element.group(1) if element else "alert",
                   _l("Not valid CAP 1.2 (line %(line)s): %(detail)s", line=error.line, detail=detail))


def _text(el: etree._Element, name: str) -> str | None:
    value = el.findtext(_q(name))
    return value.strip() if value is not None and value.strip() else None


def _datetime(value: str | None, element: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CapError(element, _l("<%(element)s> is not a date and time: %(value)s", element=element,
                                   value=value)) from None
    if moment.tzinfo is None:
        raise CapError(element, _l("<%(element)s> needs a UTC offset: %(value)s", element=element, value=value))
    return moment


def _point(text: str, element: str) -> tuple[float, float]:
    try:
        lat_text, lon_text = text.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise CapError(element, _l('<%(element)s> needs "latitude,longitude" points, not %(value)s',
                                   element=element, value=text)) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CapError(element, _l("<%(element)s> has a point outside the globe: %(value)s", element=element,
                                   value=text))
    return lat, lon


def parse_polygon(text: str) -> tuple[tuple[float, float], ...]:
    """A closed ring of at least four "lat,lon" pairs separated by spaces (CAP 1.2, 3.3.2)."""
    points = tuple(_point(pair, "polygon") for pair in text.split())
    if len(points) < 4 or points[0] != points[-1]:
        raise CapError("polygon", _l("<polygon> must be closed (the first point repeated last) and have at least "
                                     "four points: %(value)s", value=text))
    return points


def parse_circle(text: str) -> Circle:
    """ "lat,lon radius" with the radius in kilometres (CAP 1.2, 3.3.2)."""
    parts = text.split()
    try:
        radius = float(parts[1]) if len(parts) == 2 else -1.0
    except ValueError:
        radius = -1.0
    if radius < 0:
        raise CapError("circle", _l('<circle> must be "latitude,longitude radius_km": %(value)s', value=text))
    lat, lon = _point(parts[0], "circle")
    return Circle(lat, lon, radius)


def _value_pairs(el: etree._Element, name: str) -> list[tuple[str, str]]:
    return [((child.findtext(_q("valueName")) or "").strip(), (child.findtext(_q("value")) or "").strip())
            for child in el.findall(_q(name))]


def _resource(el: etree._Element) -> Resource:
    size = _text(el, "size")
    return Resource(description=_text(el, "resourceDesc") or "", mime_type=_text(el, "mimeType") or "",
                    uri=_text(el, "uri"), size=int(size) if size else None, digest=_text(el, "digest"))


def _area(el: etree._Element) -> CapArea:
    return CapArea(
        description=_text(el, "areaDesc") or "",
        polygons=tuple(parse_polygon(p.text or "") for p in el.findall(_q("polygon"))),
        circles=tuple(parse_circle((c.text or "").strip()) for c in el.findall(_q("circle"))),
        geocodes=tuple(_value_pairs(el, "geocode")),
    )


def _info(el: etree._Element) -> CapInfo:
    return CapInfo(
        language=_text(el, "language") or "en-US",
        categories=tuple((c.text or "").strip() for c in el.findall(_q("category"))),
        event=_text(el, "event") or "",
        urgency=_text(el, "urgency") or "",
        severity=_text(el, "severity") or "",
        certainty=_text(el, "certainty") or "",
        headline=_text(el, "headline"),
        description=_text(el, "description"),
        instruction=_text(el, "instruction"),
        expires=_datetime(_text(el, "expires"), "expires"),
        parameters=dict(_value_pairs(el, "parameter")),
        resources=tuple(_resource(r) for r in el.findall(_q("resource"))),
        areas=tuple(_area(a) for a in el.findall(_q("area"))),
    )


def parse_cap(data: bytes) -> CapAlert:
    """Parse and validate one CAP 1.2 document; raises :class:`CapError` naming the element at fault."""
    root = _safe_root(data)
    _validate(root)
    return CapAlert(
        identifier=_text(root, "identifier") or "",
        sender=_text(root, "sender") or "",
        sent=_datetime(_text(root, "sent"), "sent"),
        status=_text(root, "status") or "",
        msg_type=_text(root, "msgType") or "",
        scope=_text(root, "scope") or "",
        references=tuple((_text(root, "references") or "").split()),
        infos=tuple(_info(i) for i in root.findall(_q("info"))),
    )


# --- rules ---------------------------------------------------------------------------------------------------------

CLASS_RANK = {"normal": 0, "priority": 1, "emergency": 2}
RISK_BY_SEVERITY = {"Extreme": 5, "Severe": 4, "Moderate": 3, "Minor": 2, "Unknown": 1}


def item_class(severity: str, urgency: str) -> str:
    """The bulletin class for one info block.

    ==================  ==========================  ===========
    severity            urgency                     class
    ==================  ==========================  ===========
    Extreme, Severe     Immediate, Expected         emergency
    Moderate            any                         priority
    anything else       any                         normal
    ==================  ==========================  ===========

    (So Extreme or Severe with Future, Past or Unknown urgency is normal: nothing to interrupt a programme for.)
    """
    if severity in ("Extreme", "Severe") and urgency in ("Immediate", "Expected"):
        return "emergency"
    if severity == "Moderate":
        return "priority"
    return "normal"


def risk_level(info: CapInfo) -> int:
    """The disaster risk level 1-5 of Decision 18/2021/QĐ-TTg for one info block.

    A ``parameter`` named ``riskLevel`` with a whole number 1-5 wins; otherwise (absent or invalid) the level
    comes from the severity: Extreme 5, Severe 4, Moderate 3, Minor 2, Unknown 1.
    """
    given = info.parameters.get("riskLevel", "").strip()
    if given.isdigit() and 1 <= int(given) <= 5:
        return int(given)
    return RISK_BY_SEVERITY.get(info.severity, 1)


def alert_class(alert: CapAlert) -> str:
    """The most urgent class over the alert's info blocks ("normal" when it has none)."""
    return max((item_class(i.severity, i.urgency) for i in alert.infos), key=CLASS_RANK.__getitem__,
               default="normal")


def alert_risk_level(alert: CapAlert) -> int:
    """The highest risk level over the alert's info blocks (1 when it has none)."""
    return max((risk_level(i) for i in alert.infos), default=1)


def airs(alert: CapAlert) -> bool:
    """Only Actual alerts go on air; Exercise, Test, System and Draft ones never reach the public."""
    return alert.status == "Actual"


def check_current(alert: CapAlert, now: datetime) -> None:
    """Refuse an alert whose every info block has expired (an info without ``expires`` never does)."""
    expiries = [i.expires for i in alert.infos]
    if expiries and all(e is not None and e <= now for e in expiries):
        raise CapError("expires", _l("The alert %(identifier)s expired at %(expires)s.", identifier=alert.identifier,
                                     expires=max(expiries).isoformat()))
