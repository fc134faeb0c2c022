"""The station map's data: the caller's stations with their states, as GeoJSON, for the map page (and others)."""

from __future__ import annotations

from datetime import timedelta

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint
from marshmallow import validate

from broadcast.db.models import Structure
from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from broadcast.services import area_outlines, station_map
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import utc_now

blp = Blueprint("station_map", __name__, url_prefix="/api/v1", description="The station map")

FEATURE_KINDS = ("outline", "commune", "station")


class GeometrySchema(ma.Schema):
    type = ma.fields.String(validate=validate.OneOf(["Point", "Polygon", "MultiPolygon"]))
    coordinates = ma.fields.Raw(metadata={"description": "[lon, lat] for a point; rings of [lon, lat] for a "
                                                         "polygon (GeoJSON, RFC 7946)"})


class FeaturePropertiesSchema(ma.Schema):
    kind = ma.fields.String(validate=validate.OneOf(FEATURE_KINDS), metadata={"description": (
        "outline: the user's area; commune: a commune (its outline, else its centre); station: a station")})
    name = ma.fields.String()
    code = ma.fields.String()
    outline = ma.fields.String(validate=validate.OneOf(["imported", "estimated", "centre"]), metadata={
        "description": "imported: a boundary imported from a GeoJSON file (POST /api/v1/area-outlines); "
                       "estimated: drawn from the communes' centres, each the land nearest its centre; centre: "
                       "a commune drawn as its centre point"})
    centre = ma.fields.List(ma.fields.Float(), metadata={"description": "a commune's centre, [lon, lat]"})
    stations = ma.fields.Integer(metadata={"description": "a commune's stations on the map"})
    commune = ma.fields.String()
    status = ma.fields.String(validate=validate.OneOf(["unknown", "online", "playing", "offline"]))
    behind = ma.fields.Boolean(metadata={"description": "the station has not installed the current playlist"})
    attention = ma.fields.Boolean()
    state = ma.fields.String(validate=validate.OneOf(station_map.STATES), metadata={
        "description": "what the map colours it by: offline or unknown first, then behind, then playing or "
                       "online; for a commune, its most urgent station's (null without stations)"}, allow_none=True)


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
    communes = station_map.communes_in_scope(db(), user)
    outlines = station_map.commune_outlines(db(), communes)
    collection = station_map.geojson(found, communes, area, outlines=outlines,
                                     outline=station_map.area_outline(db(), user, outlines))
    return {**collection, "area": area, "counts": station_map.state_counts(found),
            "tile_url": settings().map_tile_url, "tile_attribution": settings().map_tile_attribution}


@blp.route("/station-map")
@blp.response(200, StationMapSchema)
@login_required
def station_map_json():
    """The caller's stations with their states (and the area's outline and communes) as a GeoJSON
    FeatureCollection, with the map tiles' URL template."""
    return map_data()


class OutlineFileSchema(ma.Schema):
    """The multipart body of an import. webargs reads the file from it; the two text fields of the same body are
    read in the view (one body, two webargs locations, which the OpenAPI document cannot tell apart)."""

    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary", "description": (
        "a GeoJSON FeatureCollection of Polygons or MultiPolygons in WGS 84 longitude/latitude, each feature "
        "naming its area by statistics-office code in one of its properties")})
    structure = ma.fields.String(load_default=Structure.CURRENT.value,
                                 validate=validate.OneOf([s.value for s in Structure]),
                                 metadata={"description": "which administrative map the codes belong to"})
    code_property = ma.fields.String(load_default=None, validate=validate.Length(max=100), metadata={
        "description": "the property holding the codes (default: the one that matches most codes)"})


class OutlineImportSchema(ma.Schema):
    code_property = ma.fields.String(metadata={"description": "the property the codes were read from"})
    imported = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                              metadata={"description": "boundaries imported, by level"})
    not_matched = ma.fields.List(ma.fields.String(), metadata={
        "description": "features whose code names no area (the first 50)"})
    not_matched_count = ma.fields.Integer()
    outside_scope = ma.fields.Integer(metadata={"description": "features of areas outside the caller's"})


class OutlinesRemovedSchema(ma.Schema):
    removed = ma.fields.Integer()


def import_answer(report: area_outlines.ImportReport) -> dict:
    return {"code_property": report.code_property, "imported": dict(report.imported),
            "not_matched": report.not_matched[:50], "not_matched_count": len(report.not_matched),
            "outside_scope": report.outside_scope}


@blp.route("/area-outlines", methods=["POST"])
@blp.arguments(OutlineFileSchema, location="files")
@blp.response(201, OutlineImportSchema)
@role_required(*area_outlines.IMPORTERS)
def import_outlines(files):
    """Import area boundaries (GeoJSON) for the station map. Every matched boundary is checked, and all are
    imported or none; a boundary held already is replaced. Areas outside the caller's are left alone."""
    upload = files["file"]
    options = OutlineFileSchema(only=("structure", "code_property"))
    problems = options.validate(request.form)
    if problems:
        field = next(iter(problems))
        message = (_l("The administrative map is 2025 or legacy.") if field == "structure"
                   else _l("The property name is at most 100 characters."))
        raise InvalidInput(message, field=field)
    form = options.load(request.form)
    report = area_outlines.import_outlines(db(), signed_in_user(), upload.read(), source=upload.filename or "",
                                           structure=Structure(form["structure"]),
                                           code_property=(form["code_property"] or "").strip() or None)
    return import_answer(report)


@blp.route("/area-outlines", methods=["DELETE"])
@blp.response(200, OutlinesRemovedSchema)
@role_required(*area_outlines.IMPORTERS)
def remove_outlines():
    """Forget the imported boundaries of the caller's area: the map estimates them from centres again."""
    return {"removed": area_outlines.remove(db(), signed_in_user())}
