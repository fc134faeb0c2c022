"""The broadcast report page: an area and a period, a summary, a chart per day, the stations, and downloads.

Server-rendered and usable without JavaScript; the chart is inline SVG laid out in broadcast.web.report_chart.
Days are local days; the JSON and file equivalents are in broadcast.web.api.reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import format_date, format_decimal, format_percent
from flask_login import current_user

from broadcast.db.models import Area, Structure, User
from broadcast.errors import Forbidden, InvalidInput, NotFound
from broadcast.i18n import _, _l
from broadcast.services import areas, report_files, reports, scope
from broadcast.web.api.reports import FILES, download
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.report_chart import bar_chart
from broadcast.web.time import local_today, utc_now

bp = Blueprint("reports_ui", __name__)


@dataclass
class ReportQuery:
    """What the form asked for, as typed (to show it again), and what it means once read."""

    area: Area | None = None
    first: date | None = None
    last: date | None = None
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def _day(query: ReportQuery, name: str) -> date | None:
    text = (request.args.get(name) or "").strip()
    query.typed[name] = text
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        query.errors[name] = [_("Give the day as YYYY-MM-DD.")]
        return None


def read_query(user: User, options: list[Area]) -> ReportQuery:
    """The area (by id, as on the dashboard; default: the user's own, else the first offered) and the period."""
    query = ReportQuery()
    wanted = (request.args.get("area") or "").strip()
    query.typed["area"] = wanted
    if wanted:
        try:
            query.area = areas.get_area(db(), int(wanted))
        except (ValueError, NotFound):
            query.errors["area"] = [_("Choose an area from the list.")]
    else:
        query.area = user.scope_area or (options[0] if options else None)
        if query.area is None:
            query.errors["area"] = [_("Choose the area to report on.")]
    first, last = _day(query, "from"), _day(query, "to")
    query.first, query.last = reports.default_period(local_today(), first, last)
    return query


def _report(user: User, query: ReportQuery) -> reports.Report:
    return reports.broadcast_report(db(), user, query.area, query.first, query.last,
                                    default_zone=settings().timezone)


def area_choices(options: list[Area]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Areas grouped by map (since and before 7/2025), indented by level so the tree shows in a plain select."""
    groups = []
    for structure, label in ((Structure.CURRENT, _("since 7/2025")), (Structure.LEGACY, _("before 7/2025"))):
        items = [(a.id, "\u2003" * (a.path.count("/") - 2) + a.name) for a in options if a.structure is structure]
        if items:
            groups.append((label, items))
    return groups


@bp.route("/reports")
@role_required(*reports.REPORT_ROLES)
def report_page():
    user = signed_in_user()
    options = reports.report_areas(db(), user)
    query = read_query(user, options)
    report = None
    if not query.errors:
        try:
            report = _report(user, query)
        except InvalidInput as error:
            query.errors.setdefault(error.field or "from", []).append(str(error.message))
    chart = bar_chart([(d.day, d.seconds_requested, d.seconds_played) for d in report.days]) if report else None
    links = {kind: {"area": query.area.id, "from": query.first.isoformat(), "to": query.last.isoformat()}
             for kind in FILES} if report else {}
    page = render_template("reports/report.html", query=query, choices=area_choices(options), report=report,
                           chart=chart, links=links, headers=report_files.measure_headers(),
                           measures=reports.MEASURES, now=utc_now())
    return page, 422 if query.errors else 200


@bp.route("/reports/broadcast.<kind>")
@role_required(*reports.REPORT_ROLES)
def report_file(kind: str):
    """The report of the page's area and period as CSV or Excel."""
    if kind not in FILES:
        raise NotFound(_l("Not found."))
    user = signed_in_user()
    query = read_query(user, reports.report_areas(db(), user))
    if query.errors:
        name, messages = next(iter(query.errors.items()))
        raise InvalidInput(messages[0], field=name)
    return download(_report(user, query), kind)


def number(value: float) -> str:
    """A whole number as people read it (1.234 in Vietnamese, 1,234 in English)."""
    return format_decimal(round(value))


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else format_percent(ratio, "#,##0.#%")


def day_label(day: date, long: bool = False) -> str:
    return format_date(day, "dd/MM/yyyy" if long else "dd/MM")


def may_see_reports(user) -> bool:
    try:
        scope.require_role(user, *reports.REPORT_ROLES)
    except Forbidden:
        return False
    return True


@bp.context_processor
def _helpers():
    return {"number": number, "decimal": format_decimal, "percent": percent, "day_label": day_label}


@bp.app_context_processor
def _navigation():
    return {"may_see_reports": lambda: current_user.is_authenticated and may_see_reports(current_user)}
