"""A live relay written on the item page in Chromium (Vietnamese): the stream's fields appear when "a live relay"
is chosen and go when another way is, a refused address is shown beside its field, and the saved relay comes back
with its address and length; on a desktop and on a 360 px phone, with no policy violation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from broadcast.db.models import ContentSource, NewsItem
from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve

pytestmark = pytest.mark.browser

VOV = "http://10.20.0.5:8000/vov1.mp3"


@pytest.fixture
def live_url(seeded) -> str:
    with serve(seeded) as url:
        yield url


def stored(app, title: str) -> NewsItem:
    with app.extensions["database"].sessions() as session:
        item = session.scalar(select(NewsItem).where(NewsItem.title == title))
        session.expunge(item)
        return item


@pytest.mark.parametrize("device", ["page", "phone"])
def test_an_editor_writes_a_relay(device, request, live_url, seeded):
    page = request.getfixturevalue(device)
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    log_in(page, live_url, "bientap")
    page.goto(f"{live_url}/items/new")
    relay_fields = page.locator("#item-relay")
    assert relay_fields.is_hidden()
    page.locator("#content_source-stream").check()
    relay_fields.wait_for(state="visible")
    assert page.locator("#recording").is_hidden()  # a relay has no recording to upload
    page.locator("#content_source-speech").check()
    relay_fields.wait_for(state="hidden")
    page.locator("#content_source-stream").check()

    title = f"Tiếp sóng VOV1 ({device})"
    page.locator("#title").fill(title)
    page.locator("#stream_url").fill("ftp://10.20.0.5/vov1.mp3")
    page.locator("#stream_length").fill("30")
    page.locator("button[name=action][value=save]").click()
    page.wait_for_load_state()
    error = page.locator("#stream_url-error")
    assert "http:// hoặc https://" in error.inner_text()
    assert page.locator("#stream_url").get_attribute("aria-invalid") == "true"
    assert relay_fields.is_visible() and page.locator("#stream_length").input_value() == "30"
    if device == "phone":
        fits_the_screen(page)
        screenshot(page, "item-relay-error-phone.png")

    page.locator("#stream_url").fill(VOV)
    page.locator("#stream_length").fill("29:30")
    page.locator("button[name=action][value=save]").click()
    page.wait_for_url(re.compile(r".*/items/\d+$"))
    item = stored(seeded, title)
    assert (item.content_source, item.stream_url, item.stream_duration_s) == (ContentSource.STREAM, VOV, 1770)
    assert page.locator("#content_source-stream").is_checked() and relay_fields.is_visible()
    assert page.locator("#stream_url").input_value() == VOV
    assert page.locator("#stream_length").input_value() == "29:30"
    assert page.locator("#render-badge").count() == 0  # no audio of its own to wait for
    if device == "phone":
        fits_the_screen(page)
    else:
        screenshot(page, "item-relay.png")
    assert violations == []
