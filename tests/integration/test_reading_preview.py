"""The reading preview marks what the rules left as symbols or Latin letters and adds them to the lexicon."""

from __future__ import annotations

import re

from sqlalchemy import select

from broadcast.db.models import LexiconEntry
from broadcast.services import items, users
from tests.conftest import csrf_from, log_in

BODY = "Trạm BTS mới phủ sóng. TTYTX trực 24/7, nhiệt độ 35°C."


def _item(app, body: str = BODY) -> int:
    with app.app_context(), app.extensions["database"].sessions() as session:
        user = users.get_user(session, "bientap")
        return items.create_item(session, user, items.ItemFields(title="Tin", body=body)).id


def _reading_html(page: str) -> str:
    return re.search(r'<p class="item-reading" id="item-reading">(.*?)</p>', page, re.S).group(1)


def test_the_preview_marks_what_is_left_unread_and_offers_the_lexicon(client, seeded):
    item_id = _item(seeded)
    log_in(client, "bientap")
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    reading = _reading_html(page)
    assert re.findall(r'<mark class="unread"[^>]*>([^<]+)</mark>', reading) == ["BTS", "TTYTX"]
    assert "ba mươi lăm độ xê" in reading and "hai mươi tư trên bảy" in reading  # read by the rules: unmarked
    forms = re.findall(r'<li><form method="post" action="/items/lexicon".*?</form></li>', page, re.S)
    assert [re.search(r'name="term" value="([^"]*)"', form).group(1) for form in forms] == ["BTS", "TTYTX"]
    assert all(f'name="item_id" value="{item_id}"' in form for form in forms)


def test_adding_a_term_from_the_preview_changes_the_reading(client, seeded):
    item_id = _item(seeded)
    log_in(client, "bientap")
    token = csrf_from(client.get(f"/items/{item_id}").get_data(as_text=True))
    answer = client.post("/items/lexicon", data={"csrf_token": token, "term": "TTYTX", "item_id": item_id,
                                                  "reading": "  Trạm   Y tế xã "})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/items/{item_id}"
    with seeded.extensions["database"].sessions() as session:
        entry = session.scalar(select(LexiconEntry).where(LexiconEntry.term == "TTYTX"))
        assert entry.reading == "Trạm Y tế xã"
    reading = _reading_html(client.get(f"/items/{item_id}").get_data(as_text=True))
    assert "Trạm Y tế xã trực" in reading
    assert re.findall(r'<mark class="unread"[^>]*>([^<]+)</mark>', reading) == ["BTS"]


def test_a_bad_term_is_refused_with_its_reason_and_nothing_is_stored(client, seeded):
    item_id = _item(seeded)
    log_in(client, "bientap")
    client.set_cookie("lang", "en")
    token = csrf_from(client.get(f"/items/{item_id}").get_data(as_text=True))
    answer = client.post("/items/lexicon", data={"csrf_token": token, "term": "A B", "item_id": item_id,
                                                  "reading": "a bê"}, follow_redirects=True)
    assert "A term is one word" in answer.get_data(as_text=True)
    with seeded.extensions["database"].sessions() as session:
        assert session.scalar(select(LexiconEntry)) is None


def test_an_operator_sees_the_marks_but_cannot_add_to_the_lexicon(client, seeded):
    log_in(client, "vanhanh")
    page = client.get("/items/new").get_data(as_text=True)
    assert 'action="/items/lexicon"' not in page
    token = csrf_from(page)
    answer = client.post("/items/lexicon", data={"csrf_token": token, "term": "BTS", "reading": "bê tê ét"})
    assert answer.status_code == 403


def test_the_reading_api_lists_the_unread_terms(client, seeded):
    item_id = _item(seeded)
    log_in(client, "bientap")
    token = csrf_from(client.get("/items/new").get_data(as_text=True))
    typed = client.post("/api/v1/reading", json={"text": "Trạm BTS và 20 km/h; TTYTX, BTS."},
                        headers={"X-CSRFToken": token}).json
    assert typed["unread"] == ["BTS", "TTYTX"]
    assert "hai mươi ki lô mét trên giờ" in typed["text"]
    saved = client.get(f"/api/v1/items/{item_id}/reading").json
    assert saved["unread"] == ["BTS", "TTYTX"]
    clean = client.post("/api/v1/reading", json={"text": "Ngày 14-12 họp."}, headers={"X-CSRFToken": token}).json
    assert clean["unread"] == []
