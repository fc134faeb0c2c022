"""Stations: listing within the caller's area, adding, and issuing, rotating and revoking tokens."""

from __future__ import annotations

from datetime import timedelta

from flask_smorest import Blueprint

from broadcast.db.models import Level, Role
from broadcast.services import areas, stations
from broadcast.web.api.account_schemas import StationTokenRotatedSchema, StationTokenRotateSchema
from broadcast.web.api.schemas import StationCreateSchema, StationQuerySchema, StationSchema, TokenSchema
from broadcast.web.auth import bearer_token, login_required, require_station, role_required, signed_in_user
from broadcast.web.context import db

blp = Blueprint("stations", __name__, url_prefix="/api/v1/stations", description="Loudspeaker stations")


@blp.route("")
@blp.arguments(StationQuerySchema, location="query")
@blp.response(200, StationSchema(many=True))
@login_required
def list_stations(args):
    area = areas.get_area(db(), args["area_id"]) if "area_id" in args else None
    return stations.list_stations(db(), signed_in_user(), area=area, status=args.get("status"))


@blp.route("", methods=["POST"])
@blp.arguments(StationCreateSchema)
@blp.response(201, StationSchema)
@role_required(Role.EDITOR)
def add_station(data):
    modes = set(data.pop("delivery_modes"))
    commune = areas.find_area(db(), data.pop("commune"), level=Level.COMMUNE)
    spec = stations.StationSpec(commune=commune, http_pull="http-pull" in modes, sftp_push="sftp-push" in modes,
                                **data)
    return stations.add_station(db(), spec, actor=signed_in_user())


@blp.route("/<code>")
@blp.response(200, StationSchema)
def get_station(code: str):
    token = bearer_token()
    if token and token.startswith("st_"):
        return require_station(code)
    return _for_user(code)


@login_required
def _for_user(code: str):
    return stations.get_station(db(), code, signed_in_user())


@blp.route("/<code>/token", methods=["POST"])
@blp.response(201, TokenSchema)
@role_required(Role.EDITOR)
def issue_token(code: str):
    station = stations.get_station(db(), code, signed_in_user())
    return {"token": stations.issue_token(db(), station, actor=signed_in_user())}


@blp.route("/<code>/token/rotate", methods=["POST"])
@blp.arguments(StationTokenRotateSchema)
@blp.response(201, StationTokenRotatedSchema)
@role_required(Role.EDITOR)
def rotate_token(data, code: str):
    """A new token for the station; the old one keeps working for ``overlap_hours`` so the agent can be given
    the new one without a gap."""
    station = stations.get_station(db(), code, signed_in_user())
    token = stations.rotate_token(db(), station, overlap=timedelta(hours=data["overlap_hours"]),
                                  actor=signed_in_user())
    return {"token": token, "previous_valid_until": station.previous_token_expires_at}


@blp.route("/<code>/token", methods=["DELETE"])
@blp.response(204)
@role_required(Role.EDITOR)
def revoke_token(code: str):
    """The station's tokens, current and previous, stop working at once."""
    station = stations.get_station(db(), code, signed_in_user())
    stations.revoke_token(db(), station, actor=signed_in_user())
