"""An admin gives an approver an e-mail address on a 360 px phone, in Vietnamese: a malformed one is refused next to
its field, a good one is saved and shown (and the page stays within the screen)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import fits_the_screen, log_in, screenshot, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def live_url(seeded) -> str:
    with serve(seeded) as url:
        yield url


def test_an_admin_sets_an_approvers_address_on_a_phone(phone, live_url):
    log_in(phone, live_url, "admin")
    phone.goto(f"{live_url}/users")
    phone.get_by_role("link", name="pheduyet", exact=True).click()
    assert urlsplit(phone.url).path.startswith("/users/")
    field = phone.get_by_label("Địa chỉ e-mail")
    assert field.get_attribute("type") == "email"  # the phone's keyboard with @

    field.fill("lanhdao@@tuyenquang")
    phone.get_by_role("button", name="Lưu", exact=True).click()
    alert = phone.get_by_role("alert").filter(has_text="không phải là địa chỉ e-mail")
    assert alert.inner_text().strip() == ("lanhdao@@tuyenquang không phải là địa chỉ e-mail: "
                                          "hãy viết dạng ten@ubnd.example.vn.")
    assert phone.get_by_label("Địa chỉ e-mail").get_attribute("aria-invalid") == "true"
    fits_the_screen(phone)
    screenshot(phone, "user-email-refused-phone.png")

    phone.get_by_label("Địa chỉ e-mail").fill("LanhDao@TuyenQuang.example.vn")
    phone.get_by_role("button", name="Lưu", exact=True).click()
    phone.wait_for_load_state()
    assert phone.get_by_text("Đã lưu.").is_visible()
    facts = phone.locator("dl.facts")
    assert "lanhdao@tuyenquang.example.vn" in facts.inner_text()
    assert phone.get_by_label("Địa chỉ e-mail").input_value() == "lanhdao@tuyenquang.example.vn"
    fits_the_screen(phone)
    screenshot(phone, "user-email-saved-phone.png")

    # The list shows who has an address (an approver without one is not told of a waiting emergency).
    phone.get_by_role("link", name="Tài khoản", exact=True).first.click()
    row = phone.locator("table.accounts tr", has_text="pheduyet")
    assert row.get_by_text("lanhdao@tuyenquang.example.vn").is_visible()
    fits_the_screen(phone)
