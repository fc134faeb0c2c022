"""The station map's data: the caller's stations with their states, as GeoJSON, for the map page (and others)."""

from __future__ import annotations

from datetime import timedelta

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from broadcast.services import station_map
from broadcast.web.auth import login_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import utc_now

blp = Blueprint("station_map", __name__, url_prefix="/api/v1", description="The station map")

FEATURE_KINDS = ("outline", "commune", "station")


class GeometrySchema(ma.Schema):
    type = ma.fields.String(validate=validate.OneOf(["Point", "Polygon"]))
    coordinates = ma.fields.Raw(metadata={"description": "[lon, lat] for a point; rings of [lon, lat] for a "
                                                         "polygon (GeoJSON, RFC 7946)"})


class FeaturePropertiesSchema(ma.Schema):
    kind = ma.fields.String(validate=validate.OneOf(FEATURE_KINDS), metadata={"description": (
        "outline: the area's outline, approximated by the convex hull of its communes' centres (no boundary "
        "data is held); commune: a commune's centre; station: a station")})
    name = ma.fields.String()
    code = ma.fields.String()
    commune = ma.fields.String()
    status = ma.fields.String(validate=validate.OneOf(["unknown", "online", "playing", "offline"]))
    behind = ma.fields.Boolean(metadata={"description": "the station has not installed the current playlist"})
    attention = ma.fields.Boolean()
    state = ma.fields.String(validate=validate.OneOf(station_map.STATES), metadata={
        "description": "what the map colours it by: offline or unknown first, then behind, then playing or online"})


class FeatureSchema(ma.Schema):
    type = ma.fields.Constant("Feature")
    geometry = ma.fields.Nested(GeometrySchema)
    properties = ma.fields.Nested(FeaturePropertiesSchema)


class StationMapSchema(ma.Schema):
    type = ma.fields.Constant("FeatureCollection")
    features = ma.fields.List(ma.fields.Nested(FeatureSchema))
    area = ma.fields.String(metadata={"description": "the caller's area"})
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                            metadata={"description": "stations per state"})
    tile_url = ma.fields.String(metadata={"description": "the map tiles' URL template; empty: draw the outlines"})
    tile_attribution = ma.fields.String()


def map_data() -> dict:
    """What the map page and this endpoint show the signed-in user."""
    user = signed_in_user()
    found = station_map.stations_on_map(db(), user, now=utc_now(),
                                        silence=timedelta(seconds=settings().station_offline_after_s))
    area = user.scope_area.name if user.scope_area is not None else ""
    collection = station_map.geojson(found, station_map.communes_in_scope(db(), user), area)
    return {**collection, "area": area, "counts": station_map.state_counts(found),
            "tile_url": settings().map_tile_url, "tile_attribution": settings().map_tile_attribution}


@blp.route("/station-map")
@blp.response(200, StationMapSchema)
@login_required
def station_map_json():
    """The caller's stations with their states (and the area's outline and communes) as a GeoJSON
    FeatureCollection, with the map tiles' URL template."""
    return map_data()
