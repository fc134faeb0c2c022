"""Bodies of the account routes: password changes, people's accounts, their API tokens, station tokens."""

from __future__ import annotations

import marshmallow as ma

from broadcast.db.models import Role
from broadcast.services import api_tokens
from broadcast.web.api.schemas import AreaRefSchema


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True)
    new_password = ma.fields.String(required=True, load_only=True, metadata={
        "description": "at least 10 characters, not one of the 10,000 most common passwords"})


class AccountSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    full_name = ma.fields.String()
    email = ma.fields.String(allow_none=True, metadata={
        "description": "where notices reach the person (an emergency waiting for an approver); lower case, unique"})
    role = ma.fields.Enum(Role, by_value=True)
    scope_area = ma.fields.Nested(AreaRefSchema, allow_none=True)
    active = ma.fields.Boolean()
    must_change_password = ma.fields.Boolean(metadata={
        "description": "the password is a temporary one: until it is changed it opens only the password change"})
    last_login_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class AccountCreateSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    full_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    email = ma.fields.String(load_default=None, allow_none=True, metadata={
        "description": "optional; where notices reach the person"})
    role = ma.fields.Enum(Role, by_value=True, required=True)
    scope = ma.fields.String(load_default=None, allow_none=True, metadata={
        "description": "statistics-office code of the area the person works in; none only for an admin"})


class AccountChangeSchema(ma.Schema):
    full_name = ma.fields.String(validate=ma.validate.Length(max=200))
    email = ma.fields.String(allow_none=True, metadata={"description": "null or empty removes the address"})
    role = ma.fields.Enum(Role, by_value=True)
    scope = ma.fields.String(allow_none=True, metadata={"description": "area code; null only for an admin"})


class OwnAccountChangeSchema(ma.Schema):
    email = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "your address for notices (an emergency waiting for your approval); null or empty removes it"})


class TemporaryPasswordSchema(ma.Schema):
    user = ma.fields.Nested(AccountSchema)
    temporary_password = ma.fields.String(metadata={
        "description": "shown once; the person must change it at their first login"})


class ApiTokenSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "the token's first characters, to tell tokens apart"})
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime(allow_none=True)
    last_used_at = ma.fields.DateTime(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    state = ma.fields.Function(lambda row: api_tokens.state(row), metadata={
        "description": "active, expired or revoked"})


class ApiTokenCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    days = ma.fields.Integer(load_default=api_tokens.DEFAULT_DAYS,
                             validate=ma.validate.Range(1, api_tokens.MAX_DAYS),
                             metadata={"description": "how long the token works (default 90 days)"})


class ApiTokenIssuedSchema(ApiTokenSchema):
    token = ma.fields.String(metadata={"description": "the token itself, shown this once only"})


class StationTokenRotateSchema(ma.Schema):
    overlap_hours = ma.fields.Float(load_default=24, validate=ma.validate.Range(0, 7 * 24), metadata={
        "description": "how long the replaced token keeps working, so the agent can be given the new one"})


class StationTokenRotatedSchema(ma.Schema):
    token = ma.fields.String(metadata={"description": "the new token, shown this once only"})
    previous_valid_until = ma.fields.DateTime(allow_none=True)
