"""Passwords: the policy on creating accounts and on changing one's own password, by page and by API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broadcast.db.models import AuditLog, Role
from broadcast.errors import InvalidInput
from broadcast.services import areas, password_policy, users
from tests.conftest import DEMO_PASSWORD, csrf_from, log_in

NEW = "mua-lua-chiem-2026"


def test_the_demo_password_passes_the_policy():
    password_policy.check(DEMO_PASSWORD, username="pheduyet")


@pytest.mark.parametrize(("password", "says"), [
    ("ngan-qua", "ít nhất 10 ký tự"),
    ("1q2w3e4r5t", "phổ biến"),
    ("Password12", "phổ biến"),
])
def test_an_account_is_not_created_with_a_weak_password(seeded, password, says):
    with seeded.test_request_context("/"), seeded.extensions["database"].sessions() as session:
        with pytest.raises(InvalidInput) as caught:
            users.create_user(session, username="moi", password=password, role=Role.OPERATOR,
                              scope_area=areas.find_area(session, "00694"))
        assert caught.value.field == "password" and says in str(caught.value.message)


def _api_login(client, username="vanhanh", password=DEMO_PASSWORD):
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return response


@pytest.mark.parametrize(("body", "field", "says"), [
    ({"current_password": "not-it-at-all", "new_password": NEW}, "current_password", "không đúng"),
    ({"current_password": DEMO_PASSWORD, "new_password": "qwertyuiop"}, "new_password", "phổ biến"),
    ({"current_password": DEMO_PASSWORD, "new_password": "short"}, "new_password", "ít nhất 10"),
    ({"current_password": DEMO_PASSWORD, "new_password": "vanhanh-mới-2026"}, "new_password", "tên đăng nhập"),
    ({"current_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD}, "new_password", "khác mật khẩu"),
])
def test_a_weak_or_unproven_change_is_refused_in_vietnamese(seeded, body, field, says):
    client = seeded.test_client()
    csrf = _api_login(client).json["csrf_token"]
    response = client.post("/api/v1/auth/password", json=body, headers={"X-CSRFToken": csrf})
    assert response.status_code == 422, response.json
    assert says in response.json["errors"][field][0]
    assert _api_login(seeded.test_client()).status_code == 200  # the old password still works


def test_changing_the_password_by_api_keeps_this_session_and_ends_the_others(seeded):
    client, other = seeded.test_client(), seeded.test_client()
    csrf = _api_login(client).json["csrf_token"]
    _api_login(other)
    response = client.post("/api/v1/auth/password", json={"current_password": DEMO_PASSWORD, "new_password": NEW},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 200
    assert other.get("/api/v1/auth/me").status_code == 401
    assert _api_login(seeded.test_client()).status_code == 401
    assert _api_login(seeded.test_client(), password=NEW).status_code == 200
    with seeded.extensions["database"].sessions() as session:
        assert session.scalar(select(AuditLog.actor).where(AuditLog.action == "user.password")) == "vanhanh"


def test_changing_the_password_by_token_keeps_the_token(seeded):
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        token = {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, "vanhanh"), "t")}
    client = seeded.test_client()
    response = client.post("/api/v1/auth/password", json={"current_password": DEMO_PASSWORD, "new_password": NEW},
                           headers=token)
    assert response.status_code == 204 and "Set-Cookie" not in response.headers
    assert client.get("/api/v1/auth/me", headers=token).status_code == 200


def test_changing_the_password_on_its_page(client):
    log_in(client, "vanhanh")
    page = client.get("/account/password")
    assert page.status_code == 200 and "Đổi mật khẩu" in page.text
    form = {"csrf_token": csrf_from(page.data), "current_password": DEMO_PASSWORD}
    refused = client.post("/account/password", data={**form, "new_password": "iloveyou12", "repeat": "iloveyou12"})
    assert refused.status_code == 422 and "phổ biến" in refused.text and 'aria-invalid="true"' in refused.text
    mismatch = client.post("/account/password", data={**form, "new_password": NEW, "repeat": NEW + "x"})
    assert mismatch.status_code == 422 and "không khớp" in mismatch.text
    done = client.post("/account/password", data={**form, "new_password": NEW, "repeat": NEW})
    assert done.status_code == 303
    assert "Đã đổi mật khẩu" in client.get("/").text
    assert log_in(client.application.test_client(), "vanhanh", NEW).status_code == 302
