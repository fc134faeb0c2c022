"""Request and response shapes for items, readings, recordings and the lexicon."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from marshmallow import validate

from broadcast.db.models import ContentSource, ItemClass, ItemStatus, RenderState
from broadcast.services.items import LANGUAGES
from broadcast.web.api.schemas import AreaRefSchema, LocalDateTime


class AudioSchema(ma.Schema):
    sha256 = ma.fields.String()
    duration_ms = ma.fields.Integer()
    size_bytes = ma.fields.Integer()
    mime_type = ma.fields.String()


class ItemSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    body = ma.fields.String()
    language = ma.fields.String()
    category = ma.fields.String(allow_none=True)
    source = ma.fields.String(allow_none=True)
    valid_from = ma.fields.Date(allow_none=True)
    valid_until = ma.fields.Date(allow_none=True)
    item_class = ma.fields.Enum(ItemClass, by_value=True)
    status = ma.fields.Enum(ItemStatus, by_value=True)
    rejection_reason = ma.fields.String(allow_none=True)
    voice = ma.fields.String(allow_none=True)
    speaking_rate = ma.fields.String()
    content_source = ma.fields.Enum(ContentSource, by_value=True)
    stream_url = ma.fields.String(allow_none=True, metadata={"description": "a relay's stream (content source "
                                                              "stream): Icecast/HTTP MP3 or HLS .m3u8"})
    stream_duration_s = ma.fields.Integer(allow_none=True, metadata={"description": "a relay's window in seconds"})
    owner_area = ma.fields.Nested(AreaRefSchema, allow_none=True)
    estimated_duration_ms = ma.fields.Integer(allow_none=True)
    duration_ms = ma.fields.Integer(allow_none=True, metadata={"description": "measured once rendered"})
    render_state = ma.fields.Enum(RenderState, by_value=True)
    render_warning = ma.fields.String(allow_none=True)
    render_error = ma.fields.String(allow_none=True)
    audio = ma.fields.Nested(AudioSchema, attribute="audio_asset", allow_none=True)
    audio_url = ma.fields.Function(
        lambda item: url_for("items.item_audio", item_id=item.id) if item.audio_asset_id else None)
    created_at = LocalDateTime()
    updated_at = LocalDateTime()
    submitted_at = LocalDateTime(allow_none=True)
    approved_at = LocalDateTime(allow_none=True)


class ItemWriteSchema(ma.Schema):
    """Fields an author may set; on PATCH every field is optional."""

    title = ma.fields.String(validate=validate.Length(min=1, max=300))
    body = ma.fields.String()
    language = ma.fields.String(validate=validate.OneOf(list(LANGUAGES)))
    category = ma.fields.String(allow_none=True, validate=validate.Length(max=60))
    source = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    valid_from = ma.fields.Date(allow_none=True)
    valid_until = ma.fields.Date(allow_none=True)
    item_class = ma.fields.Enum(ItemClass, by_value=True)
    voice = ma.fields.String(allow_none=True, validate=validate.Length(max=80))
    speaking_rate = ma.fields.String()
    content_source = ma.fields.Enum(ContentSource, by_value=True)
    stream_url = ma.fields.String(metadata={"description": "with content_source stream: the stream stations relay, "
                                                           "http:// or https:// (Icecast/HTTP MP3 or HLS .m3u8)"})
    stream_duration_s = ma.fields.Integer(metadata={"description": "with content_source stream: how long stations "
                                                                   "relay it, in seconds (its length in a slot)"})
    owner_area = ma.fields.String(metadata={"description": "statistics-office code; default: your own area"})


class ItemCreateSchema(ItemWriteSchema):
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=300))


class ItemQuerySchema(ma.Schema):
    status = ma.fields.Enum(ItemStatus, by_value=True)
    q = ma.fields.String(metadata={"description": "words in the title or the text"})
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class RejectSchema(ma.Schema):
    reason = ma.fields.String(required=True)


class ReadingRequestSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=validate.Length(max=100_000))
    rate = ma.fields.String(load_default="+0%")


class ReadingSchema(ma.Schema):
    text = ma.fields.String(metadata={"description": "exactly what the voice will read"})
    estimated_duration_ms = ma.fields.Integer()
    unread = ma.fields.List(ma.fields.String(), metadata={
        "description": "words of the reading left as symbols or Latin letters (e.g. °F, BTS), each once: the voice "
                       "will spell or skip them; add them to the lexicon to have them read"})


class RecordingSchema(ma.Schema):
    file = ma.fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class LexiconEntrySchema(ma.Schema):
    term = ma.fields.String()
    reading = ma.fields.String()
    note = ma.fields.String(allow_none=True)
    built_in = ma.fields.Boolean()


class LexiconWriteSchema(ma.Schema):
    reading = ma.fields.String(required=True)
    note = ma.fields.String(load_default=None, allow_none=True)
