"""Reading CAP 1.2 alerts: parsing, hostile documents, the class and risk rules, and the geometry of areas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from broadcast.alerts.cap import (
    CapAlert,
    CapError,
    CapInfo,
    Circle,
    airs,
    alert_class,
    alert_risk_level,
    check_current,
    item_class,
    parse_cap,
    parse_circle,
    parse_polygon,
    risk_level,
)
from broadcast.alerts.matching import distance_km, in_circle, point_in_polygon

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cap"
ICT = timezone(timedelta(hours=7))


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.xml").read_bytes()


def info(severity="Severe", urgency="Immediate", parameters=None, expires=None) -> CapInfo:
    return CapInfo(language="vi-VN", categories=("Met",), event="Lũ", urgency=urgency, severity=severity,
                   certainty="Likely", parameters=parameters or {}, expires=expires)


def alert(*infos: CapInfo, status="Actual") -> CapAlert:
    return CapAlert(identifier="A1", sender="s", sent=datetime(2026, 9, 12, tzinfo=ICT), status=status,
                    msg_type="Alert", scope="Public", infos=infos)


def test_parses_every_field_of_a_full_alert():
    parsed = parse_cap(fixture("polygon"))
    assert (parsed.identifier, parsed.sender, parsed.status, parsed.msg_type, parsed.scope) == (
        "VN-TQ-2026-polygon", "pctt@tuyenquang.gov.vn", "Actual", "Alert", "Public")
    assert parsed.sent == datetime(2026, 9, 11, 23, 30, tzinfo=UTC) and parsed.sent.tzinfo is not None
    (first,) = parsed.infos
    assert (first.language, first.categories, first.urgency, first.severity, first.certainty) == (
        "vi-VN", ("Met",), "Expected", "Moderate", "Likely")
    assert first.event == "Lũ quét, sạt lở đất" and first.headline.startswith("Cảnh báo")
    assert first.instruction.startswith("Người dân") and first.description.startswith("Mưa lớn")
    assert first.expires == datetime(2099, 1, 1, tzinfo=ICT)
    (resource,) = first.resources
    assert (resource.mime_type, resource.size, resource.uri) == ("audio/mpeg", 48000, "https://example.org/canhbao.mp3")
    assert resource.digest.startswith("0123")
    (area,) = first.areas
    assert area.description == "Cao nguyên đá Đồng Văn"
    assert area.polygons == (((23.1, 105.2), (23.4, 105.2), (23.4, 105.5), (23.1, 105.5), (23.1, 105.2)),)


@pytest.mark.parametrize("name, geocodes, circles, parameters", [
    ("province", (("VN-NSO", "08"),), (), {"riskLevel": "3"}),
    ("legacy-commune", (("VN-NSO", "00946"),), (), {}),
    ("circle", (), (Circle(22.8605, 104.963, 2.0),), {}),
])
def test_parses_geocodes_circles_and_parameters(name, geocodes, circles, parameters):
    (first,) = parse_cap(fixture(name)).infos
    assert first.areas[0].geocodes == geocodes and first.areas[0].circles == circles
    assert first.parameters == parameters


@pytest.mark.parametrize("name, field, words", [
    ("billion-laughs", "DOCTYPE", "DTD"),
    ("external-entity", "DOCTYPE", "DTD"),
    ("external-dtd", "DOCTYPE", "DTD"),
    ("malformed", "xml", "Malformed XML"),
    ("wrong-namespace", "alert", "urn:oasis:names:tc:emergency:cap:1.2"),
    ("missing-sender", "sender", "sender"),
])
def test_hostile_and_broken_documents_are_refused(name, field, words):
    with pytest.raises(CapError) as caught:
        parse_cap(fixture(name))
    assert caught.value.field == field and words in str(caught.value.message)
    assert "root:" not in str(caught.value.message)  # /etc/passwd never leaks into a message


@pytest.mark.parametrize("change, field", [
    (("<status>Actual</status>", "<status>Live</status>"), "status"),
    (("<msgType>Alert</msgType>", ""), "msgType"),
    (("+07:00</sent>", "Z</sent>"), "sent"),
    (("<severity>Moderate</severity>", "<severity>Huge</severity>"), "severity"),
    (("<areaDesc>Cao nguyên đá Đồng Văn</areaDesc>", ""), "areaDesc"),
    (("23.1,105.5 23.1,105.2</polygon>", "23.1,105.5</polygon>"), "polygon"),
    (("23.1,105.2 23.4", "91.1,105.2 23.4"), "polygon"),
])
def test_schema_and_area_errors_name_the_element(change, field):
    data = fixture("polygon").decode().replace(*change).encode()
    with pytest.raises(CapError) as caught:
        parse_cap(data)
    assert caught.value.field == field, caught.value.message
    assert field in str(caught.value.message)


def test_oversized_documents_are_refused_before_parsing():
    with pytest.raises(CapError, match="larger"):
        parse_cap(b"<alert>" + b" " * 2_000_001 + b"</alert>")


@pytest.mark.parametrize("severity, urgency, expected", [
    ("Extreme", "Immediate", "emergency"),
    ("Extreme", "Expected", "emergency"),
    ("Severe", "Immediate", "emergency"),
    ("Severe", "Expected", "emergency"),
    ("Severe", "Future", "normal"),
    ("Extreme", "Past", "normal"),
    ("Moderate", "Immediate", "priority"),
    ("Moderate", "Unknown", "priority"),
    ("Minor", "Immediate", "normal"),
    ("Unknown", "Immediate", "normal"),
])
def test_item_class_table(severity, urgency, expected):
    assert item_class(severity, urgency) == expected


@pytest.mark.parametrize("severity, parameters, expected", [
    ("Extreme", {}, 5),
    ("Severe", {}, 4),
    ("Moderate", {}, 3),
    ("Minor", {}, 2),
    ("Unknown", {}, 1),
    ("Minor", {"riskLevel": "5"}, 5),
    ("Extreme", {"riskLevel": "1"}, 1),
    ("Severe", {"riskLevel": "6"}, 4),
    ("Severe", {"riskLevel": "0"}, 4),
    ("Moderate", {"riskLevel": "cao"}, 3),
])
def test_risk_level_from_parameter_or_severity(severity, parameters, expected):
    assert risk_level(info(severity, parameters=parameters)) == expected


def test_the_most_urgent_info_decides_class_and_risk():
    both = alert(info("Minor", "Future"), info("Extreme", "Immediate"), info("Moderate", parameters={"riskLevel": "2"}))
    assert (alert_class(both), alert_risk_level(both)) == ("emergency", 5)
    assert (alert_class(alert()), alert_risk_level(alert())) == ("normal", 1)


@pytest.mark.parametrize("status, expected", [
    ("Actual", True), ("Exercise", False), ("Test", False), ("System", False), ("Draft", False)])
def test_only_actual_alerts_air(status, expected):
    assert airs(alert(info(), status=status)) is expected


NOW = datetime(2026, 9, 12, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("expiries, refused", [
    ([NOW - timedelta(minutes=1)], True),
    ([NOW], True),
    ([NOW - timedelta(days=1), NOW - timedelta(hours=1)], True),
    ([NOW - timedelta(days=1), NOW + timedelta(hours=1)], False),
    ([NOW - timedelta(days=1), None], False),
    ([None], False),
    ([], False),
])
def test_alerts_are_refused_only_when_every_info_expired(expiries, refused):
    candidate = alert(*(info(expires=e) for e in expiries))
    if refused:
        with pytest.raises(CapError) as caught:
            check_current(candidate, NOW)
        assert caught.value.field == "expires" and "A1" in str(caught.value.message)
    else:
        check_current(candidate, NOW)


SQUARE = ((23.1, 105.2), (23.4, 105.2), (23.4, 105.5), (23.1, 105.5), (23.1, 105.2))
CONCAVE = ((0, 0), (0, 4), (4, 4), (4, 3), (1, 3), (1, 1), (4, 1), (4, 0), (0, 0))  # a "C" open to the east


@pytest.mark.parametrize("ring, lat, lon, inside", [
    (SQUARE, 23.26, 105.35, True),
    (SQUARE, 22.86, 104.96, False),
    (SQUARE, 23.5, 105.35, False),
    (SQUARE, 23.26, 105.6, False),
    (CONCAVE, 0.5, 2, True),
    (CONCAVE, 2, 2, False),  # in the mouth of the C
    (CONCAVE, 2, 0.5, True),
    (CONCAVE, 3.5, 3, True),
])
def test_point_in_polygon(ring, lat, lon, inside):
    assert point_in_polygon(lat, lon, ring) is inside


def test_haversine_distance_and_circles():
    # Hà Giang to Tuyên Quang towns: about 114 km as the crow flies.
    assert distance_km(22.8233, 104.9836, 21.8233, 105.2181) == pytest.approx(113.5, abs=1.5)
    assert distance_km(0, 0, 0, 1) == pytest.approx(111.19, abs=0.01)
    assert in_circle(22.8605, 104.963, Circle(22.8605, 104.963, 0))
    assert in_circle(22.87, 104.963, Circle(22.8605, 104.963, 2))
    assert not in_circle(22.81, 104.94, Circle(22.8605, 104.963, 2))


@pytest.mark.parametrize("text, problem", [
    ("22.8,104.9 2 3", "circle"), ("22.8,104.9", "circle"), ("22.8,104.9 -1", "circle"), ("22.8;104.9 2", "circle"),
])
def test_bad_circles_are_refused(text, problem):
    with pytest.raises(CapError) as caught:
        parse_circle(text)
    assert caught.value.field == problem


def test_polygons_must_be_closed_with_four_points():
    assert parse_polygon("1,1 1,2 2,2 1,1") == ((1, 1), (1, 2), (2, 2), (1, 1))
    for text in ("1,1 1,2 2,2 2,1", "1,1 1,2 1,1", "1,1 1,x 2,2 1,1"):
        with pytest.raises(CapError):
            parse_polygon(text)
