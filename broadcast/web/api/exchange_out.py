"""Data out for other systems (the central register, LGSP/NGSP): statistics per area, station and day, the
record of the nightly statistics pushes, and the register of stations.

Versioned: these answers carry ``format`` and ``version``; within a version fields are only ever added.
"""

from __future__ import annotations

from datetime import timedelta

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy import select

from broadcast.db.models import Area, DeliveryState, Role, Station, StationStatus, StatisticsPush
from broadcast.services import areas, eboard, reports, scope, statistics_out
from broadcast.web.api.report_schemas import FiguresSchema
from broadcast.web.api.schemas import LocalDateTime
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import local_today, utc_now

blp = Blueprint("exchange_out", __name__, url_prefix="/api/v1/exchange",
                description="Data out: statistics and the station register, for the central and provincial systems")

REGISTER_FORMAT = "commune-radio.stations"


class StatisticsQuerySchema(ma.Schema):
    area = ma.fields.String(metadata={"description": "Area code (province, district or commune); default: yours"})
    first = ma.fields.Date(data_key="from", metadata={"description": "First local day; default: yesterday"})
    last = ma.fields.Date(data_key="to", metadata={"description": "Last local day; default: the first "
                                                                   f"(at most {statistics_out.MAX_DAYS} days)"})
    stations = ma.fields.Boolean(load_default=True, metadata={"description": "include each station's figures"})


class StatAreaSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    level = ma.fields.String(metadata={"description": "province, district or commune"})
    structure = ma.fields.String(metadata={"description": "2025 (two levels) or legacy (three levels)"})


class StatAreaFiguresSchema(StatAreaSchema):
    depth = ma.fields.Integer(metadata={"description": "levels below the document's area"})
    stations = ma.fields.Integer()
    figures = ma.fields.Nested(FiguresSchema)


class StatCommuneSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class StatStationSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    commune = ma.fields.Nested(StatCommuneSchema)
    figures = ma.fields.Nested(FiguresSchema)


class StatDaySchema(ma.Schema):
    day = ma.fields.String(metadata={"description": "the local day, YYYY-MM-DD"})
    totals = ma.fields.Nested(FiguresSchema)
    areas = ma.fields.List(ma.fields.Nested(StatAreaFiguresSchema),
                           metadata={"description": "the area, then the districts and communes below it"})
    stations = ma.fields.List(ma.fields.Nested(StatStationSchema))


class StatisticsSchema(ma.Schema):
    format = ma.fields.String(metadata={"description": statistics_out.FORMAT})
    version = ma.fields.Integer(metadata={"description": "1; fields are only ever added within a version"})
    generated_at = ma.fields.String()
    area = ma.fields.Nested(StatAreaSchema)
    first = ma.fields.String(attribute="from", data_key="from", metadata={"description": "YYYY-MM-DD"})
    last = ma.fields.String(attribute="to", data_key="to", metadata={"description": "YYYY-MM-DD"})
    zone = ma.fields.String(metadata={"description": "the zone of the local days"})
    days = ma.fields.List(ma.fields.Nested(StatDaySchema))


class PushRecordSchema(ma.Schema):
    id = ma.fields.Integer()
    day = ma.fields.Date()
    target = ma.fields.String()
    state = ma.fields.Enum(DeliveryState, by_value=True, metadata={"description": "queued, sent or failed"})
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    response_status = ma.fields.Integer(allow_none=True)
    next_retry_at = LocalDateTime(allow_none=True)
    sent_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()


class RegisterQuerySchema(ma.Schema):
    area = ma.fields.String(metadata={"description": "Area code; default: every station you may see"})


class RegisterStationSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    commune = ma.fields.Function(lambda s: {"code": s.commune.code, "name": s.commune.name})
    lat = ma.fields.Function(lambda s: s.lat if s.lat is not None else s.commune.lat, allow_none=True,
                             metadata={"description": "the station's, else its commune's centre"})
    lon = ma.fields.Function(lambda s: s.lon if s.lon is not None else s.commune.lon, allow_none=True)
    state = ma.fields.Function(lambda s: s.status.value if s.active else "inactive", metadata={
        "description": "inactive, or as last reported: " + ", ".join(v.value for v in StationStatus)})
    last_contact_at = LocalDateTime(allow_none=True)
    speakers = ma.fields.Integer()


class RegisterSchema(ma.Schema):
    format = ma.fields.String(metadata={"description": REGISTER_FORMAT})
    version = ma.fields.Integer()
    generated_at = LocalDateTime()
    stations = ma.fields.List(ma.fields.Nested(RegisterStationSchema))


class EboardWarningSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    text = ma.fields.String()
    risk_level = ma.fields.Integer(metadata={"description": "1-5 (Decision 18/2021/QĐ-TTg)"})
    colour = ma.fields.String(metadata={"description": "the risk level's colour, #rrggbb"})
    issued_at = ma.fields.String()
    expires_at = ma.fields.String(allow_none=True)


class EboardBulletinSchema(ma.Schema):
    title = ma.fields.String()
    text = ma.fields.String()
    item_class = ma.fields.String(metadata={"description": "normal, priority or emergency"})
    start = ma.fields.String(metadata={"description": "local time with offset"})
    end = ma.fields.String()


class EboardSchema(ma.Schema):
    format = ma.fields.String(metadata={"description": eboard.FORMAT})
    version = ma.fields.Integer()
    generated_at = ma.fields.String()
    commune = ma.fields.Nested(StatCommuneSchema)
    warnings = ma.fields.List(ma.fields.Nested(EboardWarningSchema), metadata={"description": "highest risk first"})
    current = ma.fields.Nested(EboardBulletinSchema, allow_none=True)
    next = ma.fields.List(ma.fields.Nested(EboardBulletinSchema))


@blp.route("/statistics")
@blp.arguments(StatisticsQuerySchema, location="query")
@blp.response(200, StatisticsSchema)
@role_required(*reports.REPORT_ROLES)
def statistics(args):
    """Planned, delivered, aired, confirmed and emergency figures per area, station and day (version 1)."""
    user = signed_in_user()
    area = reports.report_area(db(), user, args.get("area"))
    first = args.get("first") or local_today() - timedelta(days=1)
    last = args.get("last") or first
    return statistics_out.document(db(), user, area, first, last, default_zone=settings().timezone, now=utc_now(),
                                   stations=args["stations"])


@blp.route("/statistics/pushes")
@blp.response(200, PushRecordSchema(many=True))
@role_required(Role.ADMIN)
def statistics_pushes():
    """The record of the nightly statistics pushes, newest first: what was sent where, and how it went."""
    return list(db().scalars(select(StatisticsPush).order_by(StatisticsPush.day.desc(), StatisticsPush.id.desc())
                             .limit(400)))


@blp.route("/stations")
@blp.arguments(RegisterQuerySchema, location="query")
@blp.response(200, RegisterSchema)
@login_required
def station_register(args):
    """The stations for the central register: code, commune, coordinates, state and last contact."""
    user = signed_in_user()
    query = scope.limit_stations(db(), user, select(Station))
    if args.get("area"):
        area = areas.find_area(db(), args["area"])
        scope.require_area(user, area)
        query = query.where(Area.path.startswith(area.path))
    found = list(db().scalars(query.order_by(Area.path, Station.code)))
    return {"format": REGISTER_FORMAT, "version": 1, "generated_at": utc_now(), "stations": found}


@blp.route("/eboards/<code>")
@blp.response(200, EboardSchema)
@blp.doc(security=[])
def eboard_json(code: str):
    """What a commune's public e-board shows (version 1): emergency warnings with their risk level's colour, the
    bulletin on air and the next ones, with their text. No login: the same content the loudspeakers read out."""
    return eboard.board(db(), code, now=utc_now(), zone=settings().zone)
