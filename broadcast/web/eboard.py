"""Public e-boards: a full-screen page per commune for a display in kiosk mode.

The page is a shell; broadcast/static/eboard.js fetches the board's JSON (/api/v1/exchange/eboards/<code>) every
few seconds and keeps the last good answer in localStorage, so a display whose link drops (or that restarts
without one) goes on showing what it last knew, and says since when. No login: see broadcast.services.eboard.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from broadcast.services import eboard
from broadcast.web.context import db

bp = Blueprint("eboard", __name__, url_prefix="/eboard")

REFRESH_S = 15


@bp.route("/<code>")
def board_page(code: str):
    area = eboard.commune(db(), code)
    return render_template("eboard/board.html", commune=area, refresh_s=REFRESH_S,
                           data_url=url_for("exchange_out.eboard_json", code=area.code))
