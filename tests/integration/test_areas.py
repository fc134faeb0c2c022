"""Loading the real administrative units into the area tree, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from broadcast.db.models import Area, AreaSuccession, AuditLog, Level, Structure
from broadcast.errors import NotFound
from broadcast.services import areas


def test_legacy_ha_giang(session):
    report = areas.load_province(session, "Hà Giang", Structure.LEGACY)
    assert report.created == {"province": 1, "district": 11, "commune": 193}
    assert areas.level_counts(session, Structure.LEGACY) == {"province": 1, "district": 11, "commune": 193}
    dong_van = session.scalar(select(Area).where(Area.name == "Huyện Đồng Văn"))
    communes = [c for c in dong_van.children]
    assert communes and all(c.level is Level.COMMUNE and c.path.startswith(dong_van.path) for c in communes)
    assert dong_van.parent.code == "02"


def test_2025_tuyen_quang_and_successions(session):
    areas.load_province(session, "Hà Giang", Structure.LEGACY)
    report = areas.load_province(session, "Tuyên Quang", Structure.CURRENT)
    assert report.created == {"province": 1, "commune": 124}
    assert areas.level_counts(session, Structure.CURRENT) == {"province": 1, "district": 0, "commune": 124}
    # Every legacy Hà Giang commune now lies in some 2025 Tuyên Quang commune.
    linked = session.scalar(select(func.count(func.distinct(AreaSuccession.legacy_id))))
    assert linked == 193
    ha_giang_1 = areas.find_area(session, "00694", structure=Structure.CURRENT)
    predecessors = session.scalars(
        select(Area.name).join(AreaSuccession, AreaSuccession.legacy_id == Area.id)
        .where(AreaSuccession.current_id == ha_giang_1.id)).all()
    assert "Phường Quang Trung" in predecessors


def test_loading_again_changes_nothing(session):
    areas.load_province(session, "Hà Giang", Structure.LEGACY)
    before = session.scalar(select(func.count(Area.id)))
    again = areas.load_province(session, "ha giang", Structure.LEGACY)
    assert sum(again.created.values()) == 0 and again.updated == 0
    assert session.scalar(select(func.count(Area.id))) == before


def test_loading_repairs_a_changed_name(session):
    areas.load_province(session, "Tuyên Quang", Structure.CURRENT)
    unit = areas.find_area(session, "00694")
    unit.name = "wrong"
    session.commit()
    assert areas.load_province(session, "Tuyên Quang", Structure.CURRENT).updated == 1
    assert areas.find_area(session, "00694").name == "Phường Hà Giang 1"


@pytest.mark.parametrize(
    ("province", "structure", "message"),
    [
        ("Atlantis", Structure.LEGACY, "Atlantis"),
        ("Ha Gang", Structure.LEGACY, "Hà Giang"),
        ("Hà Giang", Structure.CURRENT, "Tuyên Quang"),
    ],
)
def test_unknown_province_writes_nothing(session, province, structure, message):
    with pytest.raises(NotFound) as caught:
        areas.load_province(session, province, structure)
    assert message in str(caught.value)
    session.rollback()
    assert session.scalar(select(func.count(Area.id))) == 0
    assert session.scalar(select(func.count(AuditLog.id))) == 0


def test_load_is_audited(session):
    areas.load_province(session, "Tuyên Quang", Structure.CURRENT)
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "areas.load"))
    assert entry.actor == "cli" and entry.entity_id == "08" and entry.details["created"]["commune"] == 124
