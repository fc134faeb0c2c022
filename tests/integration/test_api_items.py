"""The item API: workflow over HTTP, live readings, lexicon editing, scope and bad input."""

from __future__ import annotations

import pytest

from broadcast.services import users


def _headers(app, username):
    with app.app_context(), app.extensions["database"].sessions() as session:
        return {"Authorization": f"Bearer {users.issue_api_token(session, users.get_user(session, username), 't')}"}


@pytest.fixture
def editor(seeded):
    return _headers(seeded, "bientap")


@pytest.fixture
def approver(seeded):
    return _headers(seeded, "pheduyet")


ITEM = {"title": "Phòng chống lũ quét", "body": "UBND xã đề nghị người dân sơ tán trước 17h30 ngày 3/2."}


def test_create_read_and_estimate(client, editor):
    created = client.post("/api/v1/items", json=ITEM, headers=editor)
    assert created.status_code == 201, created.json
    item = created.json
    assert item["status"] == "draft" and item["owner_area"]["code"] == "08"
    assert item["estimated_duration_ms"] > 0 and item["duration_ms"] == item["estimated_duration_ms"]
    assert item["render_state"] == "none" and item["audio_url"] is None
    reading = client.get(f"/api/v1/items/{item['id']}/reading", headers=editor).json
    assert reading["text"] == ("Ủy ban nhân dân xã đề nghị người dân sơ tán trước mười bảy giờ ba mươi phút "
                               "ngày ba tháng hai.")


def test_live_reading_while_typing(client, editor):
    slow = client.post("/api/v1/reading", json={"text": "Ngày 13/12/2019", "rate": "-20%"}, headers=editor).json
    fast = client.post("/api/v1/reading", json={"text": "Ngày 13/12/2019", "rate": "+20%"}, headers=editor).json
    assert slow["text"] == "Ngày mười ba tháng mười hai năm hai nghìn không trăm mười chín"
    assert slow["estimated_duration_ms"] > fast["estimated_duration_ms"] > 0
    bad = client.post("/api/v1/reading", json={"text": "x", "rate": "nhanh"}, headers=editor)
    assert bad.status_code == 422 and "rate" in bad.json["errors"]


def test_workflow_over_http(client, editor, approver):
    item_id = client.post("/api/v1/items", json=ITEM, headers=editor).json["id"]
    assert client.post(f"/api/v1/items/{item_id}/approve", headers=approver).status_code == 409  # still a draft
    assert client.post(f"/api/v1/items/{item_id}/submit", headers=editor).json["status"] == "submitted"
    assert client.post(f"/api/v1/items/{item_id}/approve", headers=editor).status_code == 403
    approved = client.post(f"/api/v1/items/{item_id}/approve", headers=approver).json
    assert approved["status"] == "approved" and approved["render_state"] == "pending"
    edited = client.patch(f"/api/v1/items/{item_id}", json={"body": ITEM["body"] + " Xin cảm ơn."}, headers=editor)
    assert edited.json["status"] == "submitted"
    rejected = client.post(f"/api/v1/items/{item_id}/reject", json={"reason": "Thiếu nguồn tin"}, headers=approver)
    assert rejected.json["status"] == "rejected" and rejected.json["rejection_reason"] == "Thiếu nguồn tin"
    listed = client.get("/api/v1/items?status=rejected", headers=editor).json
    assert [i["id"] for i in listed] == [item_id]


def test_conflict_message_is_vietnamese(client, editor, approver):
    item_id = client.post("/api/v1/items", json=ITEM, headers=editor).json["id"]
    response = client.post(f"/api/v1/items/{item_id}/approve", headers=approver)
    assert response.json["message"] == "Tin ở trạng thái bản nháp nên không thể phê duyệt."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "x"}, "title"),
        ({**ITEM, "language": "fr"}, "language"),
        ({**ITEM, "language": "tay"}, "content_source"),
        ({**ITEM, "item_class": "urgent"}, "item_class"),
        ({**ITEM, "valid_from": "2026-12-05", "valid_until": "2026-12-01"}, "valid_until"),
        ({**ITEM, "valid_from": "5/12/2026"}, "valid_from"),
        ({**ITEM, "speaking_rate": "+500%"}, "speaking_rate"),
    ],
)
def test_bad_items(client, editor, body, field):
    response = client.post("/api/v1/items", json=body, headers=editor)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert client.get("/api/v1/items", headers=editor).json == []


def test_operators_items_stay_in_their_commune(seeded, client, editor):
    operator = _headers(seeded, "vanhanh")
    local = client.post("/api/v1/items", json={**ITEM, "title": "Tin phường"}, headers=operator).json
    assert local["owner_area"]["code"] == "00694"
    assert client.get(f"/api/v1/items/{local['id']}", headers=editor).status_code == 200
    province_item = client.post("/api/v1/items", json=ITEM, headers=editor).json
    assert client.get(f"/api/v1/items/{province_item['id']}", headers=operator).status_code == 404
    elsewhere = client.post("/api/v1/items", json={**ITEM, "owner_area": "00691"}, headers=operator)
    assert elsewhere.status_code == 403


def test_lexicon_is_editable_and_used(client, editor, seeded):
    entries = {e["term"]: e for e in client.get("/api/v1/lexicon", headers=editor).json}
    assert entries["UBND"]["built_in"] is True
    put = client.put("/api/v1/lexicon/HTX", json={"reading": "hợp tác xã nông nghiệp"}, headers=editor)
    assert put.status_code == 200
    reading = client.post("/api/v1/reading", json={"text": "HTX Minh Tân"}, headers=editor).json
    assert reading["text"] == "hợp tác xã nông nghiệp Minh Tân"
    operator = _headers(seeded, "vanhanh")
    assert client.put("/api/v1/lexicon/HTX", json={"reading": "x"}, headers=operator).status_code == 403
    assert client.delete("/api/v1/lexicon/HTX", headers=editor).status_code == 204
    assert client.delete("/api/v1/lexicon/HTX", headers=editor).status_code == 404
    bad = client.put("/api/v1/lexicon/A%20B", json={"reading": "x"}, headers=editor)
    assert bad.status_code == 422


def test_audio_of_an_unrendered_item_is_404(client, editor):
    item_id = client.post("/api/v1/items", json=ITEM, headers=editor).json["id"]
    response = client.get(f"/api/v1/items/{item_id}/audio", headers=editor)
    assert response.status_code == 404 and response.json["message"] == "Tin này chưa có âm thanh."
