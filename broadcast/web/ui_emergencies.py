"""Emergency broadcast pages: the list with a request form, and one broadcast with its tracking and actions.

Editors request, approvers approve, reject, cancel and re-send, everyone in the areas reads. The same services as
the JSON API (broadcast.web.api.emergencies) do the work; after each change the commands go out at once.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from broadcast.db.models import Area, ItemClass, Level, NewsItem, Role, Structure, User
from broadcast.errors import DomainError
from broadcast.i18n import _, _l
from broadcast.services import emergencies, emergency_delivery, scope
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.time import utc_now

bp = Blueprint("emergencies_ui", __name__)

REQUESTERS = (Role.EDITOR, Role.APPROVER)


class RequestForm(FlaskForm):
    item_id = SelectField(_l("Bulletin"), coerce=int, validators=[InputRequired(
        message=_l("Choose the emergency bulletin to broadcast."))])
    areas = SelectMultipleField(_l("Areas to warn"), validators=[DataRequired(
        message=_l("Choose at least one area to warn."))])
    risk_level = SelectField(_l("Risk level"), coerce=int, choices=[Choice(n, str(n)) for n in range(1, 6)],
                             default=3)
    repeat_count = IntegerField(_l("Times it airs"), default=1, validators=[
        InputRequired(message=_l("Say how many times it airs.")),
        NumberRange(1, emergencies.MAX_REPEATS, message=_l("From 1 to %(max)s times.", max=emergencies.MAX_REPEATS))])
    repeat_interval_min = IntegerField(_l("Minutes between airings"), default=10, validators=[
        Optional(), NumberRange(0, 24 * 60, message=_l("From 0 to 1440 minutes."))])
    expires_at = DateTimeLocalField(_l("Valid until (local time)"), format="%Y-%m-%dT%H:%M",
                                    validators=[Optional()])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])


def _choices(form: RequestForm, user: User) -> None:
    items = db().scalars(select(NewsItem).where(NewsItem.item_class == ItemClass.EMERGENCY,
                                                NewsItem.audio_asset_id.is_not(None))
                         .order_by(NewsItem.id.desc()).limit(100))
    form.item_id.choices = [Choice(item.id, item.title) for item in items
                            if item.owner_area is None or scope.covers(user, item.owner_area)]
    areas = db().scalars(scope.limit_areas(user, select(Area).where(Area.structure == Structure.CURRENT)
                                           .order_by(Area.path)).limit(2000))
    indent = {Level.PROVINCE: "", Level.DISTRICT: "— ", Level.COMMUNE: "—— "}
    form.areas.choices = [Choice(area.code, f"{indent[area.level]}{area.name}") for area in areas]


@bp.route("/emergencies")
@login_required
def emergency_list():
    user = signed_in_user()
    form = RequestForm(formdata=None)
    _choices(form, user)
    return render_template("emergencies/list.html", broadcasts=emergencies.list_broadcasts(db(), user), form=form,
                           may_request=scope.has_role(user, *REQUESTERS))


@bp.route("/emergencies", methods=["POST"])
@role_required(*REQUESTERS)
def request_emergency():
    user = signed_in_user()
    form = RequestForm()
    _choices(form, user)
    if form.validate_on_submit():
        expires_at = form.expires_at.data.replace(tzinfo=settings().zone) if form.expires_at.data else None
        repeat = form.repeat_count.data
        fields = emergencies.EmergencyFields(
            item_id=form.item_id.data, area_codes=form.areas.data, risk_level=form.risk_level.data,
            repeat_count=repeat, repeat_interval_s=(form.repeat_interval_min.data or 0) * 60 if repeat > 1 else 0,
            expires_at=expires_at)
        try:
            broadcast, outgoing = emergencies.request(db(), user, fields, now=utc_now(),
                                                      two_person=settings().emergency_two_person)
        except DomainError as error:
            db().rollback()
            field = {"item_id": form.item_id, "areas": form.areas, "risk_level": form.risk_level,
                     "repeat_count": form.repeat_count, "repeat_interval_s": form.repeat_interval_min,
                     "expires_at": form.expires_at}.get(error.field or "", form.item_id)
            field.errors = [*field.errors, str(error.message)]
        else:
            emergency_delivery.dispatch(settings(), outgoing)
            flash(_("Emergency broadcast sent to %(n)s stations.", n=len(outgoing.commands)) if outgoing
                  else _("Emergency broadcast requested: an approver must now approve it."), "info")
            return redirect(url_for(".emergency_page", broadcast_id=broadcast.id))
    return render_template("emergencies/list.html", broadcasts=emergencies.list_broadcasts(db(), user), form=form,
                           may_request=True), 422


@bp.route("/emergencies/<int:broadcast_id>")
@login_required
def emergency_page(broadcast_id: int):
    user = signed_in_user()
    broadcast = emergencies.get_broadcast(db(), user, broadcast_id)
    tracks = emergencies.tracking(db(), broadcast, now=utc_now(),
                                  silent_after=timedelta(seconds=settings().emergency_silent_after_s))
    two_person = settings().emergency_two_person
    return render_template(
        "emergencies/detail.html", broadcast=broadcast, tracks=tracks, summary=emergencies.summary(tracks),
        by_area=emergencies.by_commune(tracks), reason_form=ReasonForm(formdata=None), now=utc_now(),
        may_approve=scope.has_role(user, Role.APPROVER) and not (two_person and broadcast.requested_by_id == user.id),
        may_decide=scope.has_role(user, Role.APPROVER), may_resend=scope.has_role(user, *REQUESTERS),
        expired=_expired(broadcast))


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


def risk_label(level: int) -> str:
    return _("Risk level %(n)s", n=level)


def state_label(state) -> str:
    labels = {"pending": _("Waiting for approval"), "issued": _("Sent"), "rejected": _("Rejected"),
              "cancelled": _("Cancelled"), "test": _("Exercise or test (not aired)")}
    return labels.get(getattr(state, "value", state), str(state))


def track_label(status: str) -> str:
    labels = {"played": _("Played"), "received": _("Received"), "sent": _("Sent, no answer yet"),
              "silent": _("Silent"), "failed": _("Failed")}
    return labels.get(status, status)


@bp.app_context_processor
def _labels() -> dict:
    return {"risk_label": risk_label, "emergency_state_label": state_label, "track_label": track_label}

