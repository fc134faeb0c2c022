"""Bulletins in: upstream sources (admins configure them) and the endpoint where a source pushes its bulletins.

A push is authenticated by the source's secret (shown once, when the source is created), sent either as
``Authorization: Bearer <secret>`` or as an HMAC of the body (``X-Radio-Timestamp`` and ``X-Radio-Signature``,
the scheme of our own webhooks). The same bulletin id twice makes one item: the second answer says
``duplicate``.
"""

from __future__ import annotations

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint
from marshmallow import validate

from broadcast.channels.outbound import OutboundPolicy
from broadcast.db.models import Role, SourceKind, UpstreamSource
from broadcast.errors import Conflict, InvalidInput, Unauthenticated
from broadcast.i18n import _l
from broadcast.services import bulletins_in, emergency_delivery, upstream_sources
from broadcast.services.inbound_formats import FormatError
from broadcast.web.api.schemas import LocalDateTime
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import audio, db, settings
from broadcast.web.time import utc_now

blp = Blueprint("exchange_sources", __name__, url_prefix="/api/v1/exchange/sources",
                description="Bulletins in: upstream sources, pulled on a schedule or pushing to us")

SOURCE_AUTH = [{"bearerAuth": []}, {"sourceSignature": []}]


class SourceSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.Enum(SourceKind, by_value=True)
    url = ma.fields.String(allow_none=True)
    owner_area_id = ma.fields.Integer(allow_none=True)
    active = ma.fields.Boolean()
    pull_interval_s = ma.fields.Integer()
    next_pull_at = LocalDateTime(allow_none=True)
    last_pulled_at = LocalDateTime(allow_none=True)
    last_outcome = ma.fields.String(allow_none=True, metadata={"description": "ok, not_modified or failed"})
    last_error = ma.fields.String(allow_none=True)
    failures = ma.fields.Integer(metadata={"description": "failed pulls in a row"})
    created_at = LocalDateTime()


class SourceCreatedSchema(ma.Schema):
    source = ma.fields.Nested(SourceSchema)
    secret = ma.fields.String(metadata={
        "description": "shown only in this answer: the source sends it as its bearer token, or signs with it"})


class SourceCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = ma.fields.String(required=True, validate=validate.OneOf([k.value for k in SourceKind]),
                            metadata={"description": "json, rss (RSS/Atom, audio enclosures) or cap"})
    url = ma.fields.String(load_default=None, allow_none=True,
                           metadata={"description": "where to pull from; none for a source that only pushes"})
    pull_token = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                                  metadata={"description": "sent as a bearer token when pulling, if needed"})
    owner_area = ma.fields.String(load_default=None, allow_none=True,
                                  metadata={"description": "code of the area whose editors receive the items"})
    pull_interval_s = ma.fields.Integer(load_default=300)


class ReceivedSchema(ma.Schema):
    ref = ma.fields.String(attribute="record.source_ref", metadata={"description": "the source's bulletin id"})
    id = ma.fields.Integer(attribute="record.id")
    item = ma.fields.Integer(attribute="record.item_id", allow_none=True,
                             metadata={"description": "the submitted item (none when refused)"})
    emergency = ma.fields.Integer(attribute="record.emergency_id", allow_none=True)
    duplicate = ma.fields.Boolean(metadata={"description": "this id came before: nothing was changed"})
    warning = ma.fields.String(attribute="record.warning", allow_none=True)


class PushAnswerSchema(ma.Schema):
    received = ma.fields.List(ma.fields.Nested(ReceivedSchema))
    created = ma.fields.Integer(metadata={"description": "how many bulletins were new"})
    problems = ma.fields.List(ma.fields.String(), metadata={"description": "entries left out, and why"})


@blp.route("", methods=["POST"])
@blp.arguments(SourceCreateSchema)
@blp.response(201, SourceCreatedSchema)
@role_required(Role.ADMIN)
def create_source(data):
    """Add an upstream source (admins); the answer carries its secret, this once only."""
    created = upstream_sources.create_source(
        db(), signed_in_user(), upstream_sources.SourceFields(**data),
        policy=OutboundPolicy.from_text(settings().outbound_allow_networks), now=utc_now())
    return created


@blp.route("")
@blp.response(200, SourceSchema(many=True))
@role_required(Role.ADMIN)
def list_sources():
    """The upstream sources, with how their last pull went."""
    return upstream_sources.list_sources(db(), signed_in_user())


@blp.route("/<int:source_id>/disable", methods=["POST"])
@blp.response(200, SourceSchema)
@role_required(Role.ADMIN)
def disable_source(source_id: int):
    """Stop pulling a source and refuse its pushes; what it sent stays."""
    return upstream_sources.set_active(db(), signed_in_user(), source_id, False, now=utc_now())


@blp.route("/<int:source_id>/enable", methods=["POST"])
@blp.response(200, SourceSchema)
@role_required(Role.ADMIN)
def enable_source(source_id: int):
    """Take a disabled source back (pulled at once)."""
    return upstream_sources.set_active(db(), signed_in_user(), source_id, True, now=utc_now())


@blp.route("/<int:source_id>/bulletins", methods=["POST"])
@blp.response(201, PushAnswerSchema, description="At least one bulletin was new")
@blp.alt_response(200, schema=PushAnswerSchema, description="Every bulletin had come before: nothing changed")
@blp.doc(security=SOURCE_AUTH)
def push_bulletins(source_id: int):
    """A source pushes bulletins: JSON (``{"bulletins": [...]}``, a list, or one bulletin) or, for a CAP source,
    one CAP 1.2 alert. Idempotent by the source's bulletin id."""
    session = db()
    source = session.get(UpstreamSource, source_id)
    body = request.get_data(cache=False)
    now = utc_now()
    if source is None or not bulletins_in.push_authentic(
            source, authorization=request.headers.get("Authorization", ""),
            timestamp=request.headers.get("X-Radio-Timestamp", ""),
            signature=request.headers.get("X-Radio-Signature", ""), body=body, now=now):
        # An unknown source and a wrong secret answer alike: ids are not probed for.
        raise Unauthenticated(_l("Send the source's secret as a bearer token, or sign the body with it."))
    if not source.active:
        raise Conflict(_l("This source is disabled: its bulletins are not accepted."))
    context = bulletins_in.Context.from_settings(settings(), audio(), now)
    try:
        batch = bulletins_in.take(session, source, body, via="push", context=context)
    except FormatError as exc:
        raise InvalidInput(_l("The body is not what this source sends: %(detail)s", detail=str(exc)),
                           field="body") from None
    if batch.outgoing:
        emergency_delivery.dispatch(settings(), batch.outgoing)
    if not batch.received:
        raise InvalidInput(_l("No bulletin could be taken: %(detail)s", detail="; ".join(batch.problems) or "-"),
                           field="body", details={"problems": batch.problems})
    answer = {"received": batch.received, "created": batch.created, "problems": batch.problems}
    return answer, (201 if batch.created else 200)

