"""Recordings in Chromium (Vietnamese): a Mông bulletin's recording uploaded with its progress bar, one recorded from a
fake microphone (Chromium's own fake device playing speech made by espeak-ng) and sent through the same upload; a
browser without MediaRecorder, without a microphone or with the microphone blocked says so in Vietnamese and the
file field still works; the media library with its upload, search and player, at desktop size and on a 360 px
phone. Screenshots: tests/artifacts/screenshots/recordings-*.png and media-library-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from broadcast.db.models import ContentSource, NewsItem, RenderState
from broadcast.services import items, users
from tests.audio_fixtures import speech, tone
from tests.browser.conftest import CHROMIUM_ARGS, fits_the_screen, log_in, screenshot, serve
from tests.services import CHROMIUM

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(seeded) -> str:
    with serve(seeded) as url:
        yield url


def mong_item(app, title: str = "Chương trình tiếng Mông tuần này") -> int:
    with app.app_context(), app.extensions["database"].sessions() as session:
        editor = users.get_user(session, "bientap")
        return items.create_item(session, editor, items.ItemFields(
            title=title, language="hmn", content_source=ContentSource.RECORDING)).id


def stored(app, item_id: int) -> NewsItem:
    with app.extensions["database"].sessions() as session:
        item = session.get(NewsItem, item_id)
        item.audio_asset  # noqa: B018 - loaded before the session closes
        session.expunge_all()
        return item


def wait_for_recording(page) -> str:
    expect(page.locator("#recording-duration")).to_have_text(re.compile(r"^\d+:\d\d$"), timeout=60_000)
    return page.locator("#recording-duration").inner_text()


def player_loads(page, selector: str) -> float:
    """The element's audio, fetched and decoded by Chromium: its duration in seconds."""
    return page.locator(selector).first.evaluate("""el => new Promise((done, failed) => {
        el.addEventListener("loadedmetadata", () => done(el.duration));
        el.addEventListener("error", () => failed(new Error("the audio did not load")));
        el.preload = "auto";
        el.load();
    })""")


def test_the_editor_uploads_a_recording_and_watches_its_progress(page, live_url, seeded, tmp_path):
    item_id = mong_item(seeded)
    recording = speech(tmp_path / "mong.mp3", "Bà con chú ý, đây là chương trình phát thanh bằng tiếng Mông.")
    log_in(page, live_url, "bientap")
    page.goto(f"{live_url}/items/{item_id}")
    assert page.locator("#content_source-recording").is_checked()
    assert page.locator("#content_source-speech").is_disabled()  # no voice reads Mông
    page.locator("#recording-file").set_input_files(str(recording))
    page.locator("#recording-form button[type=submit]").click()
    length = wait_for_recording(page)
    assert page.locator("#recording-message").inner_text().startswith("Đã tải bản ghi lên: ")
    # The bar followed the upload to its end; the page did not reload (the form posted by XMLHttpRequest).
    assert page.locator("#recording-form progress").evaluate("el => el.value") == 100
    assert page.url.endswith(f"/items/{item_id}")
    item = stored(seeded, item_id)
    assert item.render_state is RenderState.READY
    assert length == f"0:{round(item.audio_asset.duration_ms / 1000):02d}"
    assert abs(player_loads(page, "#recording-player") * 1000 - item.audio_asset.duration_ms) < 200
    # A screen reader names the player (not just "audio"), the one made by the script as the page's own.
    assert page.locator("#recording-player").get_attribute("aria-label") == (
        "Nghe: Chương trình tiếng Mông tuần này")
    assert page.locator("#render-badge").inner_text() == "Sẵn sàng phát"
    screenshot(page, "recordings-upload.png")

    # A file that is not audio: the server's own message next to the field, and the recording kept.
    bad = tmp_path / "ghi-chu.mp3"
    bad.write_text("không phải âm thanh " * 100)
    page.locator("#recording-file").set_input_files(str(bad))
    page.locator("#recording-form button[type=submit]").click()
    message = page.locator("#recording-message.error")
    message.wait_for()
    assert message.inner_text().startswith("Tệp không phải âm thanh") and message.get_attribute("role") == "alert"
    assert page.locator("#recording-file").get_attribute("aria-invalid") == "true"
    assert stored(seeded, item_id).audio_asset_id == item.audio_asset_id
    screenshot(page, "recordings-refused.png")


