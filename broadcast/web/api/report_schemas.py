"""Shapes of the broadcast report (marshmallow), shared by the OpenAPI document."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from broadcast.web.api.schemas import AreaRefSchema

FORMATS = ("json", "csv", "xlsx")


class ReportQuerySchema(ma.Schema):
    area = ma.fields.String(metadata={"description": "Area code (province, district or commune); default: yours"})
    first = ma.fields.Date(data_key="from", metadata={"description": "First local day, YYYY-MM-DD; default: "
                                                                     "six days before the last"})
    last = ma.fields.Date(data_key="to", metadata={"description": "Last local day, YYYY-MM-DD; default: today"})
    format = ma.fields.String(load_default="json", validate=validate.OneOf(FORMATS),
                              metadata={"description": "json, or a file: csv (UTF-8 with BOM) or xlsx"})


class FiguresSchema(ma.Schema):
    planned_sessions = ma.fields.Integer(metadata={"description": "Sessions with bulletins in the newest playlists"})
    planned_items = ma.fields.Integer(metadata={"description": "Bulletins (item entries with audio) planned"})
    seconds_requested = ma.fields.Float(metadata={"description": "Their planned play time"})
    days_planned = ma.fields.Integer(metadata={"description": "Station days with bulletins planned"})
    days_delivered = ma.fields.Integer(metadata={"description": "Of those, days whose newest playlist the station "
                                                                "installed before the day ended"})
    sessions_aired = ma.fields.Integer()
    sessions_partial = ma.fields.Integer()
    sessions_missed = ma.fields.Integer()
    items_played = ma.fields.Integer(metadata={"description": "Planned bulletins the agents report played in "
                                                              "their sessions"})
    items_failed = ma.fields.Integer()
    items_skipped = ma.fields.Integer()
    seconds_played = ma.fields.Float(metadata={"description": "Seconds of planned bulletins reported played; "
                                                              "emergency broadcasts and \"play now\" not included"})
    confirmed_aired = ma.fields.Integer(metadata={"description": "Sessions operators confirmed as aired"})
    confirmed_not_aired = ma.fields.Integer()
    emergency_played = ma.fields.Integer(metadata={"description": "As-run events of kind emergency, played: "
                                                                  "broadcasts, and emergency items placed in a "
                                                                  "session (also counted as its bulletins)"})
    emergency_not_played = ma.fields.Integer(metadata={"description": "... failed or skipped"})
    emergency_seconds = ma.fields.Float(metadata={"description": "Seconds of emergency airings reported played"})
    play_now_played = ma.fields.Integer(metadata={"description": "Files aired on an operator's \"play now\" "
                                                                 "command (as-run kind command), played"})
    play_now_not_played = ma.fields.Integer(metadata={"description": "... failed or skipped"})
    play_now_seconds = ma.fields.Float(metadata={"description": "Seconds of \"play now\" airings played"})
    played_ratio = ma.fields.Float(allow_none=True, metadata={"description": "seconds_played / seconds_requested: "
                                                                             "planned bulletins only"})


class CommuneRefSchema(ma.Schema):
    code = ma.fields.String(attribute="commune_code")
    name = ma.fields.String(attribute="commune_name")


class StationReportSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    active = ma.fields.Boolean()
    commune = ma.fields.Function(lambda row: CommuneRefSchema().dump(row))
    zone = ma.fields.String()
    figures = ma.fields.Nested(FiguresSchema)


class AreaTotalSchema(ma.Schema):
    area = ma.fields.Nested(AreaRefSchema)
    depth = ma.fields.Integer(metadata={"description": "Levels below the report's area"})
    stations = ma.fields.Integer()
    figures = ma.fields.Nested(FiguresSchema)


class DayTotalSchema(ma.Schema):
    day = ma.fields.Date()
    seconds_requested = ma.fields.Float()
    seconds_played = ma.fields.Float()


class BroadcastReportSchema(ma.Schema):
    area = ma.fields.Nested(AreaRefSchema)
    first = ma.fields.Date(data_key="from")
    last = ma.fields.Date(data_key="to")
    zone = ma.fields.String(metadata={"description": "The zone of the area's local days"})
    totals = ma.fields.Nested(FiguresSchema)
    areas = ma.fields.List(ma.fields.Nested(AreaTotalSchema), metadata={"description": "The area, then the "
                                                                          "districts and communes below it"})
    stations = ma.fields.List(ma.fields.Nested(StationReportSchema))
    days = ma.fields.List(ma.fields.Nested(DayTotalSchema))
