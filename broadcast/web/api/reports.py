"""Broadcast reports per area and period, as JSON or as a file for Excel (CSV, xlsx)."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from broadcast.services import report_files, reports
from broadcast.web.api.report_schemas import BroadcastReportSchema, ReportQuerySchema
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import local_today

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Broadcast reports")

FILES = {"csv": (report_files.to_csv, report_files.CSV_TYPE), "xlsx": (report_files.to_xlsx, report_files.XLSX_TYPE)}
# Documented by hand: the 200 answer is JSON, or a file when ``format`` asks for one.
ANSWERS = {"description": "The report; a file to save with format=csv or format=xlsx", "content": {
    "application/json": {"schema": BroadcastReportSchema},
    report_files.CSV_TYPE.split(";")[0]: {"schema": {"type": "string"}},
    report_files.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
}}


def download(report: reports.Report, kind: str) -> Response:
    """The report as a file to save (CSV or xlsx), named after the area and period."""
    render, mimetype = FILES[kind]
    return Response(render(report), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{report_files.file_name(report, kind)}"'})


@blp.route("/broadcast")
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, BroadcastReportSchema)
@blp.doc(responses={"200": ANSWERS})
@role_required(*reports.REPORT_ROLES)
def broadcast_report(args):
    """Planned, delivered, aired, confirmed and emergency figures per station, with totals per area and day.

    The period is in local days (at most 366); ``format=csv`` or ``format=xlsx`` answers a file with headers
    in the request's language.
    """
    user = signed_in_user()
    area = reports.report_area(db(), user, args.get("area"))
    first, last = reports.default_period(local_today(), args.get("first"), args.get("last"))
    report = reports.broadcast_report(db(), user, area, first, last, default_zone=settings().timezone)
    return download(report, args["format"]) if args["format"] in FILES else report
