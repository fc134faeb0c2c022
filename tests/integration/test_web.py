"""The HTML pages: login, dashboard in scope, language, CSRF and escaping."""

from __future__ import annotations

from datetime import UTC, datetime

from broadcast.db.models import Station
from tests.conftest import DEMO_PASSWORD, csrf_from, log_in


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_login_page_is_vietnamese_first(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Đăng nhập" in page and "Tên đăng nhập" in page


def test_wrong_password_shows_a_clear_message(client):
    response = log_in(client, "bientap", "wrong-password")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.get_data(as_text=True)


def test_empty_fields_are_named(client):
    response = log_in(client, "", "")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Hãy nhập tên đăng nhập." in page and "Hãy nhập mật khẩu." in page


def test_login_form_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "bientap", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def test_operator_sees_only_the_communes_stations(client):
    assert log_in(client, "vanhanh").status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "HG1-01" in page and "HG1-02" in page
    assert "HG2-01" not in page and "DV-01" not in page
    assert "Vận hành viên xã" in page


def test_editor_drills_down_the_area_tree(client):
    log_in(client, "bientap")
    page = client.get("/").get_data(as_text=True)
    assert "Tỉnh Tuyên Quang" in page and all(code in page for code in ("HG1-01", "HG2-01", "DV-01"))


def test_another_area_is_forbidden_in_vietnamese(seeded, client):
    log_in(client, "vanhanh")
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        from broadcast.services import areas

        other = areas.find_area(session, "00691").id
    response = client.get(f"/?area={other}")
    assert response.status_code == 403
    assert "nằm ngoài địa bàn của bạn" in response.get_data(as_text=True)


def test_next_parameter_cannot_leave_the_site(client):
    token = csrf_from(client.get("/login").data)
    response = client.post("/login?next=//evil.example/x",
                           data={"username": "bientap", "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_user_text_is_escaped_and_times_are_local(seeded, client):
    with seeded.app_context(), seeded.extensions["database"].sessions() as session:
        station = session.query(Station).filter_by(code="HG1-01").one()
        station.name = "<script>alert(1)</script>"
        station.last_contact_at = datetime(2026, 11, 28, 3, 5, tzinfo=UTC)
        session.commit()
    log_in(client, "vanhanh")
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "28/11/2026 10:05" in page  # 03:05 UTC is 10:05 in Hà Giang


def test_english_is_available(client):
    log_in(client, "bientap")
    response = client.get("/lang/en?next=/")
    assert response.status_code == 302 and "lang=en" in response.headers["Set-Cookie"]
    page = client.get("/").get_data(as_text=True)
    assert "Dashboard" in page and "Station list" in page and '<html lang="en">' in page


def test_logout_needs_post_with_csrf(client):
    log_in(client, "bientap")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    token = csrf_from(client.get("/").data)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_a_guessing_address_is_told_when_to_retry(client):
    for _ in range(5):
        assert log_in(client, "vanhanh", "wrong-password").status_code == 401
    response = log_in(client, "vanhanh")  # the address guessing this account waits, even with the right password
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "Có quá nhiều lần đăng nhập" in response.get_data(as_text=True)
