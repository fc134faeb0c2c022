"""The activity log page (/audit) and its CSV file: administrators read who did what and when, in Vietnamese,
filtered by person, kind of work and local days; an administrator of an area reads only its people's work."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broadcast.db.models import AuditLog, Role
from broadcast.services import areas, users
from broadcast.services.audit import record
from tests.conftest import DEMO_PASSWORD, log_in


def signed_in(app, username: str):
    client = app.test_client()
    log_in(client, username)
    return client


def bearer(app, username: str) -> dict:
    with app.extensions["database"].sessions() as session:
        return {"Authorization": "Bearer " + users.issue_api_token(session, users.get_user(session, username), "t")}


@pytest.fixture
def worked(seeded):
    """An editor writes a bulletin and an approver approves it, through the API."""
    api = seeded.test_client()
    editor, approver = bearer(seeded, "bientap"), bearer(seeded, "pheduyet")
    item = api.post("/api/v1/items", json={"title": "Lịch tiêm chủng", "body": "Một hai ba."}, headers=editor).json
    assert api.post(f"/api/v1/items/{item['id']}/submit", headers=editor).status_code == 200
    assert api.post(f"/api/v1/items/{item['id']}/approve", headers=approver).status_code == 200
    return item


def entries(page: str) -> list[tuple[str, str]]:
    """(action code, person) of each row, in order."""
    return re.findall(r'<tr class="audit-entry" data-action="([^"]+)">\s*<td[^>]*>[^<]*</td>\s*'
                      r'<td data-label="[^"]+">([^<]*)</td>', page)


def test_an_administrator_reads_who_did_what_newest_first_in_vietnamese(seeded, worked):
    admin = signed_in(seeded, "admin")
    page = admin.get("/audit").get_data(as_text=True)
    assert "<h1>Nhật ký hoạt động</h1>" in page and 'href="/audit" aria-current="page"' in page
    found = entries(page)
    mine = [e for e in found if e[0].startswith("item.")]
    assert mine == [("item.approve", "Lãnh đạo phê duyệt"), ("item.submit", "Biên tập viên tỉnh"),
                    ("item.create", "Biên tập viên tỉnh")]
    assert found[0] == ("user.login", "Quản trị hệ thống")  # the administrator's own login, last of all
    assert "<td data-label=\"Hành động\">Phê duyệt bản tin</td>" in page
    assert f'<a href="/items/{worked["id"]}">Bản tin {worked["id"]}</a>' in page
    assert re.search(r'<td data-label="Thời gian" class="audit-time">\d\d/\d\d/\d{4} \d\d:\d\d:\d\d</td>', page)
    assert "<code>from=submitted; to=approved</code>" in page


def test_the_log_is_filtered_by_person_kind_of_work_and_local_days(seeded, worked):
    admin = signed_in(seeded, "admin")
    assert {a for a, _ in entries(admin.get("/audit?group=items").get_data(as_text=True))} == {
        "item.create", "item.submit", "item.approve"}
    assert entries(admin.get("/audit?who=ph%C3%AA+duy%E1%BB%87t").get_data(as_text=True)) == [
        ("item.approve", "Lãnh đạo phê duyệt"), ("user.token", "Lãnh đạo phê duyệt")]  # by part of the full name
    assert [a for a, _ in entries(admin.get("/audit?who=pheduyet&group=items").get_data(as_text=True))] == [
        "item.approve"]
    # Local days: an entry at 23:30 UTC on 1 December is on 2 December in Vietnam (UTC+7).
    with seeded.extensions["database"].sessions() as session:
        late = record(session, "cli", "areas.load", "area", "08", {"note": "test"})
        late.at = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
        session.commit()
    on_the_2nd = admin.get("/audit?from=2026-12-02&until=2026-12-02").get_data(as_text=True)
    assert entries(on_the_2nd) == [("areas.load", "Hệ thống (cli)")]
    assert "06:30:00" in on_the_2nd and "02/12/2026" in on_the_2nd
    assert entries(admin.get("/audit?from=2026-12-01&until=2026-12-01").get_data(as_text=True)) == []
    nothing = admin.get("/audit?who=kh%C3%B4ng-ai").get_data(as_text=True)
    assert "Không có mục nào khớp." in nothing
    # A wildcard typed is a letter, not a pattern.
    assert entries(admin.get("/audit?who=%25").get_data(as_text=True)) == []


def test_the_log_pages_fifty_at_a_time(seeded):
    with seeded.extensions["database"].sessions() as session:
        for n in range(60):
            entry = record(session, "cli", "areas.load", "area", str(n))
            entry.at = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n)
        session.commit()
    admin = signed_in(seeded, "admin")
    first = admin.get("/audit?group=areas").get_data(as_text=True)
    assert len(entries(first)) == 50 and 'href="/audit?group=areas&amp;page=2" rel="next"' in first
    second = admin.get("/audit?group=areas&page=2").get_data(as_text=True)
    assert len(entries(second)) >= 10 and 'rel="prev"' in second


def test_an_administrator_of_an_area_reads_only_the_work_of_its_people(seeded, worked):
    with seeded.extensions["database"].sessions() as session:
        users.create_user(session, username="qttinh", password=DEMO_PASSWORD, role=Role.ADMIN,
                          full_name="Quản trị tỉnh", scope_area=areas.find_area(session, "08"))
        record(session, "cli", "areas.load", "area", "08")
        session.commit()
    page = signed_in(seeded, "qttinh").get("/audit").get_data(as_text=True)
    people = {person for _, person in entries(page)}
    assert {"Biên tập viên tỉnh", "Lãnh đạo phê duyệt", "Quản trị tỉnh"} <= people
    assert "Quản trị hệ thống" not in people and not any(p.startswith("Hệ thống") for p in people)


@pytest.mark.parametrize("username", ["bientap", "pheduyet", "vanhanh"])
def test_only_administrators_read_the_log(seeded, username):
    client = signed_in(seeded, username)
    assert client.get("/audit").status_code == 403
    assert client.get("/audit.csv").status_code == 403
    assert 'href="/audit"' not in client.get("/").get_data(as_text=True)


def test_the_csv_file_opens_in_excel_and_runs_no_formula(seeded, worked):
    with seeded.extensions["database"].sessions() as session:
        users.create_user(session, username="lua", password=DEMO_PASSWORD, role=Role.EDITOR,
                          full_name="=HYPERLINK(\"http://x\")", scope_area=areas.find_area(session, "08"))
        record(session, users.get_user(session, "lua"), "item.create", "item", "999", {"title": "=1+1"})
        session.commit()
    answer = signed_in(seeded, "admin").get("/audit.csv?group=items")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="nhat-ky-hoat-dong.csv"' in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Thời gian", "Người", "Tên đăng nhập", "Hành động", "Mã hành động", "Đối tượng", "Chi tiết"]
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")" and rows[1][4] == "item.create"
    assert [r[4] for r in rows[1:]] == ["item.create", "item.approve", "item.submit", "item.create"]
    with seeded.extensions["database"].sessions() as session:
        assert session.scalar(select(AuditLog).where(AuditLog.entity_id == "999")).details == {"title": "=1+1"}
