"""A service's refusal shown on the form that was sent: every refused field next to its input, in one answer.

Services refuse with every problem they found (``broadcast.errors.Problems``); the form's own validators have
already put theirs on their fields. A field keeps its first message: the form's own (a missing or malformed
value) says more than what the service makes of it.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm

from broadcast.errors import DomainError, Problems


def show_problems(form: FlaskForm, refused: DomainError | Problems | dict[str | None, Any], *,
                  field_of: dict[str, str] | None = None, default: str | None = None) -> None:
    """Put each problem next to its field (renamed by ``field_of``), else next to ``default``, else above the
    form (``form.form_errors``)."""
    if isinstance(refused, DomainError):
        problems = refused.problems
    elif isinstance(refused, Problems):
        problems = refused.found
    else:
        problems = refused
    for name, message in problems.items():
        target = (field_of or {}).get(name or "", name) or default
        field = form._fields.get(target) if target else None
        if field is None and default:
            field = form._fields.get(default)
        text = str(message)
        if field is None:
            if text not in form.form_errors:
                form.form_errors.append(text)
        elif not field.errors:
            field.errors = [text]
