"""An editor requests an emergency broadcast and an approver sends it, in Chromium, on a desktop and a 360 px phone;
the page then shows each station's state as agents answer."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve
from tests.integration.test_emergencies import ack, poll, warning_item, world  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def live(world):  # noqa: F811
    with serve(world["app"]) as url:
        yield world, url


def test_request_then_approve_then_track(page, browser, live):
    here, url = live
    warning_item(here, title="Cảnh báo lũ quét khẩn cấp")
    log_in(page, url, "bientap")
    page.get_by_role("link", name="Khẩn cấp").click()
    page.wait_for_load_state()
    form = page.locator("form.emergency-request")
    form.get_by_label("Bản tin").select_option(label="Cảnh báo lũ quét khẩn cấp")
    form.get_by_label("Tìm địa bàn").fill("ha giang 1")
    form.get_by_role("checkbox", name="Phường Hà Giang 1").check()
    form.get_by_role("radio", name="Cấp độ rủi ro 4: rủi ro thiên tai rất lớn").check()
    form.get_by_label("Hiệu lực đến (giờ địa phương)").fill("2026-11-28T18:00")
    screenshot(page, "emergency-request.png")
    form.get_by_role("button", name="Gửi đề nghị phát").click()
    page.wait_for_load_state()
    assert "Đã gửi đề nghị phát khẩn cấp" in page.locator("p.flash").inner_text()
    detail_path = urlsplit(page.url).path
    assert page.get_by_role("button", name="Duyệt và phát ngay").count() == 0

    approver = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    phone = approver.new_page()
    try:
        log_in(phone, url, "pheduyet")
        phone.goto(url + detail_path)
        phone.get_by_role("button", name="Duyệt và phát ngay").click()
        phone.wait_for_load_state()
        assert "Đã phê duyệt: đã gửi tới 2 đài." in phone.locator("p.flash").inner_text()
        [command] = poll(here, "HG1-01")
        ack(here, "HG1-01", command["id"])
        phone.reload()
        rows = phone.locator("table.tracks tbody tr")
        assert rows.count() == 2
        assert "Đã nhận" in rows.nth(0).inner_text() and "Đã gửi, chưa có trả lời" in rows.nth(1).inner_text()
        fits_the_screen(phone)
        screenshot(phone, "emergency-phone.png")
    finally:
        approver.close()
