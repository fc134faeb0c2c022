"""The item page for a live relay: the stream's address and length fields, errors next to them in Vietnamese
with the input kept, saving, and the saved relay shown again (length as m:ss), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from broadcast.db.models import ContentSource
from broadcast.web.item_forms import relay_seconds
from tests.conftest import log_in
from tests.integration.test_item_pages import count_items, item_id_of, page_of, post_form, stored

VOV = "http://10.20.0.5:8000/vov1.mp3"


def relay_form(**changes) -> dict:
    return {"title": "Tiếp sóng VOV1", "body": "", "language": "vi", "item_class": "normal",
            "content_source": "stream", "stream_url": VOV, "stream_length": "30", **changes}


def test_a_relay_is_written_on_the_item_page(client, seeded):
    log_in(client, "bientap")
    new = page_of(client.get("/items/new"))
    assert 'value="stream"' in new and "Tiếp sóng trực tiếp một luồng" in new
    assert '<div class="item-relay" id="item-relay" hidden>' in new and "relay.js" in new

    bad_url = post_form(client, "/items/new", "/items/new", **relay_form(stream_url="ftp://10.20.0.5/vov1.mp3"))
    page = page_of(bad_url)
    assert bad_url.status_code == 422
    assert '<div class="item-relay" id="item-relay">' in page  # shown, since a relay was chosen
    assert 'value="ftp://10.20.0.5/vov1.mp3"' in page and 'aria-describedby="stream_url-error"' in page
    assert "Địa chỉ luồng phải bắt đầu bằng http:// hoặc https://" in page
    assert 'id="recording" class="recording-panel" hidden' in page or 'id="recording"' not in page

    bad_length = post_form(client, "/items/new", "/items/new", **relay_form(stream_length="nửa giờ"))
    assert bad_length.status_code == 422
    assert "Hãy nhập thời lượng bằng số phút (30) hoặc phút và giây (29:30)." in page_of(bad_length)
    no_length = post_form(client, "/items/new", "/items/new", **relay_form(stream_length=""))
    assert no_length.status_code == 422
    assert 'aria-describedby="stream_length-error"' in page_of(no_length)
    assert "Hãy nhập thời lượng tiếp sóng." in page_of(no_length)
    assert count_items(seeded) == 0

    saved = post_form(client, "/items/new", "/items/new", **relay_form(stream_length="29:30"))
    assert saved.status_code == 302, page_of(saved)
    item_id = item_id_of(saved)
    item = stored(seeded, item_id)
    assert (item.content_source, item.stream_url, item.stream_duration_s) == (ContentSource.STREAM, VOV, 1770)
    assert item.estimated_duration_ms == 1_770_000
    page = page_of(client.get(f"/items/{item_id}"))
    assert f'value="{VOV}"' in page and 'value="29:30"' in page
    assert "Bản tin này là tiếp sóng trực tiếp" in page
    assert 'value="render"' not in page  # nothing to read aloud

    # A new length is kept.
    edited = post_form(client, f"/items/{item_id}", f"/items/{item_id}", **relay_form(stream_length="45"))
    assert edited.status_code == 302
    assert stored(seeded, item_id).stream_duration_s == 2700


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 1800), ("29:30", 1770), ("1:00:00", 3600), ("0:45", 45), ("90", 5400), ("", None), (None, None)],
)
def test_relay_lengths_as_editors_type_them(text, seconds):
    assert relay_seconds(text) == seconds


@pytest.mark.parametrize("text", ["nửa giờ", "1:75", "30 phút", "1:2:3:4", "-5"])
def test_relay_lengths_that_are_not_lengths(text):
    with pytest.raises(ValueError):
        relay_seconds(text)


def test_the_timeline_marks_a_relay_as_a_live_relay(client, seeded):
    """An editor reading the schedule tells a relay from a bulletin read aloud, as the station's day page does."""
    from tests.integration.test_stream_items import place, relay_item, slot_with_filler
    from tests.integration.test_stream_items import world as world_of

    world = world_of.__wrapped__(seeded, client)
    slot_id = slot_with_filler(world)
    item = relay_item(world, stream_duration_s=300)
    assert place(world, item["id"], slot_id).status_code == 201
    log_in(client, "bientap")
    page = page_of(client.get("/schedule?day=2026-11-29"))
    assert 'Tiếp sóng VOV1 <span class="muted">(tiếp sóng trực tiếp)</span>' in page
