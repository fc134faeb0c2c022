"""Bodies of the account routes: password changes, people's accounts and their API tokens."""

from __future__ import annotations

import marshmallow as ma


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True)
    new_password = ma.fields.String(required=True, load_only=True, metadata={
        "description": "at least 10 characters, not one of the 10,000 most common passwords"})
