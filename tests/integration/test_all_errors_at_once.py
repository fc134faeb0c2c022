"""A form or an API call with several wrong fields is refused once, naming every one of them.

People fix a form in one go: the answer puts each message next to its field, the form's own checks (a missing
or unreadable value) and the service's (a day in the past, no area chosen) together.
"""

from __future__ import annotations

import html
import re

from tests.conftest import csrf_from, log_in
from tests.integration.test_api import _login as _api_login
from tests.integration.test_api_schedule import MORNING, api  # noqa: F401 - the fixture
from tests.integration.test_emergencies import warning_item, world  # noqa: F401 - the fixture
from tests.integration.test_emergency_pages import LIST, request_by_form
from tests.integration.test_placement_pages import count_placements, fields, page_of, place, ready  # noqa: F401


def error_of(page: str, field: str) -> str | None:
    """The message shown under a field (both markups: the placement page's and the _fields.html macro's)."""
    found = re.search(rf'id="{field}-error"[^>]*>(?:<p class="error" role="alert">)?([^<]+)<', page)
    return html.unescape(found.group(1)).strip() if found else None


def test_the_placement_page_names_every_wrong_field_at_once(ready, client):  # noqa: F811
    app, item, slot = ready["app"], ready["item"], ready["slot"]
    log_in(client, "bientap")
    # Unreadable repeats (the form's check), a first day in the past and no area (the service's checks).
    response = place(client, item, **fields(slot, date_from="2026-11-27", repeat_count="hai"))
    page = page_of(response)
    assert response.status_code == 400
    assert error_of(page, "repeat_count") == "Hãy nhập một số nguyên."
    assert error_of(page, "date_from") == "Lịch phát không thể bắt đầu trong quá khứ (27/11/2026)."
    assert error_of(page, "targets") == "Hãy chọn ít nhất một địa bàn hoặc một đài để phát tin."

    # All readable, all refused by the service: still one answer with each.
    response = place(client, item, **fields(slot, date_from="2026-11-27", date_until="2026-11-26",
                                            repeat_gap_s="99999"))
    page = page_of(response)
    assert error_of(page, "date_from") == "Lịch phát không thể bắt đầu trong quá khứ (27/11/2026)."
    assert error_of(page, "date_until") is not None and error_of(page, "repeat_gap_s") is not None
    assert error_of(page, "targets") is not None
    assert count_placements(app) == 0


def test_the_api_names_every_wrong_field_of_a_slot_and_a_station(api):  # noqa: F811
    client, headers, _ = api
    bad_slot = {**MORNING, "name": " ", "duration_s": 5, "rrule": "EVERY DAY", "gap_ms": 90_000}
    answer = client.post("/api/v1/slots", json=bad_slot, headers=headers["bientap"])
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == {"name", "duration_s", "rrule", "gap_ms"}, answer.json

    token = _api_login(client, "admin")
    answer = client.post("/api/v1/stations", headers={"X-CSRFToken": token}, json={
        "code": "H G", "commune": "00694", "delivery_modes": ["sftp-push"], "ssh_port": 70000})
    assert answer.status_code == 422
    assert set(answer.json["errors"]) >= {"code", "ssh_host", "ssh_port"}, answer.json


def test_the_emergency_form_names_every_wrong_field(world, client):  # noqa: F811
    item_id = warning_item(world)
    log_in(client, "bientap")
    # No area ticked (the form's check) and an expiry already past (the service's).
    page = page_of(request_by_form(client, item_id, targets=[], expires_at="2026-11-27T08:00"))
    assert error_of(page, "targets") == "Hãy chọn ít nhất một địa bàn cần cảnh báo."
    assert error_of(page, "expires_at") is not None
    page = page_of(client.get(LIST))
    assert "expires_at-error" not in page  # nothing was kept from the refused request


def test_the_account_form_names_a_taken_login_and_a_missing_area_together(client):
    log_in(client, "admin")
    token = csrf_from(client.get("/users").data)
    answer = client.post("/users", data={"csrf_token": token, "username": "bientap", "role": "editor",
                                         "scope": "", "full_name": ""})
    page = page_of(answer)
    assert answer.status_code == 422
    assert error_of(page, "username") == "Tên đăng nhập bientap đã được dùng."
    assert error_of(page, "scope") is not None


def test_the_item_form_names_a_missing_title_and_a_missing_text_together(client):
    log_in(client, "bientap")
    token = csrf_from(client.get("/items/new").data)
    answer = client.post("/items/new", data={"csrf_token": token, "title": " ", "body": "", "item_class": "normal",
                                             "language": "vi", "content_source": "speech"})
    page = page_of(answer)
    assert answer.status_code == 422
    assert error_of(page, "title") == "Hãy đặt tiêu đề cho tin."
    assert error_of(page, "body") == "Hãy nhập nội dung cần đọc."


def test_the_api_says_what_its_schema_refuses_in_vietnamese(api):  # noqa: F811
    client, headers, _ = api
    answer = client.post("/api/v1/slots", headers=headers["bientap"],
                         json={"area": "08", "start_time": "06:00", "duration_s": "long", "rrule": 5})
    assert answer.status_code == 422
    errors = answer.json["errors"]
    assert errors["name"] == ["Trường này bắt buộc."]
    assert errors["duration_s"] == ["Không phải là số nguyên."]
    assert errors["rrule"] == ["Hãy nhập chữ vào đây."]
    english = client.post("/api/v1/slots?lang=en", headers=headers["bientap"], json={"area": "08"}).json["errors"]
    assert english["name"] == ["This field is required."]
