"""The shape of every API error body, as ``broadcast.errors.error_response`` writes it (for the OpenAPI document)."""

from __future__ import annotations

import marshmallow as ma


class ErrorSchema(ma.Schema):
    """Every 4xx and 5xx answer under /api: 401, 403, 404, 409, 422 and the rest."""

    code = ma.fields.Integer(required=True, metadata={"description": "The HTTP status again"})
    status = ma.fields.String(required=True, metadata={
        "description": "What went wrong, as one word: unauthenticated, forbidden, not_found, invalid, conflict, "
                       "csrf, unprocessable_entity, …"})
    message = ma.fields.String(required=True, metadata={
        "description": "What to do about it, in the caller's language (Vietnamese unless asked otherwise)"})
    errors = ma.fields.Dict(keys=ma.fields.String(), metadata={
        "description": "The fields at fault, each with its messages; a 422 for a rule of the service names the "
                       "field the rule is about"})
    details = ma.fields.Dict(keys=ma.fields.String(), metadata={
        "description": "More about a refusal, when it has more (e.g. the fit report of a placement refused)"})
