"""People's e-mail addresses (users.email) on SQLite and PostgreSQL: set by admins and editors through the API
and the account pages, by each person on their own account page, checked (malformed, too long, someone else's
whatever the letter case) with every problem in one answer, audited; and the emergency notice written to that
address, the page saying how many approvers were told and naming those who have no address."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from broadcast.db.engine import Database
from broadcast.db.models import AuditLog, Role, User
from broadcast.errors import Conflict
from broadcast.services import areas, user_email, users
from tests.conftest import csrf_from, log_in
from tests.integration.test_account_admin import Api, _id
from tests.integration.test_emergencies import warning_item, world  # noqa: F401 - the fixture
from tests.integration.test_emergency_pages import page_of, request_by_form
from tests.integration.test_emergency_stress import inbox, settings  # noqa: F401 - fixtures (the mail server)

BAD = "lanhdao@@ubnd"


def _email_of(app, username: str) -> str | None:
    with app.extensions["database"].sessions() as session:
        return session.scalar(select(User.email).where(User.username == username))


def _audit(app, action: str) -> list[AuditLog]:
    with app.extensions["database"].sessions() as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def _errors(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'class="error"[^>]*role="alert">([^<]*)<', html)]


def test_an_admin_sets_removes_and_is_refused_addresses_through_the_api(seeded):
    admin = Api(seeded, "admin")
    made = admin.send("POST", "/api/v1/users", json={"username": "pheduyet2", "role": "approver", "scope": "08",
                                                     "email": "  Lanh.Dao@UBND.TuyenQuang.example.vn "})
    assert made.status_code == 201, made.json
    assert made.json["user"]["email"] == "lanh.dao@ubnd.tuyenquang.example.vn"  # trimmed, lower case
    assert _audit(seeded, "user.create")[-1].details["email"] == "lanh.dao@ubnd.tuyenquang.example.vn"
    approver = _id(seeded, "pheduyet")

    changed = admin.send("PATCH", f"/api/v1/users/{approver}", json={"email": "pheduyet@tuyenquang.example.vn"})
    assert changed.status_code == 200 and changed.json["email"] == "pheduyet@tuyenquang.example.vn"
    entry = _audit(seeded, "user.update")[-1]
    assert entry.actor == "admin" and entry.details["email"] == [None, "pheduyet@tuyenquang.example.vn"]
    assert admin.get(f"/api/v1/users/{approver}").json["email"] == "pheduyet@tuyenquang.example.vn"

    # Someone else's address in other letters: 409, in Vietnamese, nothing changed.
    taken = admin.send("PATCH", f"/api/v1/users/{approver}", json={"email": "LANH.DAO@ubnd.tuyenquang.example.vn"})
    assert taken.status_code == 409
    assert taken.json["message"] == ("Địa chỉ e-mail lanh.dao@ubnd.tuyenquang.example.vn đã thuộc về một tài khoản "
                                     "khác.")
    for bad in (BAD, "ten@ubnd", "ten lanh@ubnd.vn", "ten@ubnd.vn,khac@ubnd.vn", "a" * 250 + "@ubnd.vn"):
        refused = admin.send("PATCH", f"/api/v1/users/{approver}", json={"email": bad})
        assert refused.status_code == 422, bad
        assert "email" in refused.json["errors"] and "e-mail" in refused.json["message"], refused.json
    assert _email_of(seeded, "pheduyet") == "pheduyet@tuyenquang.example.vn"

    # Several problems: one answer names them all, and no account is made.
    before = len(admin.get("/api/v1/users").json)
    refused = admin.send("POST", "/api/v1/users", json={"username": "pheduyet", "role": "approver",
                                                        "email": BAD})
    assert refused.status_code == 422 and set(refused.json["errors"]) == {"username", "scope", "email"}
    duplicate = admin.send("POST", "/api/v1/users", json={"username": "pheduyet3", "role": "approver",
                                                          "scope": "08", "email": "PHEDUYET@tuyenquang.example.vn"})
    assert duplicate.status_code == 409 and "đã thuộc về" in duplicate.json["message"]
    assert len(admin.get("/api/v1/users").json) == before

    removed = admin.send("PATCH", f"/api/v1/users/{approver}", json={"email": ""})
    assert removed.status_code == 200 and removed.json["email"] is None
    assert _audit(seeded, "user.update")[-1].details["email"] == ["pheduyet@tuyenquang.example.vn", None]
    # The address freed is free again.
    again = admin.send("PATCH", f"/api/v1/users/{_id(seeded, 'vanhanh')}",
                       json={"email": "pheduyet@tuyenquang.example.vn"})
    assert again.status_code == 200


def test_an_editor_sets_their_operators_address_but_not_an_approvers(seeded):
    editor = Api(seeded, "bientap")
    done = editor.send("PATCH", f"/api/v1/users/{_id(seeded, 'vanhanh')}", json={"email": "vanhanh@xa.example.vn"})
    assert done.status_code == 200 and _email_of(seeded, "vanhanh") == "vanhanh@xa.example.vn"
    refused = editor.send("PATCH", f"/api/v1/users/{_id(seeded, 'pheduyet')}", json={"email": "x@xa.example.vn"})
    assert refused.status_code == 404 and _email_of(seeded, "pheduyet") is None


def test_the_account_pages_set_an_address_and_show_every_error_at_once(seeded, client):
    log_in(client, "admin")
    approver = _id(seeded, "pheduyet")
    page = client.get(f"/users/{approver}")
    assert "Địa chỉ e-mail" in page_of(page) and 'type="email"' in page_of(page)
    form = {"csrf_token": csrf_from(page.data), "full_name": "x" * 201, "email": BAD, "role": "approver",
            "scope": "08"}
    refused = client.post(f"/users/{approver}", data=form)
    assert refused.status_code == 422
    errors = _errors(page_of(refused))
    assert f"{BAD} không phải là địa chỉ e-mail: hãy viết dạng ten@ubnd.example.vn." in errors
    assert len(errors) == 2  # the name's length too
    assert _email_of(seeded, "pheduyet") is None

    saved = client.post(f"/users/{approver}", data={**form, "full_name": "Lãnh đạo phê duyệt",
                                                    "email": "PheDuyet@TuyenQuang.example.vn"})
    assert saved.status_code == 303
    shown = page_of(client.get(f"/users/{approver}"))
    assert "pheduyet@tuyenquang.example.vn" in shown and "Đã lưu" in shown
    assert re.search(r'data-label="Địa chỉ e-mail">pheduyet@tuyenquang\.example\.vn<', page_of(client.get("/users")))

    # A new account with a taken address and a missing username (the form's own check): both in one answer.
    listed = client.get("/users")
    made = client.post("/users", data={"csrf_token": csrf_from(listed.data), "username": "", "full_name": "",
                                       "email": "PHEDUYET@tuyenquang.example.vn", "role": "operator",
                                       "scope": "00694"})
    assert made.status_code == 422
    assert _errors(page_of(made)) == [
        "Nhập tên đăng nhập.", "Địa chỉ e-mail pheduyet@tuyenquang.example.vn đã thuộc về một tài khoản khác."]
    # The service's checks together: a taken login, a malformed address, no area for an operator.
    made = client.post("/users", data={"csrf_token": csrf_from(listed.data), "username": "PheDuyet",
                                       "full_name": "", "email": BAD, "role": "operator", "scope": ""})
    assert made.status_code == 422 and len(_errors(page_of(made))) == 3, _errors(page_of(made))
    with seeded.extensions["database"].sessions() as session:
        assert session.scalar(select(User).where(User.email == "pheduyet@tuyenquang.example.vn")).username == \
            "pheduyet"
        assert len(session.scalars(select(User)).all()) == 4


def test_each_person_sets_their_own_address_on_their_account_page(seeded, client):
    with seeded.extensions["database"].sessions() as session:
        users.get_user(session, "bientap").email = "bientap@tuyenquang.example.vn"
        session.commit()
    log_in(client, "pheduyet")
    page = client.get("/account")
    assert "Chưa có" in page_of(page) and "Lưu địa chỉ" in page_of(page)
    token = csrf_from(page.data)

    for bad, said in [(BAD, f"{BAD} không phải là địa chỉ e-mail"),
                      ("BienTap@tuyenquang.example.vn", "đã thuộc về một tài khoản khác"),
                      ("a" * 250 + "@ubnd.vn", "dài tối đa 254 ký tự")]:
        refused = client.post("/account/email", data={"csrf_token": token, "email": bad})
        assert refused.status_code == 422
        assert any(said in e for e in _errors(page_of(refused))), (bad, _errors(page_of(refused)))
    assert _email_of(seeded, "pheduyet") is None

    saved = client.post("/account/email", data={"csrf_token": token, "email": "PheDuyet@tuyenquang.example.vn"},
                        follow_redirects=True)
    assert "Đã lưu địa chỉ e-mail của bạn." in page_of(saved) and "pheduyet@tuyenquang.example.vn" in page_of(saved)
    entry = _audit(seeded, "user.update")[-1]
    assert entry.actor == "pheduyet" and entry.details["email"] == [None, "pheduyet@tuyenquang.example.vn"]

    removed = client.post("/account/email", data={"csrf_token": token, "email": " "}, follow_redirects=True)
    assert "Đã xóa địa chỉ e-mail của bạn." in page_of(removed) and _email_of(seeded, "pheduyet") is None


def test_the_notice_goes_to_the_column_address_and_the_page_names_who_was_not_told(world, client, inbox):  # noqa: F811
    database = world["database"]
    with database.sessions() as session:
        users.get_user(session, "pheduyet").email = "LanhDao.Tinh@tuyenquang.example.vn".lower()
        commune = areas.find_area(session, "00694")
        # An older installation's approver whose login is the address: still written to.
        users.create_user(session, username="lanhdao.hg1@ubnd.example.vn", password="Canh-bao-lu-quet-2026",
                          role=Role.APPROVER, scope_area=commune, full_name="Lãnh đạo phường Hà Giang 1")
        users.create_user(session, username="phochutich.hg1", password="Canh-bao-lu-quet-2026",
                          role=Role.APPROVER, scope_area=commune, full_name="Phó chủ tịch phường Hà Giang 1")
        session.commit()
    item_id = warning_item(world, title="Sạt lở đất tại phường Hà Giang 1")
    log_in(client, "bientap")
    made = request_by_form(client, item_id)
    assert made.status_code == 302
    broadcast_id = int(made.headers["Location"].rsplit("/", 1)[1])

    assert inbox.arrived.wait(60), "no e-mail arrived"
    [(_sender, recipients, _text)] = inbox.messages
    assert sorted(recipients) == ["lanhdao.hg1@ubnd.example.vn", "lanhdao.tinh@tuyenquang.example.vn"]

    page = re.sub(r"\s+", " ", page_of(client.get(f"/emergencies/{broadcast_id}")))
    assert "E-mail cho người phê duyệt" in page and "Đã gửi tới 2 người phê duyệt." in page
    assert "Không được gửi vì chưa có địa chỉ e-mail: Phó chủ tịch phường Hà Giang 1." in page
    [entry] = [e for e in _audit(world["app"], "emergency.notice") if e.entity_id == str(broadcast_id)]
    assert entry.details == {"written": 2, "without_address": ["Phó chủ tịch phường Hà Giang 1"]}


def test_nobody_with_an_address_is_said_plainly(world, client, inbox):  # noqa: F811
    item_id = warning_item(world)
    log_in(client, "bientap")
    made = request_by_form(client, item_id)
    broadcast_id = int(made.headers["Location"].rsplit("/", 1)[1])
    page = re.sub(r"\s+", " ", page_of(client.get(f"/emergencies/{broadcast_id}")))
    assert "Chưa gửi cho người phê duyệt nào." in page
    assert "Không được gửi vì chưa có địa chỉ e-mail: Lãnh đạo phê duyệt." in page
    assert inbox.messages == []


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank_url(request, tmp_path):
    """The address of a database with nothing in it (not even the schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    server = make_url(request.getfixturevalue("postgres_server_url"))
    name = f"{server.database}_email"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _migrate(database: Database, revision: str, *, down: bool = False) -> None:
    config = database.alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _add_user(connection, username: str, email: str | None = None) -> None:
    columns = "username, full_name, password_hash, role, active, created_at, updated_at"
    values = ":username, '', 'x', 'admin', :yes, :now, :now"
    if email is not None:
        columns, values = f"{columns}, email", f"{values}, :email"
    connection.execute(text(f"INSERT INTO users ({columns}) VALUES ({values})"),  # noqa: S608 - fixed names
                       {"username": username, "email": email, "yes": True, "now": datetime.now(UTC)})


def test_the_migration_adds_an_empty_unique_address_to_existing_accounts(blank_url):
    database = Database(blank_url)
    try:
        _migrate(database, "0016")
        with database.engine.begin() as connection:
            _add_user(connection, "lanhdao@ubnd.example.vn")
            _add_user(connection, "pheduyet")
        _migrate(database, "0017")
        with database.engine.begin() as connection:
            assert connection.execute(text("SELECT username, email FROM users ORDER BY username")).all() == [
                ("lanhdao@ubnd.example.vn", None), ("pheduyet", None)]  # the login stays the fallback
            _add_user(connection, "bientap", "bientap@tuyenquang.example.vn")
        with pytest.raises(IntegrityError), database.engine.begin() as connection:
            _add_user(connection, "bientap2", "bientap@tuyenquang.example.vn")
        _migrate(database, "0016", down=True)
        with database.engine.connect() as connection:
            assert "email" not in {c["name"] for c in inspect(connection).get_columns("users")}
        _migrate(database, "head")
        assert database.current_revision() == database.head_revision()
    finally:
        database.dispose()


def test_an_address_taken_between_the_check_and_the_commit_is_refused_the_same_way(seeded):
    database = seeded.extensions["database"]
    with seeded.app_context(), database.sessions() as first, database.sessions() as second:
        changes = user_email.change(first, users.get_user(first, "pheduyet"), "chung@tuyenquang.example.vn")
        users.get_user(second, "bientap").email = "chung@tuyenquang.example.vn"
        second.commit()
        with pytest.raises(Conflict) as refused:
            user_email.commit(first, changes)
        assert refused.value.field == "email" and "chung@tuyenquang.example.vn" in str(refused.value.message)
    assert _email_of(seeded, "pheduyet") is None and _email_of(seeded, "bientap") == "chung@tuyenquang.example.vn"


def test_a_person_sets_their_own_address_through_the_api(seeded):
    approver = Api(seeded, "pheduyet")
    done = approver.send("PATCH", "/api/v1/account", json={"email": "PheDuyet@TuyenQuang.example.vn"})
    assert done.status_code == 200 and done.json["email"] == "pheduyet@tuyenquang.example.vn"
    assert _audit(seeded, "user.update")[-1].actor == "pheduyet"
    refused = Api(seeded, "bientap").send("PATCH", "/api/v1/account", json={"email": "pheduyet@tuyenquang.example.vn"})
    assert refused.status_code == 409 and "đã thuộc về một tài khoản khác" in refused.json["message"]
    bad = approver.send("PATCH", "/api/v1/account", json={"email": BAD})
    assert bad.status_code == 422 and "email" in bad.json["errors"]
    assert approver.send("PATCH", "/api/v1/account", json={}).status_code == 422  # say it, even if null
    removed = approver.send("PATCH", "/api/v1/account", json={"email": None})
    assert removed.status_code == 200 and removed.json["email"] is None
