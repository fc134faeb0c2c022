"""The editors' item pages in Chromium: the editor writes a bulletin, sees what the voice will read as they type,
saves and submits it; the approver approves it from the queue by keyboard. Then the same pages on a 360 px phone,
and a hostile title that must stay text.

The app with the demo data is served by a real HTTP server on the loopback interface; the system Chromium drives it
through Playwright. Elements are found by id, name and link target rather than by wording, so the tests hold
whether or not the Vietnamese catalog has the pages' newest messages yet. Screenshots go to
tests/artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from broadcast.db.models import ItemStatus, NewsItem, RenderState
from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve

pytestmark = pytest.mark.browser

TITLE = "Phòng chống lũ quét tháng 2"
BODY = "UBND xã đề nghị người dân sơ tán trước 17h30 ngày 3/2."
READING = "Ủy ban nhân dân xã đề nghị người dân sơ tán trước mười bảy giờ ba mươi phút ngày ba tháng hai."
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def live_url(seeded) -> str:
    with serve(seeded) as url:
        yield url


def path_of(page) -> str:
    return urlsplit(page.url).path


def stored(app, title: str) -> NewsItem:
    with app.extensions["database"].sessions() as session:
        item = session.scalar(select(NewsItem).where(NewsItem.title == title))
        session.expunge(item)
        return item


def log_in_again(page, base: str, username: str) -> None:
    """Log out (the header's button), then in as someone else."""
    with page.expect_navigation():
        page.locator("form.who button[type=submit]").click()
    log_in(page, base, username)



def test_editor_writes_and_submits_then_the_approver_approves_from_the_queue(page, live_url, seeded):
    log_in(page, live_url, "bientap")
    page.locator("nav.mainnav a[href='/items']").click()
    page.wait_for_load_state()
    assert path_of(page) == "/items"
    assert page.locator("nav.mainnav a[href='/items']").get_attribute("aria-current") == "page"
    page.locator("a[href='/items/new']").click()
    page.wait_for_load_state()
    assert path_of(page) == "/items/new"

    # As the editor types, the reading and the estimate follow (static/items.js and POST /api/v1/reading).
    page.locator("#title").fill(TITLE)
    page.locator("#body").click()
    page.keyboard.type(BODY)
    reading = page.locator("#item-reading")
    reading.filter(has_text="mười bảy giờ ba mươi phút").wait_for()
    assert reading.inner_text().strip() == READING
    assert re.fullmatch(r"0:0[1-9]", page.locator("#item-estimate").inner_text().strip())
    page.locator("#item_class-priority").check()
    screenshot(page, "item-new.png")

    # Enter in the title field presses the form's first button: Save.
    page.locator("#title").press("Enter")
    page.wait_for_url(re.compile(r".*/items/\d+$"))
    item_path = path_of(page)
    assert page.get_by_role("heading", level=1).inner_text().strip() == TITLE
    assert page.locator("#item-reading").inner_text().strip() == READING  # worked out on the server this time
    assert page.locator("#item_class-priority").is_checked()
    assert stored(seeded, TITLE).status is ItemStatus.DRAFT
    screenshot(page, "item-editor.png")

    page.locator("button[name=action][value=render]").click()
    page.wait_for_load_state()
    assert page.locator(".badge.render-pending").is_visible()
    assert stored(seeded, TITLE).render_state is RenderState.PENDING

    page.locator("button[name=action][value=submit]").click()
    page.wait_for_load_state()
    assert path_of(page) == item_path
    assert page.locator(".item-meta .badge.item-status-submitted").is_visible()
    assert page.locator("button[name=action][value=submit]").count() == 0
    assert stored(seeded, TITLE).status is ItemStatus.SUBMITTED

    page.goto(f"{live_url}/items")
    row = page.locator("table.items tbody tr").first
    assert row.locator("td").first.inner_text().strip() == TITLE
    screenshot(page, "item-list.png")

    # The approver: the queue, then Approve by keyboard.
    log_in_again(page, live_url, "pheduyet")
    page.goto(f"{live_url}/items")
    page.locator("a[href='/items/approvals']").click()
    page.wait_for_load_state()
    card = page.locator("article.item-queued").filter(has_text=TITLE)
    assert card.get_by_role("heading", level=2).inner_text().strip() == TITLE
    screenshot(page, "item-approvals.png")
    approve = card.locator("form[action$='/approve'] button")
    approve.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/items/approvals"
    assert TITLE in page.get_by_role("status").inner_text()
    assert page.locator("article.item-queued").count() == 0
    item = stored(seeded, TITLE)
    assert item.status is ItemStatus.APPROVED and item.approved_by_id is not None
    screenshot(page, "item-approvals-done.png")


def test_item_pages_fit_a_phone_and_a_hostile_title_stays_text(phone, live_url):
    dialogs = []
    phone.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(phone, live_url, "bientap")
    phone.goto(f"{live_url}/items/new")
    assert phone.evaluate("document.documentElement.clientWidth") == 360
    phone.locator("#title").fill(SCRIPT)
    phone.locator("#body").fill(BODY)
    phone.locator("button[name=action][value=submit]").click()
    phone.wait_for_url(re.compile(r".*/items/\d+$"))
    assert phone.get_by_role("heading", level=1).inner_text().strip() == SCRIPT
    assert phone.title().startswith(SCRIPT)
    screenshot(phone, "item-editor-360.png")
    fits_the_screen(phone)

    # An empty title: the error is shown on the phone too, next to the field, and the text is kept.
    phone.goto(f"{live_url}/items/new")
    phone.locator("#body").fill(BODY)
    with phone.expect_response(lambda r: path_of(r) == "/items/new" and r.request.method == "POST") as posted:
        phone.locator("button[name=action][value=save]").click()
    assert posted.value.status == 422
    phone.wait_for_load_state()
    assert phone.locator("#title").get_attribute("aria-invalid") == "true"
    assert phone.locator("#title-error").inner_text().strip() == "Hãy đặt tiêu đề cho tin."
    assert phone.locator("#body").input_value() == BODY
    screenshot(phone, "item-error-360.png")
    fits_the_screen(phone)

    phone.goto(f"{live_url}/items")
    assert phone.locator("table.items tbody tr td a").first.inner_text().strip() == SCRIPT
    screenshot(phone, "item-list-360.png")
    fits_the_screen(phone)

    log_in_again(phone, live_url, "pheduyet")
    phone.goto(f"{live_url}/items/approvals")
    assert phone.locator("article.item-queued h2").inner_text().strip() == SCRIPT
    screenshot(phone, "item-approvals-360.png")
    fits_the_screen(phone)
    assert dialogs == []  # no script ran from the title
