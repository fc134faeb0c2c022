"""The forms of the item pages: what an editor types, read back as the service's ItemFields."""

from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import AnyOf, Optional, ValidationError

from broadcast.db.models import ContentSource, ItemClass
from broadcast.errors import DomainError
from broadcast.formats import clock_length
from broadcast.i18n import _, _l
from broadcast.services import items
from broadcast.web.form_errors import show_problems

CLASS_LABELS = {ItemClass.NORMAL: _l("Normal"), ItemClass.PRIORITY: _l("Priority"),
                ItemClass.EMERGENCY: _l("Emergency")}
# How the bulletin airs: read by a voice from the text, or a recording (the only way for Mông, Tày, Dao, Nùng).
SOURCE_LABELS = {ContentSource.SPEECH: _l("Read by the voice from the text"),
                 ContentSource.RECORDING: _l("A recording (upload or record)"),
                 ContentSource.STREAM: _l("A live relay of a stream (VOV, the provincial station)")}
# A service error about a field the form does not show is put next to the field that causes it.
FIELD_OF_ERROR = {"content_source": "language", "item_class": "item_class", "audio": "content_source",
                  "stream_duration_s": "stream_length"}
_LENGTH = re.compile(r"(?:(\d{1,2}):)?(\d{1,3})(?::(\d{2}))?")


class DayField(DateField):
    """An HTML date input; a day typed by hand in another shape gets a message people understand."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            try:
                self.data = date.fromisoformat(text)
            except ValueError:
                raise ValueError(_("Give the day as YYYY-MM-DD.")) from None


def relay_seconds(text: str | None) -> int | None:
    """A relay's length as editors type it: minutes ("30"), "m:ss" ("29:30") or "h:mm:ss"; ValueError if not."""
    if not text:
        return None
    found = _LENGTH.fullmatch(text.strip())
    if found is None:
        raise ValueError(_("Give the length in minutes (30) or as minutes and seconds (29:30)."))
    hours, minutes, seconds = found.groups()
    if hours is not None and seconds is None:  # "1:30" is minutes and seconds, not hours and minutes
        hours, minutes, seconds = None, hours, minutes
    if seconds is not None and int(seconds) > 59:
        raise ValueError(_("Give the length in minutes (30) or as minutes and seconds (29:30)."))
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds or 0)


def _text(value: str | None) -> str | None:
    """Browsers send CRLF line ends; the text is stored with plain newlines, without edge spaces."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


class ItemForm(FlaskForm):
    title = StringField(_l("Title"), filters=[_text])
    body = TextAreaField(_l("Text to be read"), filters=[_text])
    # Radio buttons and options drawn by the template; checked here against the allowed values.
    item_class = StringField(_l("Class"), default=ItemClass.NORMAL.value, validators=[
        AnyOf([c.value for c in ItemClass], message=_l("Choose one of the classes."))])
    language = StringField(_l("Language"), default="vi", validators=[
        AnyOf(list(items.LANGUAGES), message=_l("Choose a language from the list."))])
    content_source = StringField(_l("How it airs"), default=ContentSource.SPEECH.value, validators=[
        AnyOf([s.value for s in SOURCE_LABELS], message=_l("Choose how the bulletin airs."))])
    valid_from = DayField(_l("Valid from"), validators=[Optional()])
    valid_until = DayField(_l("Valid until"), validators=[Optional()])
    # A live relay: the stream's address and how long stations relay it (its length in the slot).
    stream_url = StringField(_l("Stream address"), filters=[_text])
    stream_length = StringField(_l("Relay length"), filters=[_text])

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, obj=obj, **kwargs)
        if obj is not None and getattr(obj, "stream_duration_s", None) and not self.stream_length.data:
            self.stream_length.data = clock_length(obj.stream_duration_s)

    def validate_stream_length(self, field) -> None:
        if self.content_source.data == ContentSource.STREAM.value:
            try:
                relay_seconds(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None

    def item_fields(self) -> items.ItemFields:
        relay = self.content_source.data == ContentSource.STREAM.value
        return items.ItemFields(title=self.title.data or "", body=self.body.data or "",
                                item_class=ItemClass(self.item_class.data), language=self.language.data,
                                content_source=ContentSource(self.content_source.data),
                                valid_from=self.valid_from.data, valid_until=self.valid_until.data,
                                stream_url=(self.stream_url.data or "") if relay else None,
                                stream_duration_s=relay_seconds(self.stream_length.data) if relay else None)

    def cleared(self) -> list[str]:
        """The optional days the editor emptied (``None`` in ItemFields would mean "leave as it is")."""
        return [field.name for field in (self.valid_from, self.valid_until) if field.data is None]

    def show_error(self, error: DomainError) -> None:
        """Put a service's refusal next to the fields it is about, else above the form."""
        show_problems(self, error, field_of=FIELD_OF_ERROR)
