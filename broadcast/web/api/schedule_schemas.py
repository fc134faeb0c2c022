"""Request and response shapes for slots and placements."""

from __future__ import annotations

import re
from datetime import datetime

import marshmallow as ma
from marshmallow import validate

from broadcast.db.models import OverflowPolicy
from broadcast.web.api.schemas import AreaRefSchema


class ClockTime(ma.fields.Time):
    """A wall-clock time as people write it, "06:00", or to the second, "06:00:30" (drills, tests)."""

    def _deserialize(self, value, attr, data, **kwargs):
        for pattern in ("%H:%M", "%H:%M:%S"):
            try:
                return datetime.strptime(value, pattern).time()  # noqa: DTZ007 - a wall-clock time
            except (TypeError, ValueError):
                continue
        raise ma.ValidationError("Not a valid time: use HH:MM or HH:MM:SS.")

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M:%S" if value.second else "%H:%M")


class LocalMoment(ma.fields.NaiveDateTime):
    """A local date and time, "2026-12-01T19:30" or to the second, with no offset.

    Not an RFC 3339 date-time: a slot's sessions start at the same wall-clock time at each of its stations,
    whatever their zone, so an instant with an offset would not say which time is meant. The OpenAPI document
    declares it as a string with ``PATTERN`` (broadcast.web.api maps the field so), not as ``date-time``.
    """

    PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$"

    def __init__(self, **kwargs):
        metadata = {"pattern": self.PATTERN, "example": "2026-12-01T19:30", "description": (
            "Local wall-clock time at each station of the slot, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS, "
            "without an offset"), **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        # The pattern first: strptime alone would also take "2026-12-1T9:30", which the document does not declare.
        if isinstance(value, str) and re.fullmatch(self.PATTERN, value):
            for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
                try:
                    return datetime.strptime(value, pattern)  # noqa: DTZ007 - local, zoned by the slot
                except ValueError:
                    continue
        raise ma.ValidationError("Not a valid local time: use YYYY-MM-DDTHH:MM, the stations' wall-clock time, "
                                 "without an offset.")


class SlotSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    area = ma.fields.Nested(AreaRefSchema, allow_none=True)
    station = ma.fields.Function(lambda s: s.station.code if s.station_id else None)
    start_time = ClockTime()
    duration_s = ma.fields.Integer()
    rrule = ma.fields.String()
    valid_from = ma.fields.Date()
    valid_until = ma.fields.Date(allow_none=True)
    cancelled = ma.fields.Function(lambda s: s.exceptions.get("cancelled", []))
    extra = ma.fields.Function(lambda s: s.exceptions.get("extra", []))
    overrides_id = ma.fields.Integer(allow_none=True)
    overflow_policy = ma.fields.Enum(OverflowPolicy, by_value=True)
    gap_ms = ma.fields.Integer()


class SlotCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    area = ma.fields.String(metadata={"description": "statistics-office code of the area"})
    station = ma.fields.String(metadata={"description": "station code, for a station's own slot"})
    start_time = ClockTime(required=True)
    duration_s = ma.fields.Integer(required=True)
    rrule = ma.fields.String(load_default="FREQ=DAILY")
    valid_from = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(load_default=None, allow_none=True)
    cancelled = ma.fields.List(ma.fields.Date(), load_default=list)
    extra = ma.fields.List(LocalMoment(), load_default=list)
    overrides_id = ma.fields.Integer(load_default=None, allow_none=True)
    overflow_policy = ma.fields.Enum(OverflowPolicy, by_value=True, load_default=OverflowPolicy.REJECT)
    gap_ms = ma.fields.Integer(load_default=1000)


class SlotExceptionSchema(ma.Schema):
    cancel = ma.fields.Date(load_default=None, allow_none=True)
    restore = ma.fields.Date(load_default=None, allow_none=True)
    extra = LocalMoment(load_default=None, allow_none=True)


class SlotQuerySchema(ma.Schema):
    area = ma.fields.String()
    station = ma.fields.String()


class PlacementSchema(ma.Schema):
    id = ma.fields.Integer()
    item_id = ma.fields.Integer()
    slot_id = ma.fields.Integer()
    targets = ma.fields.Function(lambda p: [t.code for t in p.targets])
    date_from = ma.fields.Date()
    date_until = ma.fields.Date()
    weekdays = ma.fields.Function(lambda p: p.weekdays.split(",") if p.weekdays else None)
    repeat_count = ma.fields.Integer()
    repeat_gap_s = ma.fields.Integer()
    position = ma.fields.Integer(allow_none=True)
    priority = ma.fields.Integer()


class PlacementCreateSchema(ma.Schema):
    item_id = ma.fields.Integer(required=True)
    slot_id = ma.fields.Integer(required=True)
    targets = ma.fields.List(ma.fields.String(), required=True,
                             metadata={"description": "area codes, or station:<code> for single stations"})
    date_from = ma.fields.Date(required=True)
    date_until = ma.fields.Date(required=True)
    weekdays = ma.fields.List(ma.fields.String(), load_default=None, allow_none=True)
    repeat_count = ma.fields.Integer(load_default=1)
    repeat_gap_s = ma.fields.Integer(load_default=0)
    position = ma.fields.Integer(load_default=None, allow_none=True)
    priority = ma.fields.Integer(load_default=0, validate=validate.Range(min=-100, max=100))


class PlacementUpdateSchema(ma.Schema):
    date_from = ma.fields.Date()
    date_until = ma.fields.Date()
    weekdays = ma.fields.List(ma.fields.String(), allow_none=True)
    repeat_count = ma.fields.Integer()
    repeat_gap_s = ma.fields.Integer()
    position = ma.fields.Integer(allow_none=True)
    priority = ma.fields.Integer(validate=validate.Range(min=-100, max=100))


class SlotUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=120))
    start_time = ClockTime()
    duration_s = ma.fields.Integer()
    rrule = ma.fields.String()
    valid_until = ma.fields.Date(allow_none=True)
    overflow_policy = ma.fields.Enum(OverflowPolicy, by_value=True, data_key="overflow_policy", attribute="policy")
    gap_ms = ma.fields.Integer()
    filler_asset_id = ma.fields.Integer(allow_none=True)


