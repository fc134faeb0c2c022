"""People are shown by their full names wherever a page names one, and by their login only when they have none."""

from __future__ import annotations

from broadcast.db.models import User
from broadcast.services import users
from tests.conftest import csrf_from, log_in
from tests.integration.test_emergencies import NOW, warning_item, world  # noqa: F401 - the fixtures
from tests.integration.test_emergency_pages import LIST, act, page_of, request_by_form

EDITOR, APPROVER = "Biên tập viên tỉnh", "Lãnh đạo phê duyệt"  # the demo's full names of bientap and pheduyet


def test_an_emergency_names_who_requested_approved_and_cancelled_it(world, client):  # noqa: F811
    item_id = warning_item(world)
    log_in(client, "bientap")
    broadcast_url = request_by_form(client, item_id).headers["Location"]
    assert f"{EDITOR}" in page_of(client.get(LIST))
    client.get("/logout")
    log_in(client, "pheduyet")
    broadcast_id = int(broadcast_url.rsplit("/", 1)[1])
    assert act(client, broadcast_id, "approve").status_code == 303
    assert act(client, broadcast_id, "cancel", reason="Báo nhầm").status_code == 303
    detail = page_of(client.get(broadcast_url))
    for label, name in (("Người đề nghị", EDITOR), ("Người phê duyệt", APPROVER), ("Người kết thúc", APPROVER)):
        assert f"<dt>{label}</dt><dd>{name}" in detail, label
    assert ">bientap" not in detail and ">pheduyet" not in detail


def test_the_approvals_page_names_the_author_and_falls_back_to_the_login(world, client):  # noqa: F811
    item_id = warning_item(world, item_class="normal", audio=False, title="Tin có tên tác giả")
    api, people = world["api"], world["people"]
    assert api.post(f"/api/v1/items/{item_id}/submit", headers=people["bientap"]).status_code == 200
    log_in(client, "pheduyet")
    assert f"người viết: {EDITOR}" in page_of(client.get("/items/approvals"))

    with world["database"].sessions() as session:
        users.get_user(session, "bientap").full_name = ""  # no full name given: the login stands in
        session.commit()
    assert "người viết: bientap" in page_of(client.get("/items/approvals"))


def test_the_temporary_password_is_handed_to_the_person_by_name(world, client):  # noqa: F811
    log_in(client, "admin")
    with world["database"].sessions() as session:
        user_id = session.query(User.id).filter(User.username == "pheduyet").scalar()
    page = client.get(f"/users/{user_id}")
    reset = client.post(f"/users/{user_id}/password_reset", data={"csrf_token": csrf_from(page.data)},
                        follow_redirects=True)
    assert f"cho {APPROVER} trực tiếp" in page_of(reset)