def test_a_new_tay_bulletin_is_saved_with_its_file_in_one_step(page, live_url, seeded, tmp_path):
    log_in(page, live_url, "bientap")
    page.goto(f"{live_url}/items/new")
    assert page.locator("#recording").is_hidden()  # Vietnamese read by the voice: no file field yet
    page.locator("#title").fill("Thông báo tiếng Tày")
    page.locator("#language").select_option("tay")
    assert page.locator("#recording").is_visible() and page.locator("#content_source-recording").is_checked()
    page.locator("#recording-file").set_input_files(str(tone(tmp_path / "tay.mp3", 3)))
    with page.expect_navigation():
        page.locator("form.item-form button[name=action][value=save]").click()
    assert wait_for_recording(page) == "0:03"
    with seeded.extensions["database"].sessions() as session:
        item = session.scalar(select(NewsItem).where(NewsItem.title == "Thông báo tiếng Tày"))
        assert item.language == "tay" and item.audio_asset_id is not None


def test_without_media_recorder_the_page_says_so_and_upload_still_works(page, live_url, seeded, tmp_path):
    item_id = mong_item(seeded)
    page.add_init_script("delete window.MediaRecorder;")
    log_in(page, live_url, "bientap")
    page.goto(f"{live_url}/items/{item_id}")
    assert page.locator(".recorder-start").is_disabled()
    assert page.locator("#recording-message").inner_text() == (
        "Trình duyệt này không ghi âm được. Hãy tải lên tệp đã ghi sẵn.")
    page.locator("#recording-file").set_input_files(str(tone(tmp_path / "t.wav", 2)))
    page.locator("#recording-form button[type=submit]").click()
    assert wait_for_recording(page) == "0:02"


def test_without_a_microphone_the_page_says_so_and_upload_still_works(page, live_url, seeded, tmp_path):
    # The test browser has no sound input at all (the microphone test below starts one with a fake device).
    item_id = mong_item(seeded)
    log_in(page, live_url, "bientap")
    page.goto(f"{live_url}/items/{item_id}")
    page.locator(".recorder-start").click()
    message = page.locator("#recording-message.error")
    message.wait_for()
    assert message.inner_text() == "Không tìm thấy micrô. Hãy cắm micrô, hoặc tải tệp lên."
    assert page.locator(".recorder-start").is_enabled()  # it may be tried again once one is plugged in
    screenshot(page, "recordings-no-microphone.png")
    page.locator("#recording-file").set_input_files(str(tone(tmp_path / "t.wav", 2)))
    page.locator("#recording-form button[type=submit]").click()
    assert wait_for_recording(page) == "0:02"


@pytest.fixture(scope="module")
def microphone_browser(browser, tmp_path_factory):
    """A Chromium of its own (same Playwright) whose fake microphone plays Vietnamese speech from espeak-ng."""
    voice = speech(tmp_path_factory.mktemp("mic") / "mic.wav",
                   "Alô, alô. Thông báo của ủy ban nhân dân phường về lịch tiêm phòng cho trẻ em.")
    launched = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={voice}"])
    try:
        yield launched
    finally:
        launched.close()


def test_a_blocked_microphone_is_explained(browser, live_url, seeded):
    # A Chromium with a (fake) microphone that this page was not allowed to use, as after "Block" in the prompt.
    item_id = mong_item(seeded)
    blocking = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream"])
    try:
        page = blocking.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh").new_page()
        log_in(page, live_url, "bientap")
        page.goto(f"{live_url}/items/{item_id}")
        page.locator(".recorder-start").click()
        message = page.locator("#recording-message.error")
        message.wait_for()
        assert message.inner_text() == ("Micrô chưa được cho phép. Hãy cho phép trong trình duyệt (biểu tượng cạnh "
                                        "thanh địa chỉ), hoặc tải tệp lên.")
        assert page.locator("#recording-file").is_enabled()
        screenshot(page, "recordings-microphone-blocked.png")
    finally:
        blocking.close()


