"""Webhooks: other systems told of every bulletin published for an area, each request signed (HMAC-SHA256).

The secret is shown once, in the answer to the registration; the receiver checks every request with it (see
broadcast.channels.webhook for the headers and the check).
"""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import validate

from broadcast.channels.outbound import OutboundPolicy
from broadcast.db.models import Role
from broadcast.services import webhooks
from broadcast.web.api.schemas import AreaRefSchema, LocalDateTime
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db, settings

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="Signed webhooks for other systems")


class WebhookSchema(ma.Schema):
    id = ma.fields.Integer(attribute="webhook.id")
    area = ma.fields.Nested(AreaRefSchema)
    url = ma.fields.String(attribute="webhook.url")
    description = ma.fields.String(attribute="webhook.description")
    active = ma.fields.Boolean(attribute="webhook.active")
    created_at = LocalDateTime(attribute="webhook.created_at")


class WebhookCreatedSchema(WebhookSchema):
    secret = ma.fields.String(metadata={"description": "shown only in this answer: keep it at the receiver"})


class WebhookCreateSchema(ma.Schema):
    area = ma.fields.String(required=True, metadata={"description": "statistics-office code of the area"})
    # Checked by the service, which says what is wrong in the reader's language.
    url = ma.fields.String(required=True, metadata={"description": "the receiver, https:// or http://"})
    description = ma.fields.String(load_default="", validate=validate.Length(max=200))


@blp.route("", methods=["POST"])
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookCreatedSchema)
@role_required(Role.EDITOR)
def create_webhook(data):
    """Register a receiver for an area in your scope; the answer carries its secret, this once only."""
    return webhooks.register(db(), signed_in_user(), area_code=data["area"], url=data["url"],
                             description=data["description"],
                             policy=OutboundPolicy.from_text(settings().outbound_allow_networks))


@blp.route("")
@blp.response(200, WebhookSchema(many=True))
@role_required(Role.EDITOR)
def list_webhooks():
    """The webhooks of the areas in your scope, without their secrets."""
    return webhooks.list_webhooks(db(), signed_in_user())


@blp.route("/<int:webhook_id>", methods=["DELETE"])
@blp.response(204)
@role_required(Role.EDITOR)
def delete_webhook(webhook_id: int):
    webhooks.delete_webhook(db(), signed_in_user(), webhook_id)
