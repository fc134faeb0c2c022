"""The public e-board of a commune: its JSON for display vendors and the page's shell, without login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from broadcast.db.models import EmergencyBroadcast, EmergencyState, NewsItem
from broadcast.services import areas
from tests.airing import build_world

DURING_FIRST = datetime(2026, 11, 28, 23, 0, 30, tzinfo=UTC)  # 06:00:30 on 29/11: "Tin một" is on air


def _warn(world, *, risk: int, state=EmergencyState.ISSUED, expires=timedelta(hours=2)):
    with world["database"].sessions() as session:
        item = session.scalar(select(NewsItem).where(NewsItem.title == "Tin hai"))
        session.add(EmergencyBroadcast(item=item, risk_level=risk, expires_at=DURING_FIRST + expires, state=state,
                                       issued_at=DURING_FIRST - timedelta(minutes=5),
                                       areas=[areas.find_area(session, "08")]))
        session.commit()


def test_the_board_shows_warnings_first_then_the_bulletin_on_air_and_the_next(seeded):
    world = build_world(seeded)
    world["clock"]["now"] = DURING_FIRST
    _warn(world, risk=3)
    _warn(world, risk=4)
    _warn(world, risk=5, expires=-timedelta(minutes=1))  # expired: no longer shown
    _warn(world, risk=5, state=EmergencyState.CANCELLED)
    answer = world["api"].get("/api/v1/exchange/eboards/00694")  # no login
    assert answer.status_code == 200
    board = answer.json
    assert board["format"] == "commune-radio.eboard" and board["commune"]["code"] == "00694"
    assert [(w["risk_level"], w["colour"]) for w in board["warnings"]] == [(4, "#e53935"), (3, "#ff9800")]
    assert board["current"]["title"] == "Tin một" and board["current"]["text"] == "Một hai ba."
    assert board["current"]["start"].startswith("2026-11-29T06:00:00+07:00")
    assert [n["title"] for n in board["next"]] == ["Tin hai"]

    world["clock"]["now"] = DURING_FIRST + timedelta(hours=1)  # the session is over: nothing on air, none next
    later = world["api"].get("/api/v1/exchange/eboards/00694").json
    assert later["current"] is None and later["next"] == []
    assert world["api"].get("/api/v1/exchange/eboards/99999").status_code == 404


def test_the_page_is_a_shell_with_no_inline_script_or_style(seeded):
    world = build_world(seeded)
    page = world["api"].get("/eboard/00694")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-url="/api/v1/exchange/eboards/00694"' in html
    assert "/static/eboard.js" in html and "/static/eboard.css" in html
    assert "<script>" not in html and " style=" not in html and " onload=" not in html
    assert world["api"].get("/eboard/99999").status_code == 404
