"""The reading preview in Chromium: what the rules leave as symbols or letters is marked as the editor types, and
"add to the lexicon" changes the reading without leaving the page or losing the unsaved text."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broadcast.db.models import LexiconEntry
from tests.browser.conftest import log_in, screenshot, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(seeded) -> str:
    with serve(seeded) as url:
        yield url


def test_unread_terms_are_marked_while_typing_and_added_to_the_lexicon_in_place(page, live_url, seeded):
    log_in(page, live_url, "bientap")
    page.goto(f"{live_url}/items/new")
    page.locator("#title").fill("Phủ sóng")
    page.locator("#body").click()
    page.keyboard.type("Trạm BTS mới, TTYTX trực 24/7.")
    marks = page.locator("#item-reading mark.unread")
    marks.nth(1).wait_for()
    assert marks.all_inner_texts() == ["BTS", "TTYTX"]
    assert page.locator("#item-unread").is_visible()
    terms = page.locator("#unread-terms input[name=term]")
    assert [terms.nth(i).input_value() for i in range(terms.count())] == ["BTS", "TTYTX"]
    screenshot(page, "reading-preview-unread.png")

    row = page.locator("#unread-terms li").nth(1)
    row.locator("input[name=reading]").fill("Trạm Y tế xã")
    row.locator("button[type=submit]").click()
    page.locator("#item-reading").filter(has_text="Trạm Y tế xã trực").wait_for()
    assert marks.all_inner_texts() == ["BTS"]
    assert page.locator("#body").input_value() == "Trạm BTS mới, TTYTX trực 24/7."  # still on the unsaved page
    assert page.url.endswith("/items/new")
    with seeded.extensions["database"].sessions() as session:
        assert session.scalar(select(LexiconEntry.reading).where(LexiconEntry.term == "TTYTX")) == "Trạm Y tế xã"

    page.locator("#body").fill("Ngày 14-12 họp.")
    page.locator("#body").press("End")
    page.keyboard.type(" ")
    page.locator("#item-reading").filter(has_text="mười bốn tháng mười hai").wait_for()
    assert page.locator("#item-unread").is_hidden()
