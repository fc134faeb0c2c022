"""Domain errors, and the one place where they become HTTP responses.

Services raise these with translatable messages; the web layer turns them into JSON under /api
and into an HTML page elsewhere; the CLI prints the message and exits non-zero.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from broadcast import schema_messages
from broadcast.i18n import _


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: Any, *, field: str | None = None, details: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.details = details or {}

    @property
    def problems(self) -> dict[str | None, Any]:
        """Each field refused, with its message (one here; several in ``InvalidFields``)."""
        return {self.field: self.message}


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class InvalidFields(InvalidInput):
    """Several fields refused at once, so that a form or an API client learns of all of them in one answer."""

    def __init__(self, problems: dict[str, Any]):
        field, message = next(iter(problems.items()))
        super().__init__(message, field=field)
        self._problems = dict(problems)

    @property
    def problems(self) -> dict[str | None, Any]:
        return dict(self._problems)


class Problems:
    """What is wrong with a request, field by field: checks add to it instead of stopping at the first, and
    ``raise_any`` refuses the request with every problem found (the first message kept for each field)."""

    def __init__(self) -> None:
        self.found: dict[str, Any] = {}

    def add(self, field: str, message: Any) -> None:
        self.found.setdefault(field, message)

    def __contains__(self, field: str) -> bool:
        return field in self.found

    def raise_any(self) -> None:
        if len(self.found) == 1:
            (field, message), = self.found.items()
            raise InvalidInput(message, field=field)
        if self.found:
            raise InvalidFields(self.found)


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


REQUEST_PARTS = {"json", "query", "form", "headers", "cookies", "files", "view_args", "path"}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, *, errors: dict | None = None, headers=None,
                   details: dict | None = None):
    if wants_json():
        body: dict[str, Any] = {"code": status, "status": code, "message": message}
        if errors:
            body["errors"] = errors
        if details:
            body["details"] = details
        response = jsonify(body)
    else:
        response = make_response(render_template("error.html", status=status, message=message))
    response.status_code = status
    if status == 401 and wants_json():
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Messages for the HTTP errors people meet, in the request's language.
def _http_message(error: HTTPException) -> str:
    messages = {
        400: _("The request is not valid."),
        401: _("Please log in."),
        403: _("You do not have permission to do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        413: _("The upload is too large."),
        415: _("Send the request body as JSON (Content-Type: application/json)."),
        422: _("The data sent is not valid."),
        500: _("Internal error. The problem has been logged."),
    }
    return messages.get(error.code or 500, error.name)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        errors = {field: [str(message)] for field, message in error.problems.items() if field} or None
        return error_response(error.status, error.code, str(error.message), errors=errors, details=error.details,
                              headers=getattr(error, "headers", None))

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return error_response(400, "csrf", _("The form has expired or is not genuine; reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("messages") or data.get("errors")
        if isinstance(errors, dict) and errors and set(errors) <= REQUEST_PARTS:
            # webargs groups by request part; clients want field -> messages.
            flat: dict = {}
            for part, found in errors.items():
                flat.update(found if isinstance(found, dict) else {part: found})
            errors = flat
        if errors:
            errors = schema_messages.translated(errors)
        message = data.get("message") or _http_message(error)
        headers = dict(data.get("headers") or {})
        if error.code == 422 and errors:
            message = _("The data sent is not valid.")
        elif error.code == 400 and errors and "json" in errors:
            message = _("The request body is not valid JSON.")
        return error_response(error.code or 500, error.name.lower().replace(" ", "_"), str(message),
                              errors=errors, headers=headers)