class PriorityOrderSchema(ma.Schema):
    commune = ma.fields.String(required=True)
    placement_ids = ma.fields.List(ma.fields.Integer(), required=True)


class ProblemSchema(ma.Schema):
    kind = ma.fields.String()
    severity = ma.fields.String()
    slot_time = ma.fields.String()
    stations = ma.fields.Integer()
    text = ma.fields.String(metadata={"description": "in Vietnamese"})
    text_en = ma.fields.String()


class CompileReportSchema(ma.Schema):
    compiled = ma.fields.Boolean(metadata={"description": "false: queued for the compile job (a large change)"})
    stations = ma.fields.Integer()
    problems = ma.fields.List(ma.fields.Nested(ProblemSchema))


class NoteSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "no_session, locked, dropped or moved"})
    severity = ma.fields.String()
    text = ma.fields.String(metadata={"description": "in Vietnamese"})
    text_en = ma.fields.String()


class AiringSchema(ma.Schema):
    first = ma.fields.String(allow_none=True, metadata={"description": "local start (RFC 3339) of its first airing"})
    days = ma.fields.List(ma.fields.String(), metadata={"description": "the days it airs on"})
    days_without_session = ma.fields.List(ma.fields.String(),
                                          metadata={"description": "chosen days on which the slot has no session"})
    locked = ma.fields.List(ma.fields.String(), metadata={
        "description": "its sessions that the showlock keeps as stations have them (local RFC 3339 starts)"})
    notes = ma.fields.List(ma.fields.Nested(NoteSchema))


class PlacementResultSchema(ma.Schema):
    placement = ma.fields.Nested(PlacementSchema)
    compile = ma.fields.Nested(CompileReportSchema)
    airing = ma.fields.Nested(AiringSchema)
