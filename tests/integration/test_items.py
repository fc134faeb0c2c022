"""The item workflow, on both databases: transitions, who may do them, the audit trail, estimates."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broadcast.db.models import AuditLog, ContentSource, ItemStatus, RenderState, Role
from broadcast.errors import Conflict, Forbidden, InvalidInput, NotFound
from broadcast.services import items, lexicon
from tests.factories import PEOPLE, tuyen_quang

TEXT = "Ngày 13/12/2019, UBND tỉnh có báo cáo số 485/BC-UBND."


@pytest.fixture
def people(app, session):
    with app.app_context():
        yield tuyen_quang(session, (*PEOPLE, ("vanhanh2", Role.OPERATOR, "00691")))


def _draft(session, user, **kw):
    data = items.ItemFields(title=kw.pop("title", "Tin phòng chống lũ"), body=kw.pop("body", TEXT), **kw)
    return items.create_item(session, user, data)


def _trail(session, item):
    return [a.action for a in session.scalars(
        select(AuditLog).where(AuditLog.entity_type == "item", AuditLog.entity_id == str(item.id))
        .order_by(AuditLog.id))]


def test_full_workflow_is_audited(session, people):
    item = _draft(session, people["bientap"])
    assert item.status is ItemStatus.DRAFT and item.owner_area.code == "08"
    items.submit(session, people["bientap"], item)
    items.approve(session, people["pheduyet"], item)
    assert item.status is ItemStatus.APPROVED and item.render_state is RenderState.PENDING
    assert item.approved_by_id == people["pheduyet"].id and item.approved_at is not None
    items.archive(session, people["bientap"], item)
    assert _trail(session, item) == ["item.create", "item.submit", "item.approve", "item.archive"]
    actors = session.scalars(select(AuditLog.actor).where(AuditLog.entity_type == "item",
                                                          AuditLog.entity_id == str(item.id))).all()
    assert actors == ["bientap", "bientap", "pheduyet", "bientap"]


def test_rejection_needs_a_reason_and_the_item_can_come_back(session, people):
    item = _draft(session, people["bientap"])
    items.submit(session, people["bientap"], item)
    with pytest.raises(InvalidInput):
        items.reject(session, people["pheduyet"], item, "  ")
    items.reject(session, people["pheduyet"], item, "Sai số liệu")
    assert item.status is ItemStatus.REJECTED and item.rejection_reason == "Sai số liệu"
    items.submit(session, people["bientap"], item)
    assert item.status is ItemStatus.SUBMITTED and item.rejection_reason is None


def test_editing_an_approved_item_sends_it_back_for_approval(session, people):
    item = _draft(session, people["bientap"])
    items.submit(session, people["bientap"], item)
    items.approve(session, people["pheduyet"], item)
    items.update_item(session, people["bientap"], item, items.ItemFields(body=TEXT + " Thêm một câu."))
    assert item.status is ItemStatus.SUBMITTED and item.approved_by_id is None
    assert item.render_state is RenderState.NONE
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "item.update"))
    assert entry.details["reopened"] is True and entry.details["before"]["body"] == TEXT


def test_a_change_of_category_only_keeps_the_approval_rule(session, people):
    item = _draft(session, people["bientap"])
    unchanged = items.update_item(session, people["bientap"], item, items.ItemFields(title=item.title))
    assert unchanged.status is ItemStatus.DRAFT and _trail(session, item) == ["item.create"]


@pytest.mark.parametrize(
    ("status_path", "action"),
    [
        ([], "approve"),  # a draft cannot be approved before it is submitted
        (["submit", "approve"], "submit"),
        (["archive"], "submit"),
        (["submit", "approve"], "approve"),
    ],
)
def test_transitions_out_of_order_are_refused(session, people, status_path, action):
    item = _draft(session, people["bientap"])
    steps = {"submit": lambda: items.submit(session, people["bientap"], item),
             "approve": lambda: items.approve(session, people["pheduyet"], item),
             "archive": lambda: items.archive(session, people["bientap"], item)}
    for step in status_path:
        steps[step]()
    before = item.status
    with pytest.raises(Conflict):
        steps[action]()
    session.rollback()
    assert item.status is before


def test_only_approvers_approve(session, people):
    item = _draft(session, people["bientap"])
    items.submit(session, people["bientap"], item)
    with pytest.raises(Forbidden):
        items.approve(session, people["bientap"], item)


def test_archived_items_are_frozen(session, people):
    item = _draft(session, people["bientap"])
    items.archive(session, people["bientap"], item)
    with pytest.raises(Conflict):
        items.update_item(session, people["bientap"], item, items.ItemFields(title="Khác"))


def test_commune_operators_own_local_items(session, people):
    local = _draft(session, people["vanhanh"], title="Tin của phường")
    assert local.owner_area.code == "00694"
    assert [i.title for i in items.list_items(session, people["vanhanh"])] == ["Tin của phường"]
    assert items.get_item(session, people["bientap"], local.id).id == local.id  # the province sees it
    with pytest.raises(NotFound):
        items.get_item(session, people["vanhanh2"], local.id)
    with pytest.raises(Forbidden):
        items.update_item(session, people["vanhanh2"], local, items.ItemFields(title="x"))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "title"),
        ({"body": ""}, "body"),
        ({"language": "fr"}, "language"),
        ({"language": "hmn"}, "content_source"),  # no voice reads Mông
        ({"speaking_rate": "fast"}, "speaking_rate"),
        ({"speaking_rate": "+300%"}, "speaking_rate"),
    ],
)
def test_bad_items_are_refused_and_nothing_is_written(session, people, fields, field):
    with pytest.raises(InvalidInput) as caught:
        _draft(session, people["bientap"], **fields)
    assert caught.value.field == field
    session.rollback()
    assert items.list_items(session, people["bientap"]) == []


def test_validity_dates_in_order(session, people):
    from datetime import date

    with pytest.raises(InvalidInput) as caught:
        _draft(session, people["bientap"], valid_from=date(2026, 12, 2), valid_until=date(2026, 12, 1))
    assert caught.value.field == "valid_until"


def test_recorded_programmes_need_their_audio_before_approval(session, people):
    item = _draft(session, people["bientap"], title="Chương trình tiếng Mông", body="", language="hmn",
                  content_source=ContentSource.RECORDING)
    assert item.estimated_duration_ms is None
    items.submit(session, people["bientap"], item)
    with pytest.raises(Conflict):
        items.approve(session, people["pheduyet"], item)


def test_estimate_follows_text_rate_and_lexicon(app, session, people):
    item = _draft(session, people["bientap"], body="UBND xã thông báo.")
    first = item.estimated_duration_ms
    items.update_item(session, people["bientap"], item, items.ItemFields(speaking_rate="+50%"))
    assert item.estimated_duration_ms < first
    with app.app_context():
        lexicon.set_entry(session, people["bientap"], "UBND", "U bê en đê")
    assert items.reading_of(session, "UBND xã thông báo.") == "U bê en đê xã thông báo."


def test_search_by_title_or_body(session, people):
    _draft(session, people["bientap"], title="Lịch tiêm chủng", body="Tiêm vắc xin cho trẻ em.")
    _draft(session, people["bientap"], title="Phòng chống lũ", body="Sơ tán khỏi vùng sạt lở.")
    assert [i.title for i in items.list_items(session, people["bientap"], text="sạt lở")] == ["Phòng chống lũ"]
    assert len(items.list_items(session, people["bientap"], status=ItemStatus.DRAFT)) == 2
