"""The commune operator's playlists: today's and tomorrow's compiled playlist of each station, with a player.

The playlists are the stored compiled days (broadcast.services.compiler), the ones stations receive; the JSON
form is ``GET /api/v1/stations/<code>/playlists/<day>``. Audio is served to people signed in whose area covers
the station and whose station's current manifest names the file, as a station's own token would be.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request, send_file
from flask_login import current_user

from broadcast.db.models import Level, Role
from broadcast.errors import NotFound
from broadcast.i18n import _, _l
from broadcast.services import area_overview, areas, exports, scope, stations
from broadcast.web.auth import login_required, signed_in_user
from broadcast.web.context import audio, db
from broadcast.web.time import local_today
from broadcast.web.ui_stations import clock, duration, long_day, overrun_s, slot_names

bp = Blueprint("playlists_ui", __name__)

NAV_ROLES = (Role.OPERATOR,)  # admins always; everyone else reaches the page from a station


@bp.route("/playlists")
@login_required
def playlists_page():
    """A commune's stations with their playlists; for a wider area, the communes to choose from."""
    user = signed_in_user()
    session = db()
    area = areas.get_area(session, request.args.get("area", type=int)) if request.args.get("area") \
        else user.scope_area
    if area is not None:
        scope.require_area(user, area)
    if area is None or area.level is not Level.COMMUNE:
        return render_template("stations/playlists.html", area=area, commune=None,
                               communes=area_overview.communes_with_stations(session, user, area))
    found = [s for s in stations.list_stations(session, user, area=area) if s.active]
    today = local_today()
    days = [today, today + timedelta(days=1)]
    stored = exports.latest_days(session, found, days)
    slot_ids = {occ["slot_id"] for p in stored.values() for occ in p.content["occurrences"]}
    return render_template("stations/playlists.html", area=area, commune=area, stations=found, days=days,
                           today=today, stored=stored, same_as=exports.same_days(found, days, stored),
                           slot_names=slot_names(user, slot_ids))


@bp.route("/stations/<code>/audio/<sha256>")
@login_required
def station_audio(code: str, sha256: str):
    """One audio file the station's playlist names, for people whose area covers the station (Range supported)."""
    station = stations.get_station(db(), code, signed_in_user())  # outside the user's area: 404
    tools = audio()
    if not exports.names_audio(db(), station, sha256) or not tools.store.exists(sha256,
                                                                              tools.station_format.suffix):
        raise NotFound(_l("This station's playlist names no audio %(sha256)s.", sha256=sha256))
    response = send_file(tools.store.path_for(sha256, tools.station_format.suffix), mimetype="audio/mpeg",
                         conditional=True, etag=sha256, max_age=3600,
                         download_name=f"{sha256}{tools.station_format.suffix}")
    response.headers["Accept-Ranges"] = "bytes"
    return response


def kind_label(kind: str) -> str:
    return {"item": _("Bulletin"), "filler": _("Filler"), "jingle": _("Jingle")}.get(kind, kind)


def day_label(day, today) -> str:
    name = _("Today") if day == today else _("Tomorrow") if day == today + timedelta(days=1) else ""
    return f"{name} · {long_day(day)}" if name else long_day(day)


@bp.context_processor
def _helpers():
    return {"clock": clock, "duration": duration, "kind_label": kind_label, "day_label": day_label,
            "overrun_s": overrun_s}


@bp.app_context_processor
def _navigation():
    return {"may_see_playlists": lambda: current_user.is_authenticated and scope.has_role(current_user, *NAV_ROLES)}
