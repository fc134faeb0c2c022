"""Template helpers: labels in the reader's language and times in local time."""

from __future__ import annotations

from datetime import datetime

from babel.dates import get_timezone_location
from flask import Flask
from flask_babel import get_locale

from broadcast import formats
from broadcast.i18n import _, format_datetime
from broadcast.services import delivery_errors
from broadcast.web import form_messages


def role_label(role) -> str:
    labels = {"admin": _("Administrator"), "editor": _("Editor"), "approver": _("Approver"),
              "operator": _("Commune operator")}
    return labels.get(getattr(role, "value", role), str(role))


def status_label(status: str) -> str:
    labels = {"online": _("Online"), "playing": _("Playing"), "offline": _("Offline"),
              "unknown": _("Never connected")}
    return labels.get(status, status)


def person_name(person) -> str:
    """A person as others know them: the full name, or the login when no full name was given."""
    if person is None:
        return "—"
    return (person.full_name or "").strip() or person.username


def delivery_mode_label(mode: str) -> str:
    labels = {"http-pull": _("the station downloads (HTTP)"), "sftp-push": _("the server uploads (SFTP)")}
    return labels.get(mode, mode)


def zone_label(zone: str) -> str:
    """A time zone as people name it ("Giờ Việt Nam"), not its database name."""
    return get_timezone_location(zone, locale=str(get_locale() or "vi"))


def local_time(moment: datetime | None) -> str:
    """A stored UTC moment shown in the service's zone, day first as people write it in Vietnam."""
    if moment is None:
        return "—"
    return format_datetime(moment, "dd/MM/yyyy HH:mm")


def init_app(app: Flask) -> None:
    form_messages.init_app(app)

    @app.context_processor
    def _helpers():
        return {"role_label": role_label, "person_name": person_name, "status_label": status_label,
                "local_time": local_time,
                "delivery_mode_label": delivery_mode_label, "zone_label": zone_label,
                "delivery_error": delivery_errors.describe, "spoken_length": formats.spoken_length,
                "clock_length": formats.clock_length, "day": formats.day,
                "current_locale": lambda: str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])}
