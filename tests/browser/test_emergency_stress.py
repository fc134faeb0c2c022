"""The emergency pages under stress, in Chromium and in Vietnamese: finding a commune on the tree without tone
marks, the risk levels in their colours, the banner on every page for approvers, listening before approving on a
360 px phone, the status refreshing itself as stations answer, and the confirmation before cancelling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from audio.processing import AudioStore
from broadcast.db.models import NewsItem
from tests.audio_fixtures import tone
from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve
from tests.browser.test_content_policy import LISTEN
from tests.integration.test_emergencies import ack, poll, request, warning_item, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

# Decision 18/2021/QĐ-TTg: 1 light blue, 2 light yellow, 3 orange, 4 red, 5 purple.
COLOURS = {1: "rgb(207, 232, 252)", 2: "rgb(255, 244, 179)", 3: "rgb(255, 159, 46)", 4: "rgb(217, 45, 32)",
           5: "rgb(122, 46, 158)"}


@pytest.fixture
def live(world):  # noqa: F811
    with serve(world["app"]) as url:
        yield world, url


def audible_item(here, tmp_path, title: str) -> int:
    """A warning whose stored audio is a real 3 s MP3, so the browser's player can load it."""
    item_id = warning_item(here, title=title)
    with here["database"].sessions() as session:
        sha = session.scalar(select(NewsItem).where(NewsItem.id == item_id)).audio_asset.sha256
    store = AudioStore(here["app"].extensions["settings"].resolved_audio_dir)
    store.path_for(sha).write_bytes(tone(tmp_path / "warning.mp3", 3.0).read_bytes())
    return item_id


def test_find_a_commune_without_tone_marks_and_pick_a_coloured_risk_level(page, live):
    here, url = live
    warning_item(here, title="Cảnh báo sạt lở đất")
    page.add_init_script(LISTEN)
    log_in(page, url, "bientap")
    page.goto(url + "/emergencies")
    form = page.locator("form.emergency-request")
    tree = form.locator("[data-target-tree]")
    communes = tree.locator("li[data-node]:visible")
    everything = communes.count()
    form.get_by_label("Tìm địa bàn").fill("dong van")
    expect(tree.get_by_text("Xã Đồng Văn")).to_be_visible()
    assert 1 < communes.count() < everything  # the commune and the province above it
    assert tree.get_by_text("Phường Hà Giang 1").is_hidden()
    form.get_by_label("Tìm địa bàn").fill("không có xã này")
    expect(form.locator("[data-tree-search-result]")).to_have_text("Không có địa bàn nào có tên như vậy.")
    form.get_by_label("Tìm địa bàn").fill("")
    assert communes.count() == everything
    form.get_by_role("checkbox", name="Xã Đồng Văn").check()
    expect(form.locator("#place-summary")).to_have_text("Đã chọn: 1 xã, 1 đài")
    assert page.evaluate("window.__violations") == []
    for level, colour in COLOURS.items():
        choice = form.locator(f"label.risk-choice.risk-{level}")
        assert choice.evaluate("e => getComputedStyle(e).backgroundColor") == colour
    expect(form.locator("label.risk-choice.risk-5")).to_have_text("Cấp độ rủi ro 5: thảm họa thiên tai")
    form.get_by_role("radio", name="Cấp độ rủi ro 5: thảm họa thiên tai").check()
    form.get_by_role("button", name="Gửi đề nghị phát").click()
    page.wait_for_load_state()
    assert "Đã gửi đề nghị phát khẩn cấp" in page.locator("p.flash").inner_text()
    badge = page.locator("#emergency-live .badge.risk-5")
    expect(badge).to_have_text("Cấp độ rủi ro 5: thảm họa thiên tai")
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == COLOURS[5]
    assert "Xã Đồng Văn" in page.locator("dl.facts").inner_text()


