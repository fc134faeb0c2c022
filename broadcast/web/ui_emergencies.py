"""Emergency broadcast pages: the list with a request form, and one broadcast with its tracking and actions.

Editors request, approvers approve, reject, cancel and re-send, everyone in the areas reads. The same services as
the JSON API (broadcast.web.api.emergencies) do the work; after each change the commands go out at once.

Made for people under stress: the areas are ticked on the placement page's searchable tree (communes only), the
risk level shows its name and colour (Decision 18/2021/QĐ-TTg), the approver hears the warning before approving,
cancelling asks to confirm on a page of its own, the status refreshes itself (static/emergency.js re-fetches
GET /emergencies/<id>/status), and while one waits every page shows approvers a banner and they get an e-mail
(broadcast.services.emergency_notice) and the webhooks of its areas an ``emergency.pending`` event.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateTimeLocalField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from broadcast.db.models import AuditLog, EmergencyBroadcast, EmergencyState, ItemClass, NewsItem, Role, User
from broadcast.errors import DomainError, Problems
from broadcast.i18n import _, _l
from broadcast.services import areas, emergencies, emergency_delivery, emergency_notice, scope, target_tree
from broadcast.services.audit import record
from broadcast.web.agent_replies import agent_reply
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.form_errors import show_problems
from broadcast.web.helpers import person_name
from broadcast.web.placement_forms import ListField
from broadcast.web.time import utc_now
from broadcast.web.ui_items import length

bp = Blueprint("emergencies_ui", __name__)

REQUESTERS = (Role.EDITOR, Role.APPROVER)


class RequestForm(FlaskForm):
    item_id = SelectField(_l("Bulletin"), coerce=int, validators=[InputRequired(
        message=_l("Choose the emergency bulletin to broadcast."))])
    # Ticked on the area tree (the placement page's, down to communes): any codes; the service checks them.
    targets = ListField(_l("Areas to warn"), limit=2000, validators=[DataRequired(
        message=_l("Choose at least one area to warn."))])
    risk_level = SelectField(_l("Risk level"), coerce=int, default=3)
    repeat_count = IntegerField(_l("Times it airs"), default=1, validators=[
        InputRequired(message=_l("Say how many times it airs.")),
        NumberRange(1, emergencies.MAX_REPEATS, message=_l("From 1 to %(max)s times.", max=emergencies.MAX_REPEATS))])
    repeat_interval_min = IntegerField(_l("Minutes between airings"), default=10, validators=[
        Optional(), NumberRange(0, 24 * 60, message=_l("From 0 to 1440 minutes."))])
    expires_at = DateTimeLocalField(_l("Valid until (local time)"), format="%Y-%m-%dT%H:%M",
                                    validators=[Optional()])


# The service's names of the request's fields, on this form.
REQUEST_FIELDS = {"areas": "targets", "repeat_interval_s": "repeat_interval_min"}


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])


def _choices(form: RequestForm, user: User) -> None:
    items = db().scalars(select(NewsItem).where(NewsItem.item_class == ItemClass.EMERGENCY,
                                                NewsItem.audio_asset_id.is_not(None))
                         .order_by(NewsItem.id.desc()).limit(100))
    form.item_id.choices = [Choice(item.id, item.title) for item in items
                            if item.owner_area is None or scope.covers(user, item.owner_area)]
    form.risk_level.choices = [Choice(n, risk_label(n)) for n in emergencies.RISK_LEVELS]


def _list_page(user: User, form: RequestForm, *, expand: tuple[int, ...] = (), status: int = 200):
    may_request = scope.has_role(user, *REQUESTERS)
    tree = (target_tree.target_tree(db(), user, selected=form.targets.data or [], expand=expand, stations=False)
            if may_request else [])
    return render_template("emergencies/list.html", broadcasts=emergencies.list_broadcasts(db(), user), form=form,
                           may_request=may_request, tree=tree, selected=set(form.targets.data or [])), status


@bp.route("/emergencies")
@login_required
def emergency_list():
    user = signed_in_user()
    form = RequestForm(formdata=None)
    _choices(form, user)
    return _list_page(user, form)


@bp.route("/emergencies/areas/<int:area_id>/children")
@role_required(*REQUESTERS)
def area_children(area_id: int):
    """One level of the area tree (a province's communes), for static/place.js, as on the placement page."""
    nodes = target_tree.children(db(), signed_in_user(), areas.get_area(db(), area_id), stations=False)
    return render_template("items/_area_tree.html", nodes=nodes, selected=set(),
                           children_endpoint="emergencies_ui.area_children")


@bp.route("/emergencies", methods=["POST"])
@role_required(*REQUESTERS)
def request_emergency():
    user = signed_in_user()
    form = RequestForm()
    _choices(form, user)
    expand = request.form.get("expand", type=int)
    if expand is not None:  # "show" pressed without JavaScript: the same form, with that area unfolded
        form.validate()
        for field in form:
            field.errors = []
        return _list_page(user, form, expand=(expand,))
    valid = form.validate_on_submit()
    expires_at = form.expires_at.data.replace(tzinfo=settings().zone) if form.expires_at.data else None
    repeat = form.repeat_count.data if isinstance(form.repeat_count.data, int) else 1
    fields = emergencies.EmergencyFields(
        item_id=form.item_id.data, area_codes=form.targets.data or [], risk_level=form.risk_level.data or 3,
        repeat_count=repeat, repeat_interval_s=(form.repeat_interval_min.data or 0) * 60 if repeat > 1 else 0,
        expires_at=expires_at)
    if not valid:
        # What the service would also refuse in the readable fields (the expiry), so one answer says it all.
        found = Problems()
        emergencies.check_fields(fields, None, utc_now(), found)
        show_problems(form, found, field_of=REQUEST_FIELDS)
    else:
        try:
            broadcast, outgoing = emergencies.request(db(), user, fields, now=utc_now(),
                                                      two_person=settings().emergency_two_person)
        except DomainError as error:
            db().rollback()
            show_problems(form, error, field_of=REQUEST_FIELDS, default="item_id")
        else:
            emergency_delivery.dispatch(settings(), outgoing)
            if broadcast.state is EmergencyState.PENDING:
                notify_approvers(broadcast)
            flash(_("Emergency broadcast sent to %(n)s stations.", n=len(outgoing.commands)) if outgoing
                  else _("Emergency broadcast requested: an approver must now approve it."), "info")
            return redirect(url_for(".emergency_page", broadcast_id=broadcast.id))
    return _list_page(user, form, status=422)


def notify_approvers(broadcast: EmergencyBroadcast) -> None:
    """E-mail the approvers of its areas that it waits for them, in Vietnamese, from a background thread; the
    audit (and so the emergency's page) says how many were written to and who was not, having no address."""
    current = settings()
    if not current.smtp_url:
        return
    reach = emergency_notice.approvers_reach(db(), broadcast)
    record(db(), "service", NOTICE_ACTION, "emergency", broadcast.id,
           {"written": len(reach.addresses), "without_address": list(reach.without_address)})
    db().commit()
    recipients = reach.addresses
    if not recipients:
        return
    link = url_for(".emergency_page", broadcast_id=broadcast.id, _external=True)
    if current.public_url:
        link = current.public_url.rstrip("/") + url_for(".emergency_page", broadcast_id=broadcast.id)
    with force_locale("vi"):
        subject = _("Emergency broadcast waiting for approval: %(title)s (%(risk)s)", title=broadcast.title,
                    risk=risk_label(broadcast.risk_level))
        body = "\n".join([
            _("An emergency broadcast waits for your approval; it does not air until an approver approves it."),
            "", _("Bulletin: %(title)s", title=broadcast.title), risk_label(broadcast.risk_level),
            _("Warned areas: %(areas)s", areas=", ".join(a.name for a in broadcast.areas)),
            _("Requested by: %(name)s", name=_requester(broadcast)),
            _("Valid until: %(when)s", when=broadcast.expires_at.astimezone(current.zone).strftime("%H:%M %d/%m/%Y")),
            "", _("Listen and approve or reject: %(link)s", link=link)])
    emergency_notice.send_in_background(current.smtp_url, current.smtp_from,
                                        emergency_notice.Notice(recipients, subject, body))


def _requester(broadcast: EmergencyBroadcast) -> str:
    if broadcast.requested_by is not None:
        return person_name(broadcast.requested_by)
    return f"CAP {broadcast.cap_sender or ''}".strip()


NOTICE_ACTION = "emergency.notice"


def _notice(broadcast: EmergencyBroadcast) -> dict | None:
    """What the e-mail to the approvers reached (the audit's last word on it), None when none was sent."""
    return db().scalar(select(AuditLog.details).where(AuditLog.action == NOTICE_ACTION,
                                                      AuditLog.entity_type == "emergency",
                                                      AuditLog.entity_id == str(broadcast.id))
                       .order_by(AuditLog.id.desc()).limit(1))


def _detail_context(user: User, broadcast: EmergencyBroadcast) -> dict:
    tracks = emergencies.tracking(db(), broadcast, now=utc_now(),
                                  silent_after=timedelta(seconds=settings().emergency_silent_after_s))
    expired = _expired(broadcast)
    return {"broadcast": broadcast, "tracks": tracks, "summary": emergencies.summary(tracks),
            "by_area": emergencies.by_commune(tracks), "expired": expired,
            "open": broadcast.state in (EmergencyState.PENDING, EmergencyState.ISSUED) and not expired,
            "notice": _notice(broadcast)}


@bp.route("/emergencies/<int:broadcast_id>")
@login_required
def emergency_page(broadcast_id: int):
    user = signed_in_user()
    broadcast = emergencies.get_broadcast(db(), user, broadcast_id)
    two_person = settings().emergency_two_person
    return render_template(
        "emergencies/detail.html", **_detail_context(user, broadcast), reason_form=ReasonForm(formdata=None),
        now=utc_now(), requester=_requester(broadcast),
        may_approve=scope.has_role(user, Role.APPROVER) and not (two_person and broadcast.requested_by_id == user.id),
        may_decide=scope.has_role(user, Role.APPROVER), may_resend=scope.has_role(user, *REQUESTERS))


@bp.route("/emergencies/<int:broadcast_id>/status")
@login_required
def emergency_status(broadcast_id: int):
    """The live part of the page (state, stations) as an HTML fragment, for static/emergency.js to swap in."""
    broadcast = emergencies.get_broadcast(db(), signed_in_user(), broadcast_id)
    response = make_response(render_template("emergencies/_status.html",
                                             **_detail_context(signed_in_user(), broadcast)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/emergencies/<int:broadcast_id>/cancel")
@role_required(Role.APPROVER)
def confirm_cancel(broadcast_id: int):
    """The step before cancelling: what stops, a reason, and a second button (no script needed)."""
    user = signed_in_user()
    broadcast = emergencies.get_broadcast(db(), user, broadcast_id)
    if broadcast.state not in (EmergencyState.PENDING, EmergencyState.ISSUED):
        flash(_("This emergency broadcast is %(state)s already.", state=emergencies.STATE_NAMES[broadcast.state]),
              "error")
        return redirect(url_for(".emergency_page", broadcast_id=broadcast_id), 303)
    return render_template("emergencies/cancel.html", broadcast=broadcast, summary=_detail_context(
        user, broadcast)["summary"], reason_form=ReasonForm(formdata=None))


def _expired(broadcast) -> bool:
    return broadcast.expires_at <= utc_now()


def _act(broadcast_id: int, action: str):
    user = signed_in_user()
    broadcast = emergencies.get_broadcast(db(), user, broadcast_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for(".emergency_page", broadcast_id=broadcast_id), 303)
    now, current = utc_now(), settings()
    try:
        if action == "approve":
            outgoing = emergencies.approve(db(), user, broadcast, now=now, two_person=current.emergency_two_person)
            message = _("Approved: sent to %(n)s stations.", n=len(outgoing.commands))
        elif action == "reject":
            emergencies.reject(db(), user, broadcast, form.reason.data, now=now)
            outgoing, message = emergencies.Outgoing(), _("Rejected: nothing was sent.")
        elif action == "cancel":
            outgoing = emergencies.cancel(db(), user, broadcast, form.reason.data, now=now)
            message = _("Cancelled: the stations drop the airings still to come.")
        else:
            outgoing = emergencies.resend(db(), user, broadcast, now=now,
                                          silent_after=timedelta(seconds=current.emergency_silent_after_s))
            message = _("Sent again to %(n)s stations.", n=len(outgoing.commands))
    except DomainError as error:
        db().rollback()
        flash(str(error.message), "error")
        return redirect(url_for(".emergency_page", broadcast_id=broadcast_id), 303)
    emergency_delivery.dispatch(current, outgoing)
    flash(message, "info")
    return redirect(url_for(".emergency_page", broadcast_id=broadcast_id), 303)


@bp.route("/emergencies/<int:broadcast_id>/<any(approve, reject, cancel, resend):action>", methods=["POST"])
@role_required(Role.EDITOR, Role.APPROVER)
def emergency_action(broadcast_id: int, action: str):
    return _act(broadcast_id, action)


# Decision 18/2021/QĐ-TTg: five risk levels, each with its name; the colours (light blue, light yellow, orange,
# red, purple) are in app.css as .risk-1 … .risk-5.
RISK_NAMES = {1: _l("small risk"), 2: _l("medium risk"), 3: _l("large risk"), 4: _l("very large risk"),
              5: _l("disaster")}


def risk_label(level: int) -> str:
    name = RISK_NAMES.get(level)
    return _("Risk level %(n)s: %(name)s", n=level, name=name) if name else _("Risk level %(n)s", n=level)


def pending_banner() -> int:
    """Emergency broadcasts waiting in the signed-in approver's area (0 for anyone else): base.html's banner."""
    if not current_user.is_authenticated or current_user.role not in (Role.APPROVER, Role.ADMIN):
        return 0
    return emergencies.pending_count(db(), current_user, utc_now())


def state_label(state) -> str:
    labels = {"pending": _("Waiting for approval"), "issued": _("Sent"), "rejected": _("Rejected"),
              "cancelled": _("Cancelled"), "test": _("Exercise or test (not aired)")}
    return labels.get(getattr(state, "value", state), str(state))


def track_detail(text: str | None) -> str:
    """What an agent said of a warning, in the reader's language (broadcast.web.agent_replies)."""
    return agent_reply(text)


def track_label(status: str) -> str:
    labels = {"played": _("Played"), "received": _("Received"), "sent": _("Sent, no answer yet"),
              "silent": _("Silent"), "failed": _("Failed")}
    return labels.get(status, status)


@bp.app_context_processor
def _labels() -> dict:
    return {"risk_label": risk_label, "emergency_state_label": state_label, "track_label": track_label,
            "emergencies_waiting": pending_banner, "audio_length": length, "track_detail": track_detail}

