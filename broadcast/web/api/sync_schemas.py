"""Shapes of what stations report and of the delivery status (marshmallow)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from broadcast.web.api.schemas import LocalDateTime


class ReceiptSchema(ma.Schema):
    version = ma.fields.Integer(required=True, validate=validate.Range(min=1),
                                metadata={"description": "The manifest version the station installed"})
    etag = ma.fields.String(load_default=None, metadata={"description": "Its ETag, for the log"})


class ReceiptResultSchema(ma.Schema):
    installed_version = ma.fields.Integer()
    current_version = ma.fields.Integer()
    up_to_date = ma.fields.Boolean()


class ChannelStateSchema(ma.Schema):
    channel = ma.fields.String()
    version = ma.fields.Integer()
    state = ma.fields.String()
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    next_retry_at = LocalDateTime(allow_none=True)
    sent_at = LocalDateTime(allow_none=True)
    verified_at = LocalDateTime(allow_none=True)


class StationDeliverySchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    commune = ma.fields.String()
    status = ma.fields.String()
    last_contact_at = LocalDateTime(allow_none=True)
    current_version = ma.fields.Integer(allow_none=True)
    installed_version = ma.fields.Integer(allow_none=True)
    up_to_date = ma.fields.Boolean()
    channels = ma.fields.List(ma.fields.Nested(ChannelStateSchema))
    attention = ma.fields.List(ma.fields.String(), metadata={"description": "Why someone should act"})


class DeliveryQuerySchema(ma.Schema):
    area = ma.fields.String(metadata={"description": "Area code: only its stations"})
    attention = ma.fields.Boolean(load_default=False, metadata={"description": "Only stations needing attention"})
