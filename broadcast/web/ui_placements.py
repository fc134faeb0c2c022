"""Placing an item into air-time slots from the browser: the slot, the days, and the areas and stations it airs at.

Server-rendered and usable without JavaScript. The targets are picked on the area tree of the user's scope
(broadcast.services.target_tree): nested lists with checkboxes that fold with <details>, where a checked area
means its whole subtree. The tree is not sent whole: a province of ~10,000 stations shows its communes, and a
commune's stations come when it is unfolded. static/place.js loads them in place from GET /areas/<id>/children
(an HTML fragment of the same markup); without it the "show" button is a submit button of the form, which
comes back with everything typed and that area unfolded. The script also greys out what a checked area covers
and sums up the choice ("3 xã, 12 đài").

The placement itself is the service's (broadcast.services.placements), as in POST /api/v1/placements; a refusal
comes back next to its field with nothing written: 400 for what was typed, 403 outside the user's area, 409 for
an item that cannot be placed. An unknown item is a 404 page. Commune operators place their commune's items in
their commune: the service records the placement as the commune's own (a commune-local item).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_login import current_user

from broadcast.db.models import Area, ItemStatus, NewsItem, Placement, Role, Slot, User
from broadcast.errors import Conflict, DomainError, Forbidden, NotFound
from broadcast.i18n import _, _l, in_english
from broadcast.services import areas, items, placements, placing, scheduling, scope, slots, target_tree
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.placement_forms import WEEKDAY_LABELS, PlaceForm
from broadcast.web.time import local_today, utc_now
from broadcast.web.ui_items import class_label, length, status_label
from broadcast.web.ui_schedule import amount

bp = Blueprint("placements_ui", __name__)

PLACERS = (Role.EDITOR, Role.OPERATOR)  # as the placements service; approvers read the timeline
TARGETS_SHOWN = 6  # in the list of placements; the rest as "and N more"


def may_place(item: NewsItem) -> bool:
    """Whether the editor page offers "Place in the schedule": an approved item, a user who places items."""
    return (current_user.is_authenticated and scope.has_role(current_user, *PLACERS)
            and item.status is ItemStatus.APPROVED)


@bp.route("/items/<int:item_id>/place", methods=["GET", "POST"])
@role_required(*PLACERS)
def place_item(item_id: int):
    user = signed_in_user()
    item = items.get_item(db(), user, item_id)  # outside the user's area: 404, as in the API
    today = local_today()
    choices = slots.usable_slots(db(), user, today=today)
    if request.method == "GET":
        return _page(user, item, PlaceForm(formdata=None, date_from=today, date_until=today), choices)
    form = PlaceForm()
    form.choose_from({s.id for s in choices})
    expand = request.form.get("expand", type=int)
    if expand is not None:  # "show" pressed without JavaScript: the same form, with that area unfolded
        return _page(user, item, form, choices, expand=(expand,))
    if not form.validate():
        # What the service would also refuse in the fields that were readable, so that one answer says it all.
        form.show_error(placements.field_problems(form.spec(item.id), today))
        return _page(user, item, form, choices), 400
    try:
        answer = placing.place(db(), settings(), user, form.spec(item.id), today=today, now=utc_now())
    except DomainError as error:
        db().rollback()
        form.show_error(error, default_field="targets" if isinstance(error, Forbidden) else None)
        status = 403 if isinstance(error, Forbidden) else 409 if isinstance(error, Conflict) else 400
        return _page(user, item, form, choices), status
    placement = answer.placement
    flash(_("Placed in the schedule: %(title)s, %(slot)s, %(days)s.", title=item.title,
            slot=slot_label(placement.slot), days=period(placement)), "info")
    english = in_english()
    for note in answer.notes:  # what the editor would not guess: days without a session, locked ones, what gave way
        flash(note.text_en if english else note.text_vi, "warning")
    return redirect(url_for("schedule_ui.schedule_page", area=timeline_area(placement),
                            day=first_day(placement).isoformat()))


def _page(user: User, item: NewsItem, form: PlaceForm, choices: list[Slot], *, expand: tuple[int, ...] = ()):
    chosen = form.targets.data or []
    return render_template(
        "items/place.html", item=item, form=form, slot_groups=slot_groups(choices), selected=set(chosen),
        tree=target_tree.target_tree(db(), user, selected=chosen, expand=expand),
        placed=[(p, _may_delete(user, p)) for p in placements.item_placements(db(), item)], today=local_today())


def _may_delete(user: User, placement: Placement) -> bool:
    """As the service decides: a placement made from an area is removed by someone covering that area."""
    placed_by = db().get(Area, placement.placed_by_area_id) if placement.placed_by_area_id else None
    return placed_by is None or scope.covers(user, placed_by)


@bp.route("/items/<int:item_id>/placements/<int:placement_id>/delete", methods=["POST"])
@role_required(*PLACERS)
def delete_placement(item_id: int, placement_id: int):
    user = signed_in_user()
    placement = placements.get_placement(db(), user, placement_id)
    if placement.item_id != item_id:
        raise NotFound(_l("Placement %(id)s does not exist.", id=placement_id))
    affected = scheduling.placement_stations(db(), placement)
    summary = _("%(slot)s, %(days)s", slot=slot_label(placement.slot), days=period(placement))
    placements.delete_placement(db(), user, placement)
    scheduling.after_change(db(), settings(), affected, now=utc_now())
    flash(_("Taken off the schedule: %(placement)s.", placement=summary), "info")
    return redirect(url_for(".place_item", item_id=item_id, _anchor="placed-h"))


@bp.route("/areas/<int:area_id>/children")
@role_required(*PLACERS)
def area_children(area_id: int):
    """One level of the picker (an area's communes, or a commune's stations) as an HTML fragment for place.js."""
    nodes = target_tree.children(db(), signed_in_user(), areas.get_area(db(), area_id))
    return render_template("items/_area_tree.html", nodes=nodes, selected=set())


def timeline_area(placement: Placement) -> int:
    """The area whose timeline shows the new placement: its first area target, else its first station's commune
    (the timeline airs an area as at its first station, so an area target is sure to show there)."""
    ordered = sorted(placement.targets, key=lambda t: (t.area_id is None, t.id))
    return ordered[0].area_id if ordered[0].area_id is not None else ordered[0].station.commune_id


def first_day(placement: Placement) -> date:
    """The first day in the placement's range on one of its weekdays (the timeline opens there)."""
    wanted = placement.weekdays.split(",") if placement.weekdays else placements.WEEKDAYS
    day = placement.date_from
    while day < placement.date_until and placements.WEEKDAYS[day.weekday()] not in wanted:
        day += timedelta(days=1)
    return day


