"""Emergency broadcasts: request, approve (a second person), reject, cancel, re-send; tracking; CAP export."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, request, url_for
from flask_smorest import Blueprint

from broadcast.alerts import export, importing
from broadcast.db.models import EmergencyState, Role
from broadcast.services import emergencies, emergency_delivery
from broadcast.services.emergencies import EmergencyFields
from broadcast.web.api.emergency_schemas import (
    CapImportSchema,
    EmergencyCreateSchema,
    EmergencyDetailSchema,
    EmergencyListSchema,
    ReasonSchema,
)
from broadcast.web.auth import login_required, role_required, signed_in_user
from broadcast.web.context import audio, db, settings
from broadcast.web.time import utc_now
from broadcast.web.ui_emergencies import notify_approvers

blp = Blueprint("emergencies", __name__, url_prefix="/api/v1/emergencies",
                description="Emergency broadcasts: immediate, targeted, acknowledged")


class _Detail:
    """A broadcast with its tracking, for EmergencyDetailSchema."""

    def __init__(self, broadcast):
        self._broadcast = broadcast
        self.stations = emergencies.tracking(db(), broadcast, now=utc_now(),
                                             silent_after=timedelta(seconds=settings().emergency_silent_after_s))
        self.summary = emergencies.summary(self.stations)
        self.by_area = emergencies.by_commune(self.stations)

    def __getattr__(self, name):
        return getattr(self._broadcast, name)


def _detail(broadcast) -> _Detail:
    return _Detail(broadcast)


def _send(outgoing) -> None:
    emergency_delivery.dispatch(settings(), outgoing)


@blp.route("")
@blp.response(200, EmergencyListSchema)
@login_required
def list_emergencies():
    """The newest emergency broadcasts the signed-in user's area hears."""
    return {"emergencies": emergencies.list_broadcasts(db(), signed_in_user())}


@blp.route("", methods=["POST"])
@blp.arguments(EmergencyCreateSchema)
@blp.response(201, EmergencyDetailSchema)
@role_required(Role.EDITOR, Role.APPROVER)
def request_emergency(data):
    """Request one; it waits for a second approver (the two-person rule), unless the rule is off and an
    approver requests it: then it is sent at once."""
    expires_at = data["expires_at"]
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=settings().zone)
    fields = EmergencyFields(item_id=data["item_id"], area_codes=data["areas"], risk_level=data["risk_level"],
                             repeat_count=data["repeat_count"], repeat_interval_s=data["repeat_interval_s"],
                             expires_at=expires_at)
    broadcast, outgoing = emergencies.request(db(), signed_in_user(), fields, now=utc_now(),
                                              two_person=settings().emergency_two_person)
    _send(outgoing)
    if broadcast.state is EmergencyState.PENDING:
        notify_approvers(broadcast)
    return _detail(broadcast)


@blp.route("/<int:broadcast_id>")
@blp.response(200, EmergencyDetailSchema)
@login_required
def get_emergency(broadcast_id: int):
    """One broadcast with its tracking: per station played, received, sent, silent or failed; per commune."""
    return _detail(emergencies.get_broadcast(db(), signed_in_user(), broadcast_id))


@blp.route("/<int:broadcast_id>/approve", methods=["POST"])
@blp.response(200, EmergencyDetailSchema)
@role_required(Role.APPROVER)
def approve_emergency(broadcast_id: int):
    """Approve and send it at once to every active station of its areas."""
    user = signed_in_user()
    broadcast = emergencies.get_broadcast(db(), user, broadcast_id)
    _send(emergencies.approve(db(), user, broadcast, now=utc_now(), two_person=settings().emergency_two_person))
    return _detail(broadcast)


@blp.route("/<int:broadcast_id>/reject", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, EmergencyDetailSchema)
@role_required(Role.APPROVER)
def reject_emergency(data, broadcast_id: int):
    user = signed_in_user()
    broadcast = emergencies.get_broadcast(db(), user, broadcast_id)
    emergencies.reject(db(), user, broadcast, data["reason"], now=utc_now())
    return _detail(broadcast)


@blp.route("/<int:broadcast_id>/cancel", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, EmergencyDetailSchema)
@role_required(Role.APPROVER)
def cancel_emergency(data, broadcast_id: int):
    """Withdraw it: stations drop the airings still to come and stop it if it is on air."""
    user = signed_in_user()
    broadcast = emergencies.get_broadcast(db(), user, broadcast_id)
    _send(emergencies.cancel(db(), user, broadcast, data["reason"], now=utc_now()))
    return _detail(broadcast)


@blp.route("/<int:broadcast_id>/resend", methods=["POST"])
@blp.response(200, EmergencyDetailSchema)
@role_required(Role.APPROVER, Role.EDITOR)
def resend_emergency(broadcast_id: int):
    """Send it again to the stations that have not acknowledged it."""
    user = signed_in_user()
    broadcast = emergencies.get_broadcast(db(), user, broadcast_id)
    _send(emergencies.resend(db(), user, broadcast, now=utc_now(),
                             silent_after=timedelta(seconds=settings().emergency_silent_after_s)))
    return _detail(broadcast)


@blp.route("/<int:broadcast_id>/cap")
@blp.response(200, content_type="application/cap+xml")
@login_required
def emergency_cap(broadcast_id: int):
    """The broadcast as an OASIS CAP 1.2 alert."""
    broadcast = emergencies.get_broadcast(db(), signed_in_user(), broadcast_id)
    return Response(cap_document(broadcast), mimetype="application/cap+xml")


def cap_document(broadcast) -> bytes:
    return export.to_cap(broadcast, sender=settings().cap_sender, sender_name=settings().cap_sender_name,
                         zone=settings().zone,
                         audio_url=lambda sha: url_for("feeds.audio_file", sha256=sha, _external=True))


@blp.route("/cap", methods=["POST"])
@blp.response(201, CapImportSchema)
@role_required(Role.APPROVER)
def import_cap():
    """Import a CAP 1.2 alert (the XML as the request body): an emergency broadcast, sent at once when its
    sender is trusted, else waiting for approval; an Update or Cancel acts on the alerts it references."""
    current = settings()
    policy = importing.CapPolicy(tuple(current.cap_accepted_senders), tuple(current.cap_trusted_senders),
                                 importing.outbound.OutboundPolicy.from_text(current.outbound_allow_networks))
    result = importing.import_cap(db(), request.get_data(cache=False), now=utc_now(), policy=policy, tools=audio())
    _send(result.outgoing)
    if result.action in ("created", "updated") and result.broadcast.state is EmergencyState.PENDING:
        notify_approvers(result.broadcast)
    return result.as_json()
