"""Broadcast reports as files people open in Excel: CSV (UTF-8 with a BOM) and an .xlsx workbook.

Headers are in the reader's language (the request's locale). Seconds are whole seconds, so no decimal
separator can be misread (Vietnamese writes 1.234,5 where English writes 1,234.5).

Names come from people (a station named ``=HYPERLINK(…)``), so no text cell may be taken for a formula: in CSV a
text that Excel or LibreOffice would read as one gets a leading apostrophe and every text is quoted (OWASP, "CSV
Injection"); in the workbook every text is written as text, never as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from broadcast.i18n import _
from broadcast.services.reports import MEASURES, Figures, Report

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"  # without it Excel reads UTF-8 as the ANSI code page and mangles Vietnamese


def measure_headers() -> dict[str, str]:
    """The column header of each measure, in the request's language."""
    return {
        "planned_sessions": _("Planned sessions"),
        "planned_items": _("Planned bulletins"),
        "seconds_requested": _("Seconds requested"),
        "days_planned": _("Days planned"),
        "days_delivered": _("Days delivered"),
        "sessions_aired": _("Sessions aired"),
        "sessions_partial": _("Sessions partly aired"),
        "sessions_missed": _("Sessions missed"),
        "items_played": _("Bulletins played"),
        "items_failed": _("Bulletins failed"),
        "items_skipped": _("Bulletins skipped"),
        "seconds_played": _("Seconds played"),
        "confirmed_aired": _("Confirmed aired"),
        "confirmed_not_aired": _("Confirmed not aired"),
        "emergency_played": _("Emergency bulletins played"),
        "emergency_not_played": _("Emergency bulletins not played"),
        "emergency_seconds": _("Emergency seconds played"),
        "play_now_played": _("Play-now airings played"),
        "play_now_not_played": _("Play-now airings not played"),
        "play_now_seconds": _("Play-now seconds played"),
    }


def figure_values(figures: Figures) -> list[int]:
    return [round(getattr(figures, name)) for name in MEASURES]


def station_table(report: Report) -> Iterator[list]:
    """The header, one row per station and the report area's totals row."""
    headers = measure_headers()
    yield [_("Station"), _("Name"), _("Commune"), *(headers[m] for m in MEASURES)]
    for row in report.stations:
        yield [row.code, row.name, row.commune_name, *figure_values(row.figures)]
    yield [_("Total"), report.area.name, "", *figure_values(report.totals)]


# A cell starting with one of these is read as a formula (tab and carriage return: some programs trim them first).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """``value`` as a CSV cell no spreadsheet runs: text that starts like a formula gets a leading apostrophe,
    which spreadsheets show as "text follows"; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def file_name(report: Report, suffix: str) -> str:
    return f"bao-cao-phat-thanh-{report.area.code}-{report.first.isoformat()}-{report.last.isoformat()}.{suffix}"


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    # Every text quoted, so a separator inside a name (";" where that is the list separator) cannot start a cell.
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerows([csv_cell(v) for v in row] for row in station_table(report))
    return out.getvalue().encode("utf-8")


BOLD = Font(bold=True)


def _append_text_as_text(sheet: Worksheet, row: list) -> None:
    """Append a row; openpyxl takes a text starting with "=" for a formula, so such cells are made text again."""
    sheet.append(row)
    for column in range(1, len(row) + 1):
        cell = sheet.cell(sheet.max_row, column)
        if isinstance(cell.value, str) and cell.data_type == "f":
            cell.data_type = "s"


def _sheet(workbook: Workbook, title: str, rows: list[list], *, totals: bool, widths: list[int]) -> None:
    sheet = workbook.create_sheet(title[:31])  # Excel's limit on sheet names
    for row in rows:
        _append_text_as_text(sheet, row)
    for cell in sheet[1]:
        cell.font = BOLD
    if totals and len(rows) > 1:
        for cell in sheet[len(rows)]:
            cell.font = BOLD
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"


def _widths(rows: list[list], text_columns: int) -> list[int]:
    """Text columns as wide as their longest value (within reason); number columns as their header."""
    widths = []
    for index in range(len(rows[0])):
        longest = max(len(str(row[index])) for row in (rows if index < text_columns else rows[:1]))
        widths.append(min(max(longest + 2, 10), 50 if index < text_columns else 22))
    return widths


def to_xlsx(report: Report) -> bytes:
    """Stations (with a totals row), the area rollup, the days, and what the report covers."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    stations = list(station_table(report))
    _sheet(workbook, _("Stations"), stations, totals=True, widths=_widths(stations, 3))
    headers = measure_headers()
    areas = [[_("Code"), _("Area"), _("Stations"), *(headers[m] for m in MEASURES)]]
    areas += [[a.area.code, "  " * a.depth + a.area.name, a.stations, *figure_values(a.figures)]
              for a in report.areas]
    _sheet(workbook, _("Areas"), areas, totals=False, widths=_widths(areas, 2))
    days = [[_("Day"), _("Seconds requested"), _("Seconds played")]]
    days += [[d.day, round(d.seconds_requested), round(d.seconds_played)] for d in report.days]
    _sheet(workbook, _("Days"), days, totals=False, widths=[14, 22, 22])
    for (cell,) in workbook[_("Days")[:31]].iter_rows(min_row=2, max_col=1):
        cell.number_format = "DD/MM/YYYY"
    about = workbook.create_sheet(_("Report")[:31])
    for label, value in ((_("Area"), report.area.name), (_("Area code"), report.area.code),
                         (_("From"), report.first), (_("To"), report.last), (_("Time zone"), report.zone)):
        _append_text_as_text(about, [label, value])
        about.cell(about.max_row, 1).font = BOLD
        if not isinstance(value, str):
            about.cell(about.max_row, 2).number_format = "DD/MM/YYYY"
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 20, 40
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
