"""WTForms' own messages ("This field is required.", "Not a valid choice.") in the reader's language.

WTForms ships no Vietnamese catalogue, so Flask-WTF would show those messages in English on Vietnamese pages.
Flask-WTF looks for the request's WTForms translations on ``request.wtforms_translations`` before loading its
own: we put there an object that reads this project's catalogue, where those messages are translated.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import get_translations


class CatalogueTranslations:
    """The ``ugettext``/``ungettext`` pair WTForms calls, answered from the project's catalogue, unformatted:
    WTForms fills in the placeholders itself."""

    def ugettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


def init_app(app: Flask) -> None:
    @app.before_request
    def _wtforms_in_our_language() -> None:
        request.wtforms_translations = CatalogueTranslations()
