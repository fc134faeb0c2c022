"""Request and response shapes of the API (marshmallow), shared by the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

import marshmallow as ma
from marshmallow import validate

from broadcast.db.models import Level, Role, StationStatus, Structure
from broadcast.web.context import settings


class LocalDateTime(ma.fields.DateTime):
    """A UTC moment shown in the service's zone, with its offset (e.g. 2026-11-28T17:05:00+07:00)."""

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(settings().zone).isoformat(timespec="seconds")


class AreaSchema(ma.Schema):
    id = ma.fields.Integer()
    structure = ma.fields.Enum(Structure, by_value=True)
    level = ma.fields.Enum(Level, by_value=True)
    code = ma.fields.String()
    name = ma.fields.String()
    short_name = ma.fields.String()
    kind = ma.fields.String()
    parent_id = ma.fields.Integer(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)


class AreaRefSchema(ma.Schema):
    id = ma.fields.Integer()
    structure = ma.fields.Enum(Structure, by_value=True)
    level = ma.fields.Enum(Level, by_value=True)
    code = ma.fields.String()
    name = ma.fields.String()


class AreaQuerySchema(ma.Schema):
    structure = ma.fields.Enum(Structure, by_value=True)
    level = ma.fields.Enum(Level, by_value=True)
    parent_id = ma.fields.Integer()
    q = ma.fields.String(metadata={"description": "part of the name, accents optional"})


class AreaStatsSchema(ma.Schema):
    structure = ma.fields.String()
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class StationSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    commune = ma.fields.Nested(AreaRefSchema)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    speakers = ma.fields.Integer()
    delivery_modes = ma.fields.List(ma.fields.String())
    ssh_host = ma.fields.String(allow_none=True)
    ssh_port = ma.fields.Integer()
    ssh_user = ma.fields.String(allow_none=True)
    ssh_remote_dir = ma.fields.String(allow_none=True)
    host_key_pinned = ma.fields.Function(lambda s: bool(s.ssh_host_key))
    has_token = ma.fields.Function(lambda s: s.token_sha256 is not None)
    status = ma.fields.Enum(StationStatus, by_value=True)
    last_contact_at = LocalDateTime(allow_none=True)
    installed_version = ma.fields.Integer(allow_none=True)
    agent_version = ma.fields.String(allow_none=True)


class StationCreateSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Length(min=2, max=40))
    commune = ma.fields.String(required=True, metadata={"description": "statistics-office code of the commune"})
    name = ma.fields.String(load_default="")
    lat = ma.fields.Float(load_default=None, allow_none=True)
    lon = ma.fields.Float(load_default=None, allow_none=True)
    speakers = ma.fields.Integer(load_default=0, validate=validate.Range(min=0))
    delivery_modes = ma.fields.List(ma.fields.String(validate=validate.OneOf(["http-pull", "sftp-push"])),
                                    load_default=lambda: ["http-pull"])
    ssh_host = ma.fields.String(load_default=None, allow_none=True)
    ssh_port = ma.fields.Integer(load_default=22)
    ssh_user = ma.fields.String(load_default=None, allow_none=True)
    ssh_remote_dir = ma.fields.String(load_default=None, allow_none=True)
    ssh_host_key = ma.fields.String(load_default=None, allow_none=True)


class StationQuerySchema(ma.Schema):
    area_id = ma.fields.Integer()
    status = ma.fields.Enum(StationStatus, by_value=True)


class TokenSchema(ma.Schema):
    token = ma.fields.String(metadata={"description": "shown once; only its SHA-256 is stored"})


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True)
    password = ma.fields.String(required=True, load_only=True)
    code = ma.fields.String(load_only=True, metadata={
        "description": "the authenticator app's code, or a recovery code: needed by a person with two-factor login"})


class UserSchema(ma.Schema):
    username = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.Enum(Role, by_value=True)
    scope_area = ma.fields.Nested(AreaRefSchema, allow_none=True)


class SessionSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    csrf_token = ma.fields.String(metadata={"description": "send as X-CSRFToken with cookie-authenticated writes"})


class HealthSchema(ma.Schema):
    status = ma.fields.String()
    database = ma.fields.String()
    schema_revision = ma.fields.String(allow_none=True)
    worker = ma.fields.Integer(metadata={"description": "the process id of the web worker that answered"})
    long_polls = ma.fields.Integer(metadata={"description": "agents' long polls waiting in that worker"})