def test_an_approver_on_a_phone_sees_the_banner_listens_and_watches_it_arrive(phone, live, tmp_path):
    here, url = live
    item_id = audible_item(here, tmp_path, "Lũ quét trên suối Miện")
    made = request(here, item_id)
    assert made.status_code == 201, made.json
    broadcast_id = made.json["id"]

    phone.add_init_script(LISTEN)  # records what the Content-Security-Policy blocks
    log_in(phone, url, "pheduyet")
    phone.goto(url + "/")
    banner = phone.locator("p.pending-banner")
    expect(banner).to_contain_text("Có 1 bản tin khẩn cấp đang chờ phê duyệt.")
    fits_the_screen(phone)
    screenshot(phone, "emergency-banner-phone.png")
    banner.get_by_role("link", name="Nghe và quyết định").click()
    phone.wait_for_load_state()
    phone.get_by_role("link", name="Lũ quét trên suối Miện").click()
    phone.wait_for_load_state()

    expect(phone.get_by_role("heading", name="Nghe trước khi phê duyệt")).to_be_visible()
    player = phone.locator("section.listen audio")
    # The browser loads the real file through the scoped audio route and knows its length.
    phone.wait_for_function("document.querySelector('section.listen audio').readyState >= 1")
    assert round(player.evaluate("a => a.duration")) == 3
    fits_the_screen(phone)
    screenshot(phone, "emergency-approve-phone.png")

    phone.get_by_role("button", name="Duyệt và phát ngay").click()
    phone.wait_for_load_state()
    assert "Đã phê duyệt: đã gửi tới 2 đài." in phone.locator("p.flash").inner_text()
    expect(phone.locator("p.pending-banner")).to_have_count(0)
    expect(phone.locator("[data-refresh-note]")).to_be_visible()
    rows = phone.locator("table.tracks tbody tr")
    expect(rows.nth(0)).to_contain_text("Đã gửi, chưa có trả lời")
    [command] = poll(here, "HG1-01")
    ack(here, "HG1-01", command["id"])
    # No reload: the page fetches its status and shows the station's answer.
    expect(rows.nth(0)).to_contain_text("Đã nhận", timeout=30_000)
    assert phone.url.endswith(f"/emergencies/{broadcast_id}")
    assert phone.evaluate("window.__violations") == []

    phone.get_by_role("link", name="Hủy phát…").click()
    phone.wait_for_load_state()
    expect(phone.get_by_role("heading", name="Hủy phát bản tin khẩn cấp?")).to_be_visible()
    expect(phone.locator("section.confirm-cancel")).to_contain_text("1 đài đã nhận bản tin sẽ ngừng phát")
    expect(phone.locator("section.confirm-cancel")).to_contain_text("1 đài chưa trả lời")
    fits_the_screen(phone)
    screenshot(phone, "emergency-cancel-phone.png")
    assert phone.evaluate("window.__violations") == []
    phone.get_by_role("link", name="Không, tiếp tục phát").click()
    phone.wait_for_load_state()
    expect(phone.locator("#emergency-live .badge.emergency-issued")).to_have_text("Đã gửi")

    phone.get_by_role("link", name="Hủy phát…").click()
    phone.get_by_label("Lý do").fill("Báo nhầm")
    phone.get_by_role("button", name="Đồng ý, hủy phát").click()
    phone.wait_for_load_state()
    expect(phone.locator("p.flash")).to_have_text("Đã hủy: các đài bỏ những lần phát còn lại.")
    expect(phone.locator("#emergency-live")).to_have_attribute("data-open", "0")
    expect(phone.locator("[data-refresh-note]")).to_have_count(0)


def test_the_status_page_reloads_when_someone_else_approves(page, live):
    here, url = live
    made = request(here, warning_item(here, title="Mưa lớn diện rộng"))
    broadcast_id = made.json["id"]
    log_in(page, url, "bientap")
    page.goto(f"{url}/emergencies/{broadcast_id}")
    expect(page.locator("#emergency-live .badge.emergency-pending")).to_have_text("Chờ phê duyệt")
    approved = here["api"].post(f"/api/v1/emergencies/{broadcast_id}/approve", headers=here["people"]["pheduyet"])
    assert approved.status_code == 200
    expect(page.locator("#emergency-live .badge.emergency-issued")).to_have_text("Đã gửi", timeout=30_000)
    expect(page.locator("table.tracks tbody tr")).to_have_count(2)
    assert re.search(r"/emergencies/\d+$", page.url)


def test_a_status_page_that_cannot_reach_the_server_says_so(page, live):
    # An approver on a phone in a flooded district loses the network: the page must not keep claiming it is up to
    # date while it shows stations' states from minutes ago.
    here, url = live
    made = request(here, warning_item(here, title="Lũ ống trên sông Lô"))
    broadcast_id = made.json["id"]
    assert here["api"].post(f"/api/v1/emergencies/{broadcast_id}/approve",
                            headers=here["people"]["pheduyet"]).status_code == 200
    log_in(page, url, "bientap")
    page.goto(f"{url}/emergencies/{broadcast_id}")
    note = page.locator("[data-refresh-note]")
    expect(note).to_have_text("Trang tự cập nhật sau mỗi vài giây.")
    page.route(re.compile(r".*/status$"), lambda route: route.abort("internetdisconnected"))
    expect(note).to_have_text(re.compile(r"^Không cập nhật được \(lần cuối lúc \d\d:\d\d:\d\d\); đang thử lại…$"),
                              timeout=30_000)
    assert "error" in note.get_attribute("class")

    page.unroute(re.compile(r".*/status$"))
    [command] = poll(here, "HG1-01")
    ack(here, "HG1-01", command["id"])
    expect(page.locator("table.tracks tbody tr").nth(0)).to_contain_text("Đã nhận", timeout=30_000)
    expect(note).to_have_text("Trang tự cập nhật sau mỗi vài giây.")
    # The resend button outside the live part follows the answers too: one station is left without one.
    expect(page.get_by_role("button", name="Gửi lại tới 1 đài chưa trả lời")).to_be_visible()
    [command] = poll(here, "HG1-02")
    ack(here, "HG1-02", command["id"])
    expect(page.locator("table.tracks tbody tr").nth(1)).to_contain_text("Đã nhận", timeout=30_000)
    expect(page.locator("form button", has_text="Gửi lại tới")).to_be_hidden()
