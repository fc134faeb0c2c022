"""The README's pictures of issue 17's pages, taken at 1280 px as a user meets them, with what they show checked:
a Mông bulletin whose recording was uploaded under a Vietnamese file name with spaces (its player loads), the
media library with recordings, a jingle and a filler, the emergency approval page with its player, and the status
page once a station has answered. Screenshots: tests/artifacts/screenshots/readme-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from broadcast.db.models import ContentSource, NewsItem
from broadcast.services import items, users
from tests.audio_fixtures import speech, tone
from tests.browser.conftest import log_in, screenshot, serve
from tests.browser.test_emergency_stress import audible_item
from tests.browser.test_recordings import live_url, mong_item, player_loads, wait_for_recording  # noqa: F401
from tests.conftest import csrf_from
from tests.conftest import log_in as log_in_client
from tests.integration.test_emergencies import ack, aired, poll, request, world  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_readme_recording_and_library(page, live_url, seeded, tmp_path):  # noqa: F811
    item_id = mong_item(seeded, "Chương trình tiếng Mông tuần 49")
    recording = speech(tmp_path / "Bản tin tiếng Mông 05-12.mp3",
                       "Bà con chú ý, đây là chương trình phát thanh bằng tiếng Mông của đài tỉnh.")
    log_in(page, live_url, "bientap")
    page.goto(f"{live_url}/items/{item_id}")
    page.locator("#recording-file").set_input_files(str(recording))
    page.locator("#recording-form button[type=submit]").click()
    length = wait_for_recording(page)
    assert page.locator("#recording-message").inner_text() == f"Đã tải bản ghi lên: {length}."
    assert player_loads(page, "#recording-player") > 2
    screenshot(page, "readme-item-recording.png")

    client = seeded.test_client()
    log_in_client(client, "bientap")
    with seeded.extensions["database"].sessions() as session:
        dao = items.create_item(session, users.get_user(session, "bientap"), items.ItemFields(
            title="Bản tin tiếng Dao tháng 12", language="dao", content_source=ContentSource.RECORDING)).id
    token = csrf_from(client.get(f"/items/{dao}").data)
    with tone(tmp_path / "dao.mp3", 3, freq=330).open("rb") as fh:
        assert client.post(f"/items/{dao}/recording", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (fh, "dao.mp3")}).status_code == 302
    for title, kind, seconds in (("Nhạc hiệu Đài phát thanh tỉnh", "jingle", 4), ("Nhạc đệm buổi sáng", "filler", 6)):
        with tone(tmp_path / f"{kind}.wav", seconds, freq=500 + 100 * seconds).open("rb") as fh:
            assert client.post("/media/clips", content_type="multipart/form-data", data={
                "csrf_token": csrf_from(client.get("/media").data), "title": title, "kind": kind, "language": "",
                "file": (fh, f"{kind}.wav")}).status_code == 302
    page.goto(f"{live_url}/media")
    expect(page.locator("tr.media-entry")).to_have_count(4)
    assert re.search(r"\d\d/\d\d/\d{4}", page.locator("tr.media-entry").first.inner_text())
    # A date or a length is read whole: never broken over two lines ("05/12/202" and "6").
    for cell in ("td.media-date", "td.num"):
        lines = page.locator(f"tr.media-entry {cell}").first.evaluate(
            "td => { const r = document.createRange(); r.selectNodeContents(td); return r.getClientRects().length; }")
        assert lines == 1, cell
    page.locator("#q").fill("mong")  # typed without tone marks
    with page.expect_navigation():
        page.locator("form[role=search] button[type=submit]").click()
    expect(page.locator("tr.media-entry")).to_have_count(1)
    assert "Chương trình tiếng Mông tuần 49" in page.locator("tr.media-entry").inner_text()
    page.goto(f"{live_url}/media")
    screenshot(page, "readme-media-library.png")


@pytest.fixture
def live(world):  # noqa: F811
    with serve(world["app"]) as url:
        yield world, url


def test_readme_emergency_approval_and_status(page, live, tmp_path):
    here, url = live
    item_id = audible_item(here, tmp_path, "Cảnh báo lũ quét trên suối Miện")
    with here["database"].sessions() as session:  # the stored length as long as the file the player loads
        session.get(NewsItem, item_id).audio_asset.duration_ms = 3000
        session.commit()
    made = request(here, item_id)
    assert made.status_code == 201, made.json
    log_in(page, url, "pheduyet")
    page.goto(f"{url}/emergencies/{made.json['id']}")
    expect(page.get_by_role("heading", name="Nghe trước khi phê duyệt")).to_be_visible()
    page.wait_for_function("document.querySelector('section.listen audio').readyState >= 1")
    assert round(page.locator("section.listen audio").evaluate("a => a.duration")) == 3
    expect(page.locator("p.pending-banner")).to_contain_text("đang chờ phê duyệt")
    screenshot(page, "readme-emergency-approve.png")

    page.get_by_role("button", name="Duyệt và phát ngay").click()
    page.wait_for_load_state()
    [command] = poll(here, "HG1-01")
    ack(here, "HG1-01", command["id"])
    aired(here, "HG1-01", made.json["id"])
    rows = page.locator("table.tracks tbody tr")
    expect(rows.nth(0)).to_contain_text("Đã phát", timeout=30_000)  # the page fetched its status by itself
    expect(rows.nth(1)).to_contain_text("Đã gửi, chưa có trả lời")
    expect(page.get_by_role("button", name="Gửi lại tới 1 đài chưa trả lời")).to_be_visible()
    screenshot(page, "readme-emergency-status.png")
