"""The dashboard by area: station states and delivery per child area, against a known set of stations, in scope,
with a bounded number of queries however many stations there are, and the station list sorted and paged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import event, select

from broadcast.db.models import Delivery, DeliveryState, Station, StationManifest, StationStatus, Structure
from broadcast.services import area_overview, areas, deliveries, users
from tests.conftest import log_in

NOW = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # 06:30 on 29/11 in Hà Giang
SILENCE = timedelta(seconds=180)

# code -> (commune, status, last contact (ago), current manifest version, installed version)
STATIONS = {
    "HG1-01": ("00694", "online", timedelta(minutes=2), 3, 3),  # fine
    "HG1-02": ("00694", "playing", timedelta(minutes=1), 3, 2),  # behind
    "HG1-03": ("00694", "offline", timedelta(hours=3), 2, 2),  # silent: attention
    "HG1-04": ("00694", "unknown", None, 1, None),  # never heard though a manifest waits: attention, behind
    "HG2-01": ("00691", "online", timedelta(minutes=1), 5, 5),  # host key changed: attention
    "HG2-02": ("00691", "online", timedelta(minutes=1), 4, 4),  # its push failed three times: attention
    "DV-01": ("00721", "unknown", None, None, None),  # nothing compiled yet: nothing to say
}
EXPECTED_COMMUNES = 124  # of Tuyên Quang in the 2025 structure
ATTENTION = {"HG1-03", "HG1-04", "HG2-01", "HG2-02"}
# commune -> stations, online, playing, offline or never heard, up to date, behind, needing attention
BY_COMMUNE = {
    "00694": [4, 1, 1, 2, 2, 2, 2],
    "00691": [2, 2, 0, 0, 2, 0, 2],
    "00721": [1, 0, 0, 1, 0, 0, 0],
}


def area_id(app, code: str) -> int:
    with app.extensions["database"].sessions() as session:
        return areas.find_area(session, code, structure=Structure.CURRENT).id


def area_name(app, code: str) -> str:
    with app.extensions["database"].sessions() as session:
        return areas.find_area(session, code, structure=Structure.CURRENT).name


def set_up(session, code: str, commune: str, status: str, ago, current, installed, **extra) -> Station:
    station = session.scalar(select(Station).where(Station.code == code))
    if station is None:
        station = Station(code=code, name=f"Đài {code}", commune=areas.find_area(session, commune,
                                                                                structure=Structure.CURRENT))
        session.add(station)
    station.status, station.installed_version = StationStatus(status), installed
    station.last_contact_at = None if ago is None else NOW - ago
    for key, value in extra.items():
        setattr(station, key, value)
    session.flush()
    if current is not None:
        session.add(StationManifest(station_id=station.id, version=current, etag=f'"{code}-{current}"', body="{}"))
    return station


def known_states(session) -> None:
    """The demo stations in the states of STATIONS (plus two), HG2-01's host key changed, HG2-02's push failing."""
    for code, row in STATIONS.items():
        set_up(session, code, *row, host_key_mismatch=code == "HG2-01")
    failing = session.scalar(select(Station).where(Station.code == "HG2-02"))
    session.add(Delivery(station_id=failing.id, manifest_version=4, channel="sftp", state=DeliveryState.FAILED,
                         attempts=3, last_error="Connection refused", next_retry_at=NOW + timedelta(hours=1)))


@pytest.fixture
def world(seeded):
    """The stations in their known states, an inactive one that counts nowhere, the clock."""
    seeded.extensions["clock"] = lambda: NOW
    with seeded.extensions["database"].sessions() as session:
        known_states(session)
        set_up(session, "HG1-99", "00694", "offline", timedelta(days=30), 1, None, active=False)
        session.commit()
    return seeded


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def figures_row(page: str, name: str) -> list[int]:
    """The numbers of one area's row in the table of areas."""
    row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if f">{name}</a>" in r)
    return [int(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r'<td class="num">(.*?)</td>', row, re.S)]


def counts(page: str) -> dict[str, int]:
    """The figures at the top: stations in all and per status, and the delivery panel."""
    found = re.findall(r'<span class="n">(\d+)</span> ([^<]+)</a>', page)
    return {unescape(label.strip()): int(n) for n, label in found}


def station_codes(page: str) -> list[str]:
    table = page.split('<table class="station-list"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/stations/([^"]+)">', table)


def test_province_figures_per_commune(world, client):
    log_in(client, "bientap")
    province = area_id(world, "08")
    page = page_of(client.get(f"/?area={province}"))
    assert counts(page) == {"đài tổng cộng": 7, "Trực tuyến": 3, "Đang phát": 1, "Mất kết nối": 1,
                            "Chưa kết nối": 2, "cần chú ý": 4, "đã cập nhật": 4, "chưa cập nhật": 2}
    for commune, expected in BY_COMMUNE.items():
        assert figures_row(page, area_name(world, commune)) == expected, commune
    # The communes without stations are listed apart, after the others.
    empty = page.split('<details class="empty-areas">', 1)[1].split("</details>", 1)[0]
    assert f"Địa bàn chưa có đài: {EXPECTED_COMMUNES - 3}" in empty and area_name(world, "00706") in empty
    assert area_name(world, "00694") not in empty
    # Each figure leads to the stations behind it.
    hg1 = area_id(world, "00694")
    assert f'href="/?area={hg1}&amp;status=silent#stations">2</a>' in page
    assert f'href="/deliveries?area={hg1}&amp;version=behind">2</a>' in page
    assert f'href="/deliveries?area={hg1}&amp;attention=1">2</a>' in page