def test_a_recording_from_the_microphone_goes_through_the_same_upload(microphone_browser, live_url, seeded):
    item_id = mong_item(seeded, "Thông báo ghi âm tại phường")
    context = microphone_browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                             viewport={"width": 1280, "height": 800}, permissions=["microphone"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, live_url, "bientap")
        page.goto(f"{live_url}/items/{item_id}")
        page.locator(".recorder-start").click()
        timer = page.locator(".recorder-time")
        expect(timer).to_have_text("0:03")
        assert timer.is_visible() and page.locator(".recorder-stop").is_visible()
        screenshot(page, "recordings-microphone.png")
        page.locator(".recorder-stop").click()
        page.locator(".recorder-playback").wait_for()
        assert page.locator("#recording-message").inner_text().startswith("Đã ghi 0:0")
        assert page.locator(".recorder-playback").get_attribute("src").startswith("blob:")  # heard before sending
        assert page.locator(".recorder-playback").get_attribute("aria-label") == "Nghe lại bản vừa ghi"
        name = page.locator("#recording-file").evaluate("el => el.files[0].name + ' ' + el.files[0].type")
        assert name.startswith("ghi-am.webm audio/webm") or name.startswith("ghi-am.ogg audio/ogg")
        page.locator("#recording-form button[type=submit]").click()
        wait_for_recording(page)
        item = stored(seeded, item_id)
        assert item.audio_asset.mime_type == "audio/mpeg" and item.audio_asset.duration_ms >= 2000
        screenshot(page, "recordings-microphone-sent.png")
    finally:
        context.close()


def _library(app, tmp_path, client_upload):
    with app.app_context(), app.extensions["database"].sessions() as session:
        editor = users.get_user(session, "bientap")
        for title, language, seconds in (("Chương trình tiếng Mông số 12", "hmn", 3),
                                         ("Bản tin tiếng Dao tháng 12", "dao", 2)):
            item = items.create_item(session, editor, items.ItemFields(
                title=title, language=language, content_source=ContentSource.RECORDING))
            client_upload(item.id, tone(tmp_path / f"{language}.mp3", seconds, freq=300 + 100 * seconds))


def test_the_library_searches_plays_and_fits_a_phone(page, phone, live_url, seeded, tmp_path):
    client = seeded.test_client()
    from tests.conftest import csrf_from
    from tests.conftest import log_in as log_in_client

    log_in_client(client, "bientap")

    def upload(item_id, path):
        token = csrf_from(client.get(f"/items/{item_id}").data)
        with path.open("rb") as fh:
            assert client.post(f"/items/{item_id}/recording", data={"csrf_token": token, "file": (fh, path.name)},
                               content_type="multipart/form-data").status_code == 302

    _library(seeded, tmp_path, upload)
    log_in(page, live_url, "bientap")
    page.locator("nav.mainnav a[href='/media']").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Thư viện âm thanh"
    assert page.locator("tr.media-entry").count() == 2

    # A jingle added through the page, with its progress bar.
    page.locator("#clip-title").fill("Nhạc hiệu Đài phát thanh tỉnh")
    page.locator("input[name=kind][value=jingle]").check()
    page.locator("#clip-file").set_input_files(str(tone(tmp_path / "jingle.wav", 4, freq=880)))
    with page.expect_navigation():
        page.locator(".media-upload button[type=submit]").click()
    assert "Đã thêm vào thư viện: Nhạc hiệu Đài phát thanh tỉnh (0:04)." in page.locator(".flash").inner_text()
    assert page.locator("tr.media-entry").count() == 3

    page.locator("#q").fill("mông")
    with page.expect_navigation():
        page.locator("form[role=search] button[type=submit]").click()
    rows = page.locator("tr.media-entry")
    assert rows.count() == 1 and "Chương trình tiếng Mông số 12" in rows.first.inner_text()
    assert "Biên tập viên tỉnh" in rows.first.inner_text() and "0:03" in rows.first.inner_text()
    assert abs(player_loads(page, "tr.media-entry audio") - 3) < 0.3
    page.goto(f"{live_url}/media")
    screenshot(page, "media-library.png")

    log_in(phone, live_url, "bientap")
    phone.goto(f"{live_url}/media")
    fits_the_screen(phone)
    screenshot(phone, "media-library-phone.png")
    item_id = mong_item(seeded, "Tin tiếng Nùng trên điện thoại")
    phone.goto(f"{live_url}/items/{item_id}")
    fits_the_screen(phone)
    assert phone.locator("#recording-file").is_visible() and phone.locator(".recorder-start").is_visible()
    screenshot(phone, "recordings-phone.png")
