"""An editor places an approved item from its editor page in Chromium: ticks areas on the tree, submits, and sees
the item on the timeline; on a 360 px phone, a commune's stations sent on demand are loaded in place.

The app with the demo data, a 06:00 province session and an approved item is served on 127.0.0.1; the system
Chromium drives it through Playwright. Screenshots go to tests/artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from broadcast.db.models import Placement, Station
from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve
from tests.integration.test_placement_pages import DAY, NOW, approved_item, area_id, morning_slot, sessions

pytestmark = pytest.mark.browser

TITLE = "Lịch tiêm phòng"


@pytest.fixture
def live(seeded):
    seeded.extensions["clock"] = lambda: NOW
    morning_slot(seeded)
    item = approved_item(seeded, TITLE)
    with serve(seeded) as url:
        yield {"url": url, "item": item, "app": seeded}


def node(page, value: str):
    return page.locator(f"input[name=targets][value='{value}']")


def unfold(page, value: str) -> None:
    """Tap the fold arrow of the area ``value`` (its box's label would tick it instead)."""
    row = page.locator("li.tree-node", has=node(page, value)).last
    row.locator("summary").first.click(position={"x": 10, "y": 12})


def test_editor_ticks_areas_and_sees_the_item_on_the_timeline(page, live):
    log_in(page, live["url"], "bientap")
    page.goto(f"{live['url']}/items/{live['item']}")
    with page.expect_navigation():
        page.get_by_role("link", name="Xếp lịch phát").click()
    page.select_option("#slot", label="06:00 · Buổi sáng (10 phút)")
    page.fill("#date_from", DAY)
    page.fill("#date_until", DAY)
    summary = page.locator("#place-summary")
    assert summary.inner_text() == "Chưa chọn nơi phát nào."

    # Ticking a commune covers its stations: they show ticked and greyed out, and are not sent on their own.
    node(page, "00694").check()
    assert summary.inner_text() == "Đã chọn: 1 xã, 2 đài"
    unfold(page, "00694")
    station = node(page, "station:HG1-01")
    assert station.is_visible() and station.is_checked() and station.is_disabled()
    # A single station of another commune, after unfolding it.
    unfold(page, "00691")
    node(page, "station:HG2-01").check()
    assert summary.inner_text() == "Đã chọn: 1 xã, 3 đài"
    screenshot(page, "place-item.png")

    with page.expect_navigation():
        page.get_by_role("button", name="Xếp lịch phát", exact=True).last.click()
    address = urlsplit(page.url)
    assert address.path == "/schedule"
    assert parse_qs(address.query) == {"area": [str(area_id(live["app"], "00694"))], "day": [DAY]}
    assert "Đã xếp lịch phát: Lịch tiêm phòng" in page.locator(".flash").inner_text()
    assert page.locator("ol.tl-items .tl-title").all_inner_texts() == [TITLE]
    screenshot(page, "place-item-timeline.png")


def test_phone_loads_a_communes_stations_in_place(phone, live):
    commune = area_id(live["app"], "00700")  # Xã Ngọc Đường, given 450 stations: too many to send up-front
    with sessions(live["app"]) as session:
        session.add_all(Station(code=f"ND-{n:03d}", name=f"Đài xã Ngọc Đường {n}", commune_id=commune)
                        for n in range(450))
        session.commit()
    log_in(phone, live["url"], "bientap")
    phone.goto(f"{live['url']}/items/{live['item']}/place")
    assert node(phone, "station:ND-001").count() == 0
    row = phone.locator("li.tree-commune", has=node(phone, "00700"))
    unfold(phone, "00700")  # unfolding fetches the stations (static/place.js)
    node(phone, "station:ND-001").check()
    assert node(phone, "station:ND-449").count() == 1 and row.locator("button.tree-more").count() == 0
    assert phone.locator("#place-summary").inner_text() == "Đã chọn: 0 xã, 1 đài"
    node(phone, "00700").check()  # the whole commune after all: the loaded stations are covered
    assert node(phone, "station:ND-001").is_disabled() and node(phone, "station:ND-449").is_checked()
    assert phone.locator("#place-summary").inner_text() == "Đã chọn: 1 xã, 450 đài"
    fits_the_screen(phone)
    phone.select_option("#slot", index=1)
    phone.fill("#date_from", DAY)
    phone.fill("#date_until", DAY)
    screenshot(phone, "place-item-phone.png")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Xếp lịch phát", exact=True).last.click()
    assert parse_qs(urlsplit(phone.url).query)["area"] == [str(commune)]
    assert phone.locator("ol.tl-items .tl-title").all_inner_texts() == [TITLE]
    with sessions(live["app"]) as session:  # the covered station was not sent besides its commune
        assert [t.code for t in session.scalar(select(Placement)).targets] == ["00700"]
