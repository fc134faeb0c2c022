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


OUTCOMES = ("played", "skipped", "failed")
EVENT_KINDS = ("item", "filler", "emergency", "command", "stream")  # stream: a relay (seconds relayed)


class PlaybackEventSchema(ma.Schema):
    event_id = ma.fields.String(required=True, validate=validate.Length(min=8, max=64),
                                metadata={"description": "The agent's own unique id: a repeat is ignored"})
    outcome = ma.fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    kind = ma.fields.String(load_default="item", validate=validate.OneOf(EVENT_KINDS))
    entry_id = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    occurrence_key = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=120))
    slot_id = ma.fields.Integer(load_default=None, allow_none=True)
    item_id = ma.fields.Integer(load_default=None, allow_none=True)
    audio_sha256 = ma.fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    scheduled_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    started_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    ended_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    seconds_played = ma.fields.Float(load_default=0.0, validate=validate.Range(min=0, max=24 * 3600))
    reason = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class EventBatchSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Nested(PlaybackEventSchema), required=True,
                            validate=validate.Length(max=500))


class EventResultSchema(ma.Schema):
    accepted = ma.fields.Integer()
    duplicates = ma.fields.Integer()


class HeartbeatSchema(ma.Schema):
    agent_version = ma.fields.String(load_default=None, validate=validate.Length(max=40))
    disk_free_bytes = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    volume = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100))
    state = ma.fields.String(load_default="idle", validate=validate.OneOf(("idle", "playing", "emergency")))
    installed_version = ma.fields.Integer(load_default=None, allow_none=True)
    now_playing = ma.fields.String(load_default=None, allow_none=True)


class HeartbeatResultSchema(ma.Schema):
    server_time = ma.fields.String()


class CommandSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.Function(lambda c: c.kind.value)
    args = ma.fields.Dict()
    state = ma.fields.Function(lambda c: c.state.value)
    issued_at = LocalDateTime()
    delivered_at = LocalDateTime(allow_none=True)
    acked_at = LocalDateTime(allow_none=True)
    detail = ma.fields.String(allow_none=True)


class CommandListSchema(ma.Schema):
    commands = ma.fields.List(ma.fields.Nested(CommandSchema))


class CommandCreateSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(("play_now", "stop", "set_volume", "play_stream")))
    volume = ma.fields.Integer(load_default=None)
    sha256 = ma.fields.String(load_default=None)
    # play_stream: relay this stream (Icecast/HTTP MP3) until the given end (ISO 8601 with its offset)
    url = ma.fields.String(load_default=None, validate=validate.Length(max=500))
    until = ma.fields.String(load_default=None, validate=validate.Length(max=40))
    title = ma.fields.String(load_default=None, validate=validate.Length(max=200))


class CommandQuerySchema(ma.Schema):
    wait = ma.fields.Float(load_default=0, validate=validate.Range(min=0, max=30),
                           metadata={"description": "Seconds to wait for a command (long-poll), at most 30"})


class AckSchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    detail = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ConfirmSchema(ma.Schema):
    occurrence_key = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(("aired", "not_aired")))
    reason = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ConfirmationSchema(ma.Schema):
    status = ma.fields.Function(lambda c: c.status.value)
    reason = ma.fields.String(allow_none=True)
    confirmed_at = LocalDateTime()
    confirmed_by = ma.fields.Function(lambda c: c.confirmed_by.username if c.confirmed_by else None)


class AsRunEventSchema(ma.Schema):
    event_id = ma.fields.String()
    outcome = ma.fields.Function(lambda e: e.outcome.value)
    kind = ma.fields.String()
    entry_id = ma.fields.String(allow_none=True)
    item_id = ma.fields.Integer(allow_none=True)
    scheduled_at = LocalDateTime(allow_none=True)
    started_at = LocalDateTime(allow_none=True)
    ended_at = LocalDateTime(allow_none=True)
    seconds_played = ma.fields.Float()
    reason = ma.fields.String(allow_none=True)


class OtherAiringSchema(AsRunEventSchema):
    title = ma.fields.String(allow_none=True, metadata={"description": "What it played, when known"})


class OccurrenceViewSchema(ma.Schema):
    key = ma.fields.String()
    slot_id = ma.fields.Integer(allow_none=True)
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    state = ma.fields.String(metadata={"description": "upcoming, awaiting_report, aired, partial or missed; "
                                                      "empty (nothing to air) or before_station (it began before "
                                                      "the station's playlist of the day was first compiled, e.g. "
                                                      "a station added since): neither is missed"})
    planned_s = ma.fields.Float()
    played_s = ma.fields.Float()
    entries = ma.fields.List(ma.fields.Dict())
    events = ma.fields.List(ma.fields.Nested(AsRunEventSchema))
    confirmation = ma.fields.Nested(ConfirmationSchema, allow_none=True)


class DayViewSchema(ma.Schema):
    station = ma.fields.Function(lambda v: v.station.code)
    day = ma.fields.Date()
    occurrences = ma.fields.List(ma.fields.Nested(OccurrenceViewSchema))
    emergencies = ma.fields.List(ma.fields.Nested(OtherAiringSchema),
                                 metadata={"description": "Emergency broadcasts aired that day, outside the sessions"})
    play_now = ma.fields.List(ma.fields.Nested(OtherAiringSchema),
                              metadata={"description": "Files aired on an operator's \"play now\" command"})
    unplanned = ma.fields.List(ma.fields.Nested(OtherAiringSchema),
                               metadata={"description": "Anything else reported outside the sessions"})
