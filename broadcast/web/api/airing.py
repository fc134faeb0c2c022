"""What aired: a station's day (planned, reported, confirmed), operators' confirmations and remote commands."""

from __future__ import annotations

from datetime import date

from flask_smorest import Blueprint

from broadcast.channels import http_pull, mqtt
from broadcast.db.models import CommandKind, ConfirmationStatus, Role
from broadcast.services import asrun, commands, stations
from broadcast.web.api.sync_schemas import (
    CommandCreateSchema,
    CommandSchema,
    ConfirmationSchema,
    ConfirmSchema,
    DayViewSchema,
)
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import utc_now

blp = Blueprint("airing", __name__, url_prefix="/api/v1", description="As-run logs, confirmations, commands")


@blp.route("/stations/<code>/asrun/<day>")
@blp.response(200, DayViewSchema)
@login_required
def station_day(code: str, day: str):
    """Each session of the day: what was planned, what the station reported, and who confirmed it."""
    from broadcast.errors import InvalidInput
    from broadcast.i18n import _l

    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(_l("Give the day as YYYY-MM-DD."), field="day") from None
    user = signed_in_user()
    station = stations.get_station(db(), code, user)
    return asrun.station_day(db(), user, station, wanted, utc_now(), settings().zone)


@blp.route("/stations/<code>/confirmations", methods=["POST"])
@blp.arguments(ConfirmSchema)
@blp.response(200, ConfirmationSchema)
@role_required(Role.OPERATOR, Role.EDITOR)
def confirm(data, code: str):
    """Confirm one session: aired, or not aired with the reason (by hand where a station has no agent)."""
    user = signed_in_user()
    station = stations.get_station(db(), code, user)
    return asrun.confirm(db(), user, station, data["occurrence_key"], ConfirmationStatus(data["status"]),
                         data["reason"], utc_now())


@blp.route("/stations/<code>/commands", methods=["POST"])
@blp.arguments(CommandCreateSchema)
@blp.response(201, CommandSchema)
@role_required(Role.OPERATOR, Role.EDITOR)
def issue_command(data, code: str):
    """Play now (``sha256``), stop, or set the volume (``volume``) at a station; its agent acknowledges."""
    user = signed_in_user()
    station = stations.get_station(db(), code, user)
    command = commands.issue(db(), user, station, CommandKind(data["kind"]),
                             {k: v for k, v in data.items() if k != "kind" and v is not None}, utc_now())
    wake(station, command)
    return command


def wake(station, command) -> None:
    """Tell the station at once that a command waits (its long-poll, and MQTT where there is a broker); the
    station page's remote control issues through here too."""
    http_pull.bump(settings().instance_path, http_pull.COMMANDS)  # wakes the station's long-poll
    if settings().mqtt_url:
        mqtt.publish_command(settings().mqtt_url, station.code, CommandSchema().dump(command),
                             topic_prefix=settings().mqtt_topic_prefix)
