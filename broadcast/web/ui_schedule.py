"""The scheduling timeline: an area's slot sessions for a day or a week, how full each is, and the item order.

Server-rendered and usable without JavaScript: "move up" / "move down" are buttons of a small POST form per
item; static/schedule.js adds drag-and-drop that submits the same form. The timeline itself comes from
broadcast.services.timeline (the pure scheduler, compiled on the fly at a representative station); a move
sets the placement's position through the placements service, then the touched stations are recompiled.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import AnyOf, DataRequired, InputRequired, NumberRange

from broadcast import formats
from broadcast.db.models import Area, Role, User
from broadcast.errors import Forbidden, InvalidInput, NotFound
from broadcast.i18n import _, _l
from broadcast.services import areas, reports, scheduling, scope, timeline
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import local_today, utc_now
from broadcast.web.ui_items import class_label
from broadcast.web.ui_reports import area_choices
from broadcast.web.ui_stations import clock, duration, long_day

bp = Blueprint("schedule_ui", __name__)

NAV_ROLES = (Role.EDITOR, Role.APPROVER)  # admins always; operators open /schedule for their commune
VIEWS = ("day", "week")


class MoveForm(FlaskForm):
    """One item's place in one session; ``to`` comes from the pressed button (or the drop, with JavaScript)."""

    area = HiddenField(validators=[DataRequired()])
    key = HiddenField(validators=[DataRequired()])
    placement_id = IntegerField(validators=[InputRequired()])
    to = IntegerField(validators=[InputRequired(message=_l("Choose where the item goes.")),
                                  NumberRange(min=1, max=100, message=_l("Choose where the item goes."))])
    day = HiddenField()
    view = HiddenField(validators=[AnyOf(["", *VIEWS])])


def _area(user: User, wanted: str | None) -> Area:
    """The chosen area (by id), else the user's own, else the first one with stations in their scope."""
    if wanted:
        try:
            area = areas.get_area(db(), int(wanted))
        except (ValueError, NotFound):
            raise NotFound(_l("Choose an area from the list."), field="area") from None
        scope.require_area(user, area)
        return area
    area = user.scope_area or next(iter(reports.report_areas(db(), user)), None)
    if area is None:
        raise NotFound(_l("Choose an area from the list."), field="area")
    return area


def _day(text: str | None) -> date:
    if not text:
        return local_today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_l("Give the day as YYYY-MM-DD."), field="day") from None


def _period(day: date, view: str) -> tuple[date, date, int]:
    """First and last day shown, and the step of the previous/next links."""
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6), 7
    return day, day, 1


@bp.route("/schedule")
@role_required(*timeline.VIEWERS)
def schedule_page():
    user = signed_in_user()
    view = request.args.get("view") if request.args.get("view") in VIEWS else "day"
    day = _day(request.args.get("day"))
    area = _area(user, request.args.get("area"))
    first, last, step = _period(day, view)
    found = timeline.area_timeline(db(), settings(), user, area, first, last, now=utc_now())

    def link(**changes) -> str:
        args = {"area": area.id, "view": view, "day": day.isoformat(), **changes}
        return url_for(".schedule_page", **args)

    return render_template(
        "schedule/timeline.html", timeline=found, view=view, day=day, first=first, last=last,
        choices=area_choices(reports.report_areas(db(), user)), may_move=scope.has_role(user, *timeline.MOVERS),
        previous=link(day=(day - timedelta(days=step)).isoformat()),
        following=link(day=(day + timedelta(days=step)).isoformat()), today_link=link(day=local_today().isoformat()),
        day_link=lambda d: link(view="day", day=d.isoformat()), form=MoveForm(formdata=None), today=local_today())


@bp.route("/schedule/move", methods=["POST"])
@role_required(*timeline.MOVERS)
def move():
    """Set an item's place in a session (up, down, or where it was dropped), then back to the timeline."""
    user = signed_in_user()
    form = MoveForm()
    view = form.view.data if form.view.data in VIEWS else "day"
    back = {"area": form.area.data or None, "view": view, "day": form.day.data or None}
    if not form.validate_on_submit():
        flash(_("The item could not be moved: reload the page and try again."), "error")
        return redirect(url_for(".schedule_page", **back))
    area = _area(user, form.area.data)
    try:
        placement = timeline.move_placement(db(), settings(), user, area, form.key.data, form.placement_id.data,
                                            form.to.data, now=utc_now(), today=local_today())
    except (InvalidInput, NotFound, Forbidden) as error:
        db().rollback()
        flash(str(error.message), "error")
    else:
        scheduling.after_change(db(), settings(), scheduling.placement_stations(db(), placement), now=utc_now())
        flash(_("Moved to place %(place)s: %(title)s.", place=form.to.data, title=placement.item.title), "info")
    return redirect(url_for(".schedule_page", **back, _anchor=anchor(form.key.data)))


def anchor(key: str) -> str:
    return "o-" + "".join(c if c.isalnum() else "-" for c in key)


def amount(ms: int) -> str:
    """A length in words in the reader's language: "2 phút 10 giây" / "2 min 10 s"."""
    return formats.spoken_length(ms / 1000)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole > 0 else "0%"


def problem_label(kind: str) -> str:
    labels = {"dropped": _("Some items were left out: the session is too full."),
              "moved": _("Some items were moved to the next session: this one is too full."),
              "never_fits": _("An item is longer than the whole session."),
              "not_rendered": _("Some items have not been read aloud yet: their length is an estimate.")}
    return labels.get(kind, "")


@bp.app_template_filter("quoted")
def quoted(title: str) -> str:
    """A title as the pages quote it in a sentence: «Tin một»."""
    return f"«{title}»"


@bp.context_processor
def _helpers():
    return {"clock": clock, "duration": duration, "long_day": long_day, "amount": amount, "percent": percent,
            "problem_label": problem_label, "anchor": anchor, "item_class_label": class_label}


@bp.app_context_processor
def _navigation():
    return {"may_see_schedule": lambda: current_user.is_authenticated and scope.has_role(current_user, *NAV_ROLES)}
