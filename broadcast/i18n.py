"""Translation helpers: Vietnamese first, English available.

Message ids are English; ``translations/vi`` holds the Vietnamese. The locale is chosen from the
``lang`` query parameter, then the ``lang`` cookie, then the user's own choice, then the configured
default (Vietnamese). Outside a request (CLI, jobs) the default applies.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel import support
from flask import current_app, has_request_context, request
from flask_babel import (
    Babel,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    gettext,
    lazy_gettext,
    ngettext,
)
from flask_login import current_user

LOCALES = ("vi", "en")
babel = Babel()

_ = gettext
_l = lazy_gettext

__all__ = ["LOCALES", "N_", "_", "_l", "babel", "format_datetime", "format_decimal", "format_time", "in_english",
           "ngettext", "select_locale", "select_timezone", "vietnamese"]

TRANSLATIONS = Path(__file__).parent / "translations"


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Marks a message for the catalogue without translating it here (see ``vietnamese``)."""
    return message


@functools.cache
def _catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(str(TRANSLATIONS), [locale])


def vietnamese(message: str, **values) -> str:
    """A message (marked with ``N_``) in Vietnamese wherever the code runs: for texts stored to be read later
    by people (a job has no request, and Flask-Babel translates nothing outside one)."""
    text = _catalogue("vi").ugettext(message)
    return text % values if values else text


def in_english() -> bool:
    """Whether this request reads English: for texts made ready in both languages (``text``/``text_en``)."""
    return str(get_locale() or "vi").startswith("en")


def select_locale() -> str:
    if has_request_context():
        for candidate in (request.args.get("lang"), request.cookies.get("lang")):
            if candidate in LOCALES:
                return candidate
        if current_user and getattr(current_user, "is_authenticated", False):
            locale = getattr(current_user, "locale", None)
            if locale in LOCALES:
                return locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
