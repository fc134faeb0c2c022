"""Template helpers: labels in the reader's language and times in local time."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import get_locale

from broadcast.i18n import _, format_datetime


def role_label(role) -> str:
    labels = {"admin": _("Administrator"), "editor": _("Editor"), "approver": _("Approver"),
              "operator": _("Commune operator")}
    return labels.get(getattr(role, "value", role), str(role))


def status_label(status: str) -> str:
    labels = {"online": _("Online"), "playing": _("Playing"), "offline": _("Offline"),
              "unknown": _("Never connected")}
    return labels.get(status, status)


def local_time(moment: datetime | None) -> str:
    """A stored UTC moment shown in the service's zone, day first as people write it in Vietnam."""
    if moment is None:
        return "—"
    return format_datetime(moment, "dd/MM/yyyy HH:mm")


def init_app(app: Flask) -> None:
    @app.context_processor
    def _helpers():
        return {"role_label": role_label, "status_label": status_label, "local_time": local_time,
                "current_locale": lambda: str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])}
