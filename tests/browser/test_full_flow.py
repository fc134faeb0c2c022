"""The product's whole path in Chromium, as the people who use it walk it.

The evening before, an editor writes an item, has it read by the Vietnamese voice (espeak-ng and ffmpeg, for
real) and sends it for approval; an approver approves it from the queue; the editor places it in tomorrow's
06:00 session for a commune and sees it on the timeline. The next morning, after the session, the commune's
operator confirms that it aired, and the province's report counts the item as planned and the session as
confirmed. The demo data and the service's clock (moved from 22:00 to 06:30) are served on 127.0.0.1.
Screenshots of each main page go to tests/artifacts/screenshots/; the README shows copies from docs/screenshots/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from broadcast.audio_setup import audio_tools
from broadcast.db.models import NewsItem, RenderState
from broadcast.services import rendering
from tests.browser.conftest import log_in, screenshot, serve
from tests.browser.test_item_pages import log_in_again
from tests.integration.test_placement_pages import DAY, NOW, area_id, morning_slot, sessions
from tests.services import need_tool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "Lịch tiêm vắc-xin sởi tháng 12"
BODY = "Trạm y tế phường tiêm vắc-xin sởi cho trẻ từ 9 tháng tuổi vào sáng thứ Hai, ngày 1/12/2026."
AFTER_THE_SESSION = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # 06:30 on 29/11 in Hà Giang


@pytest.fixture
def live(seeded):
    need_tool("espeak-ng")
    need_tool("ffmpeg")
    clock = {"now": NOW}  # 22:00 on 28/11
    seeded.extensions["clock"] = lambda: clock["now"]
    morning_slot(seeded)
    with serve(seeded) as url:
        yield {"url": url, "app": seeded, "clock": clock}


def render_queued_speech(app) -> None:
    """What the scheduler's render job does within a minute: read the queued items aloud."""
    with app.app_context(), sessions(app) as session:
        done = rendering.render_pending(session, audio_tools(app.extensions["settings"]))
        assert [item.title for item in done] == [TITLE]


def test_write_approve_place_air_confirm_and_report(page, live):
    url, app = live["url"], live["app"]

    # The editor writes the item and has it read.
    log_in(page, url, "bientap")
    screenshot(page, "flow-1-dashboard.png")
    page.goto(f"{url}/items/new")
    page.locator("#title").fill(TITLE)
    page.locator("#body").fill(BODY)
    with page.expect_navigation():
        page.locator("button[name=action][value=render]").click()
    render_queued_speech(app)
    page.reload()
    player = page.locator("audio")
    assert player.count() == 1 and player.get_attribute("src")
    with sessions(app) as session:
        item = session.scalar(select(NewsItem).where(NewsItem.title == TITLE))
        assert item.render_state is RenderState.READY and item.audio_asset.duration_ms > 3000
        item_id = item.id
    screenshot(page, "flow-2-item-editor.png")
    with page.expect_navigation():
        page.locator("button[name=action][value=submit]").click()
    assert "Đã lưu và gửi phê duyệt." in page.get_by_role("status").inner_text()

    # The approver approves it from the queue.
    log_in_again(page, url, "pheduyet")
    page.goto(f"{url}/items/approvals")
    card = page.locator("article.item-queued").filter(has_text=TITLE)
    screenshot(page, "flow-3-approvals.png")
    with page.expect_navigation():
        card.locator("form[action$='/approve'] button").click()
    assert page.locator("article.item-queued").filter(has_text=TITLE).count() == 0

    # The editor places it in tomorrow's morning session for one commune and sees it on the timeline.
    log_in_again(page, url, "bientap")
    page.goto(f"{url}/items/{item_id}")
    with page.expect_navigation():
        page.get_by_role("link", name="Xếp lịch phát").click()
    page.select_option("#slot", label="06:00 · Buổi sáng (10 phút)")
    page.fill("#date_from", DAY)
    page.fill("#date_until", DAY)
    page.locator("input[name=targets][value='00694']").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Xếp lịch phát", exact=True).last.click()
    assert urlsplit(page.url).path == "/schedule"
    assert page.locator("ol.tl-items .tl-title").all_inner_texts() == [TITLE]
    screenshot(page, "flow-4-timeline.png")

    # The next morning, after the session: the commune's operator sees it planned and confirms it aired.
    live["clock"]["now"] = AFTER_THE_SESSION
    log_in_again(page, url, "vanhanh")
    page.goto(f"{url}/stations/HG1-01/days/{DAY}")
    session_card = page.locator("section.occurrence").first
    assert TITLE in session_card.inner_text()
    session_card.get_by_role("radio", name="Đã phát").check()
    with page.expect_navigation():
        session_card.get_by_role("button", name="Lưu xác nhận").click()
    assert page.get_by_role("status").inner_text().strip() == "Đã lưu xác nhận: đã phát."
    screenshot(page, "flow-5-station-day-confirmed.png")

    # The province's report for that day counts the item for both stations of the commune, and the one
    # confirmed session.
    log_in_again(page, url, "bientap")
    page.goto(f"{url}/reports?area={area_id(app, '08')}&from={DAY}&to={DAY}")
    headers = page.locator("#stations-h + .table-scroll table thead th").all_inner_texts()
    rows = {row.locator("th a").inner_text().strip(): dict(zip(headers[2:], row.locator("td.num").all_inner_texts(),
                                                                 strict=True))
            for row in page.locator("#stations-h + .table-scroll table tbody tr").all()}
    assert rows["HG1-01"]["Số bản tin theo kế hoạch"] == "1" and rows["HG1-02"]["Số bản tin theo kế hoạch"] == "1"
    assert rows["HG1-01"]["Xác nhận đã phát"] == "1" and rows["HG1-02"]["Xác nhận đã phát"] == "0"
    assert rows["HG2-01"]["Số bản tin theo kế hoạch"] == "0"  # another commune: not a target
    screenshot(page, "flow-6-report.png")
