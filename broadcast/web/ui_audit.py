"""The audit log page (/audit): who did what and when, for administrators; filtered by person, kind of work and
local days, paged, and the same list as a CSV file."""

from __future__ import annotations

import csv
import io
from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, url_for

from broadcast.i18n import _, format_datetime
from broadcast.services import audit_view
from broadcast.services.report_files import BOM, csv_cell
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.helpers import person_name

bp = Blueprint("audit_ui", __name__)

PAGE_SIZE = 50
CSV_LIMIT = 50_000


def action_label(action: str) -> str:
    """An action in the reader's language; one not named here (a newer one) is shown as written."""
    labels = {
        "item.create": _("Wrote a bulletin"), "item.update": _("Changed a bulletin"),
        "item.submit": _("Sent a bulletin for approval"), "item.approve": _("Approved a bulletin"),
        "item.reject": _("Turned down a bulletin"), "item.archive": _("Archived a bulletin"),
        "item.recording": _("Attached a recording"), "item.render_requested": _("Asked for a reading"),
        "item.rendered": _("Reading ready (speech made)"), "item.render_failed": _("Reading failed"),
        "item.cap_import": _("Bulletin from a CAP warning"), "item.received": _("Bulletin received from a source"),
        "placement.create": _("Placed a bulletin"), "placement.update": _("Changed a placement"),
        "placement.delete": _("Removed a placement"), "placement.order": _("Set a commune's order"),
        "slot.create": _("Created a session"), "slot.update": _("Changed a session"),
        "slot.delete": _("Removed a session"), "slot.exception": _("Changed one day of a session"),
        "emergency.request": _("Asked for an emergency broadcast"),
        "emergency.issue": _("Issued an emergency broadcast"),
        "emergency.reject": _("Turned down an emergency broadcast"),
        "emergency.cancel": _("Cancelled an emergency broadcast"), "emergency.resend": _("Sent an emergency again"),
        "emergency.cap_import": _("Emergency from a CAP warning"),
        "emergency.notice": _("Approvers notified of an emergency"),
        "live.open": _("Opened a live announcement"), "live.start": _("Went on air live"),
        "live.end": _("Ended a live announcement"),
        "station.add": _("Added a station"), "station.token": _("Issued a station's token"),
        "station.token_revoke": _("Revoked a station's token"), "station.host_key": _("Set a station's SSH key"),
        "station.command.play_now": _("Remote control: play now"), "station.command.stop": _("Remote control: stop"),
        "station.command.volume": _("Remote control: volume"),
        "station.command.play_stream": _("Remote control: relay a stream"),
        "airing.confirm": _("Confirmed an airing by hand"),
        "user.create": _("Created an account"), "user.update": _("Changed an account"),
        "user.deactivate": _("Deactivated an account"), "user.reactivate": _("Reactivated an account"),
        "user.login": _("Logged in"), "user.login_refused": _("Login refused"), "user.logout": _("Logged out"),
        "user.password": _("Changed their password"), "user.password_reset": _("Reset a password"),
        "user.reset": _("Sessions ended by a password reset"), "user.token": _("Issued an API token"),
        "user.token_revoke": _("Revoked an API token"), "user.email": _("Changed an e-mail address"),
        "user.two_factor.enrol": _("Set up two-factor login"),
        "user.two_factor.enrol_failed": _("Two-factor set-up failed"),
        "user.two_factor.passed": _("Two-factor code accepted"), "user.two_factor.failed": _("Two-factor code refused"),
        "user.two_factor.recovery_codes": _("New recovery codes"),
        "user.two_factor.recovery_used": _("Used a recovery code"),
        "user.two_factor.disable": _("Turned off two-factor login"),
        "library.add": _("Added to the library"), "library.rename": _("Renamed in the library"),
        "library.remove": _("Removed from the library"), "lexicon.set": _("Set a pronunciation"),
        "lexicon.delete": _("Removed a pronunciation"),
        "areas.load": _("Loaded a province's areas"), "areas.outlines_imported": _("Imported boundaries"),
        "areas.outlines_removed": _("Removed boundaries"),
        "source.create": _("Added a bulletin source"), "source.enable": _("Switched a bulletin source"),
        "webhook.create": _("Added a webhook"), "webhook.deactivate": _("Switched off a webhook"),
        "webhook.delete": _("Removed a webhook"),
    }
    return labels.get(action, action)