def test_the_figures_are_the_selected_areas(world, client):
    log_in(client, "bientap")
    page = page_of(client.get(f"/?area={area_id(world, '00691')}"))
    assert counts(page)["đài tổng cộng"] == 2 and counts(page)["cần chú ý"] == 2
    assert counts(page)["Trực tuyến"] == 2 and counts(page)["Chưa kết nối"] == 0
    assert sorted(station_codes(page)) == ["HG2-01", "HG2-02"]


def test_figure_links_lead_to_the_same_stations(world, client):
    log_in(client, "bientap")
    hg1 = area_id(world, "00694")
    assert station_codes(page_of(client.get(f"/?area={hg1}&status=silent"))) == ["HG1-04", "HG1-03"]
    assert station_codes(page_of(client.get(f"/?area={hg1}&status=online"))) == ["HG1-01"]
    behind = page_of(client.get(f"/deliveries?area={hg1}&version=behind"))
    assert sorted(re.findall(r'<a href="/stations/([^"]+)">', behind)) == ["HG1-02", "HG1-04"]
    assert "Chỉ đài chưa cập nhật" in behind and f"Địa bàn: {area_name(world, '00694')}" in behind
    current = page_of(client.get(f"/deliveries?area={hg1}&version=current"))
    assert sorted(re.findall(r'<a href="/stations/([^"]+)">', current)) == ["HG1-01", "HG1-03"]
    attention = page_of(client.get(f"/deliveries?area={area_id(world, '08')}&attention=1"))
    assert set(re.findall(r'<a href="/stations/([^"]+)">', attention)) == ATTENTION


def test_sql_and_python_agree_on_what_needs_attention(world):
    """The dashboard counts with the SQL form of the rules; the delivery table names the reasons in Python."""
    with world.app_context(), world.extensions["database"].sessions() as session:
        editor = users.get_user(session, "bientap")
        named = deliveries.delivery_status(session, editor, now=NOW, silence=SILENCE, zone=world.extensions[
            "settings"].zone)
        rows = area_overview.station_page(session, editor, None, now=NOW, silence=SILENCE, limit=100)
    assert {d.code for d in named if d.attention} == {r.station.code for r in rows if r.attention} == ATTENTION
    assert {d.code for d in named if d.up_to_date} == {r.station.code for r in rows if r.up_to_date}
    assert {d.code for d in named if not d.up_to_date and d.current_version} == {
        r.station.code for r in rows if r.behind}


def test_operator_sees_only_their_commune_sorted_with_local_times(world, client):
    log_in(client, "vanhanh")
    page = page_of(client.get("/"))
    assert counts(page)["đài tổng cộng"] == 4 and counts(page)["cần chú ý"] == 2
    assert figures_row(page, area_name(world, "00694")) == BY_COMMUNE["00694"]
    # Needing attention first (behind before not), then silent, then behind, then the rest; never another commune.
    assert station_codes(page) == ["HG1-04", "HG1-03", "HG1-02", "HG1-01"]
    assert "HG2-01" not in page and "HG1-99" not in page
    assert "2 phút trước" in page and "29/11/2026 06:28" in page and "3 giờ trước" in page
    assert page.count('<span class="badge warn">Cần chú ý</span>') == 2


def test_another_communes_figures_are_forbidden(world, client):
    log_in(client, "vanhanh")
    other = area_id(world, "00691")
    for path in (f"/?area={other}", f"/?area={other}&status=online", f"/deliveries?area={other}"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "nằm ngoài địa bàn của bạn" in response.get_data(as_text=True)


def count_queries(app, client, path: str) -> tuple[int, str]:
    statements = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["database"].engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        page = page_of(client.get(path))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(statements), page


def test_many_stations_cost_no_more_queries_and_are_paged(world, client):
    log_in(client, "bientap")
    province = area_id(world, "08")
    few, _ = count_queries(world, client, f"/?area={province}")
    with world.extensions["database"].sessions() as session:
        communes = [areas.find_area(session, code, structure=Structure.CURRENT)
                    for code in ("00706", "00694", "00691", "00721", "00700")]
        many = [Station(code=f"X-{n:04d}", name=f"Đài {n}", commune=communes[n % 5],
                        status=StationStatus.OFFLINE if n % 3 == 0 else StationStatus.ONLINE,
                        last_contact_at=NOW - (timedelta(hours=1) if n % 3 == 0 else timedelta(seconds=30)),
                        installed_version=1 if n % 2 else None) for n in range(600)]
        session.add_all(many)
        session.flush()
        session.add_all(StationManifest(station_id=s.id, version=1, etag='"x"', body="{}") for s in many)
        session.commit()
    again, page = count_queries(world, client, f"/?area={province}")
    assert again == few <= 8, (few, again)
    top = counts(page)
    assert top["đài tổng cộng"] == 607 and top["Mất kết nối"] == 1 + 200 and top["Trực tuyến"] == 3 + 400
    assert top["chưa cập nhật"] == 2 + 300 and top["cần chú ý"] == 4 + 200
    assert figures_row(page, area_name(world, "00706")) == [120, 80, 0, 40, 60, 60, 40]
    assert "Trang 1/13" in page and 'rel="next"' in page
    codes = station_codes(page)
    assert len(codes) == 50 and codes[:2] == ["HG1-04", "X-0000"]  # needing attention, silent and behind first
    last = page_of(client.get(f"/?area={province}&page=13"))
    assert len(station_codes(last)) == 7 and "Trang 13/13" in last and 'rel="prev"' in last
    assert station_codes(last)[-1] == "X-0599"  # fine, up to date, last by code
