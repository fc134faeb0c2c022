"""A form sent with several wrong fields comes back once with every message next to its field, in Chromium, in
Vietnamese: the placement page on a desktop, the emergency request on a 360 px phone.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve
from tests.integration.test_emergencies import warning_item
from tests.integration.test_emergencies import world as emergency_world  # noqa: F401 - the fixture
from tests.integration.test_placement_pages import NOW, approved_item, morning_slot

pytestmark = pytest.mark.browser


@pytest.fixture
def placing(seeded):
    seeded.extensions["clock"] = lambda: NOW
    morning_slot(seeded)
    item = approved_item(seeded, "Lịch tiêm phòng")
    with serve(seeded) as url:
        yield url, item


def test_the_placement_page_shows_every_wrong_field_in_one_answer(page, placing):
    url, item = placing
    log_in(page, url, "bientap")
    page.goto(f"{url}/items/{item}/place")
    page.select_option("#slot", label="06:00 · Buổi sáng (10 phút)")
    page.fill("#date_from", "2026-11-27")  # the day before "today" (28/11)
    page.fill("#date_until", "2026-11-29")
    page.fill("#repeat_gap_s", "99999")  # over 3 hours; and no area ticked
    with page.expect_navigation():
        page.locator(".item-buttons").get_by_role("button", name="Xếp lịch phát").click()

    assert page.locator("#date_from-error").inner_text().strip() == \
        "Lịch phát không thể bắt đầu trong quá khứ (27/11/2026)."
    assert page.locator("#repeat_gap_s-error").inner_text().strip() == \
        "Khoảng cách giữa các lần phát lại từ 0 đến 3 giờ."
    assert page.locator("#targets-error").inner_text().strip() == \
        "Hãy chọn ít nhất một địa bàn hoặc một đài để phát tin."
    for field in ("date_from", "repeat_gap_s"):
        assert page.locator(f"#{field}").get_attribute("aria-invalid") == "true"
    assert page.locator("#date_from").input_value() == "2026-11-27"  # what was typed stays
    screenshot(page, "all-errors-placement.png")


@pytest.fixture
def requesting(emergency_world):  # noqa: F811
    item = warning_item(emergency_world)
    with serve(emergency_world["app"]) as url:
        yield url, item


def test_on_a_phone_the_emergency_request_shows_every_wrong_field(phone, requesting):
    url, item = requesting
    log_in(phone, url, "bientap")
    phone.goto(f"{url}/emergencies")
    phone.locator("#item_id").select_option(str(item))
    phone.locator("#expires_at").fill("2026-11-27T08:00")  # already past; and no area ticked
    with phone.expect_navigation():
        phone.get_by_role("button", name="Gửi đề nghị phát").click()

    assert phone.locator("#targets-error").inner_text().strip() == "Hãy chọn ít nhất một địa bàn cần cảnh báo."
    assert phone.locator("#expires_at-error").inner_text().strip() == "Thời điểm hết hiệu lực đã qua."
    assert phone.locator("#expires_at").get_attribute("aria-invalid") == "true"
    fits_the_screen(phone)
    screenshot(phone, "all-errors-emergency-phone.png")