def actor_label(row: audit_view.Row) -> str:
    """The person by name; the service's own work as such."""
    if row.person is not None:
        return person_name(row.person)
    actor = row.entry.actor
    if actor.startswith("station:"):
        return _("Station %(code)s", code=actor.split(":", 1)[1])
    if actor.startswith("source:"):
        return _("Source %(name)s", name=actor.split(":", 1)[1])
    if actor in ("cli", "service") or actor.startswith("job"):
        return _("The service (%(what)s)", what=actor)
    return actor


def subject_label(row: audit_view.Row) -> str:
    """What the action was done to, e.g. "Bản tin 12"; a kind not named here as the log writes it."""
    entry = row.entry
    kinds = {"item": _("Bulletin"), "emergency": _("Emergency broadcast"), "live": _("Live announcement"),
             "station": _("Station"), "user": _("Account"), "slot": _("Session"), "placement": _("Placement"),
             "library_clip": _("Library entry"), "lexicon": _("Pronunciation"), "area": _("Area"),
             "area_outlines": _("Boundaries"), "webhook": _("Event receiver"), "upstream_source": _("Bulletin source")}
    kind = kinds.get(entry.entity_type, entry.entity_type)
    return f"{kind} {entry.entity_id}" if entry.entity_id is not None else kind


def subject_link(row: audit_view.Row) -> str | None:
    entry = row.entry
    if entry.entity_id is None:
        return None
    kind, ident = entry.entity_type, entry.entity_id
    if kind == "item" and ident.isdigit():
        return url_for("items_ui.edit_item", item_id=int(ident))
    if kind == "emergency" and ident.isdigit():
        return url_for("emergencies_ui.emergency_page", broadcast_id=int(ident))
    if kind == "live" and ident.isdigit():
        return url_for("live_ui.live_detail", live_id=int(ident))
    if kind == "station":
        return url_for("stations_ui.station", code=ident)
    return None


def moment(at) -> str:
    """When, in the service's zone, to the second (several entries often share a minute)."""
    return format_datetime(at, "dd/MM/yyyy HH:mm:ss")


def details_text(details: dict | None) -> str:
    """The entry's details as the log keeps them (technical: names of fields), each value cut short."""
    parts = []
    for key, value in (details or {}).items():
        text = value if isinstance(value, str) else repr(value)
        parts.append(f"{key}={text[:80]}{'…' if len(text) > 80 else ''}")
    return "; ".join(parts)


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filter() -> audit_view.AuditFilter:
    group = request.args.get("group")
    return audit_view.AuditFilter(who=(request.args.get("who") or "")[:100],
                                  group=group if group in audit_view.GROUPS else None,
                                  day_from=_day("from"), day_until=_day("until"))


@bp.route("/audit")
@role_required(*audit_view.READERS)
def audit_page():
    found = _filter()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows = audit_view.search(db(), signed_in_user(), found, zone=ZoneInfo(settings().timezone),
                             limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    query = {"who": found.who or None, "group": found.group,
             "from": found.day_from.isoformat() if found.day_from else None,
             "until": found.day_until.isoformat() if found.day_until else None}

    def page_url(number: int) -> str:
        return url_for(".audit_page", **query, page=number if number > 1 else None)

    return render_template("audit/list.html", rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE, page=page,
                           page_url=page_url, found=found, groups=audit_view.GROUP_LABELS,
                           csv_url=url_for(".audit_csv", **query), action_label=action_label,
                           subject_label=subject_label, actor_label=actor_label, subject_link=subject_link,
                           details_text=details_text, filtered=any(query.values()), moment=moment)


@bp.route("/audit.csv")
@role_required(*audit_view.READERS)
def audit_csv():
    rows = audit_view.search(db(), signed_in_user(), _filter(), zone=ZoneInfo(settings().timezone),
                             limit=CSV_LIMIT)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Time"), _("Person"), _("Login"), _("Action"), _("Action code"), _("Subject"),
                     _("Details")])
    for row in rows:
        entry = row.entry
        writer.writerow([csv_cell(v) for v in (
            moment(entry.at), actor_label(row), entry.actor, action_label(entry.action), entry.action,
            subject_label(row), details_text(entry.details))])
    return Response(BOM + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="nhat-ky-hoat-dong.csv"'})
