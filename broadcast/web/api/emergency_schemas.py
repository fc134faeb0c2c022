"""Request and response bodies of the emergency broadcast API."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from broadcast.services.emergencies import MAX_REPEATS
from broadcast.web.api.schemas import LocalDateTime


class EmergencyCreateSchema(ma.Schema):
    item_id = ma.fields.Integer(required=True, metadata={"description": "an emergency-class item with audio"})
    areas = ma.fields.List(ma.fields.String(), required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "area codes (province, district or commune)"})
    risk_level = ma.fields.Integer(required=True, validate=validate.Range(1, 5))
    repeat_count = ma.fields.Integer(load_default=1, validate=validate.Range(1, MAX_REPEATS))
    repeat_interval_s = ma.fields.Integer(load_default=0, validate=validate.Range(0, 24 * 3600))
    expires_at = ma.fields.DateTime(load_default=None, metadata={
        "description": "ISO 8601; without an offset it is local time. Default: two hours from now."})


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(load_default="", validate=validate.Length(max=2000))


class StationTrackSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    commune = ma.fields.String()
    status = ma.fields.String(metadata={"description": "played, received, sent, silent or failed"})
    sends = ma.fields.Integer()
    last_sent_at = LocalDateTime()
    received_at = LocalDateTime(allow_none=True)
    plays = ma.fields.Integer()
    detail = ma.fields.String(allow_none=True)


class TrackingSummarySchema(ma.Schema):
    stations = ma.fields.Integer()
    played = ma.fields.Integer()
    received = ma.fields.Integer()
    sent = ma.fields.Integer()
    silent = ma.fields.Integer()
    failed = ma.fields.Integer()


class AreaTrackingSchema(TrackingSummarySchema):
    area = ma.fields.String()


class EmergencySchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    item_id = ma.fields.Integer()
    areas = ma.fields.Function(lambda b: [{"code": a.code, "name": a.name, "level": a.level.value} for a in b.areas])
    risk_level = ma.fields.Integer()
    repeat_count = ma.fields.Integer()
    repeat_interval_s = ma.fields.Integer()
    expires_at = LocalDateTime()
    state = ma.fields.Function(lambda b: b.state.value)
    source = ma.fields.String()
    cap_identifier = ma.fields.String(allow_none=True)
    requested_by = ma.fields.Function(lambda b: b.requested_by.username if b.requested_by else None)
    approved_by = ma.fields.Function(lambda b: b.approved_by.username if b.approved_by else None)
    issued_at = LocalDateTime(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)
    close_reason = ma.fields.String(allow_none=True)
    replaces_id = ma.fields.Integer(allow_none=True)
    created_at = LocalDateTime()


class EmergencyListSchema(ma.Schema):
    emergencies = ma.fields.List(ma.fields.Nested(EmergencySchema))


class EmergencyDetailSchema(EmergencySchema):
    summary = ma.fields.Nested(TrackingSummarySchema)
    by_area = ma.fields.List(ma.fields.Nested(AreaTrackingSchema))
    stations = ma.fields.List(ma.fields.Nested(StationTrackSchema))


class CapImportSchema(ma.Schema):
    identifier = ma.fields.String()
    item_class = ma.fields.String(attribute="class", data_key="class")
    status = ma.fields.String()
    msg_type = ma.fields.String()
    action = ma.fields.String(metadata={"description": "created, updated, cancelled, test, bulletin or duplicate"})
    broadcast = ma.fields.Integer(allow_none=True)
    state = ma.fields.String(allow_none=True)
    item = ma.fields.Integer(allow_none=True)
    cancelled = ma.fields.List(ma.fields.Integer())
    risk_level = ma.fields.Integer()
    stations = ma.fields.List(ma.fields.String())
    warnings = ma.fields.List(ma.fields.String())
    airs = ma.fields.Boolean()