def slot_label(slot: Slot) -> str:
    """A slot as people name it: its local start time, name and length, "06:00 · Buổi sáng (10 phút)"."""
    return f"{slot.start_time:%H:%M} · {slot.name} ({amount(slot.duration_s * 1000)})"


def slot_groups(choices: list[Slot]) -> list[tuple[str, list[tuple[int, str]]]]:
    """The slots under the area or station they belong to, for the select's option groups."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for slot in choices:
        owner = slot.area.name if slot.area_id else f"{slot.station.name} ({slot.station.code})"
        groups.setdefault(owner, []).append((slot.id, slot_label(slot)))
    return list(groups.items())


def period(placement: Placement) -> str:
    first, last = format_date(placement.date_from, "dd/MM/yyyy"), format_date(placement.date_until, "dd/MM/yyyy")
    return first if first == last else f"{first}–{last}"


def weekdays_label(placement: Placement) -> str:
    if not placement.weekdays:
        return _("every day")
    return ", ".join(str(WEEKDAY_LABELS[d]) for d in placement.weekdays.split(",") if d in WEEKDAY_LABELS)


def target_label(target) -> str:
    return f"{target.station.name} ({target.station.code})" if target.station_id else target.area.name


@bp.context_processor
def _helpers():
    return {"weekday_labels": WEEKDAY_LABELS, "slot_label": slot_label, "period": period, "length": length,
            "weekdays_label": weekdays_label, "target_label": target_label, "targets_shown": TARGETS_SHOWN,
            "item_status_label": status_label, "item_class_label": class_label}


@bp.app_context_processor
def _navigation():
    return {"may_place": may_place}
