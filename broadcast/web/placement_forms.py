"""The form of the placement page: a slot, the days, repeats and the chosen targets, read back as a PlacementSpec."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, IntegerField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from broadcast.errors import DomainError, Problems
from broadcast.i18n import _, _l
from broadcast.services import placements
from broadcast.web.form_errors import show_problems
from broadcast.web.item_forms import DayField

WEEKDAY_LABELS = dict(zip(placements.WEEKDAYS, (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"),
                                                _l("Sun")), strict=True))
MAX_TARGETS = 20_000  # a whole province's stations, ticked one by one
# A service error about something the form does not show is put next to the field that causes it.
FIELD_OF_ERROR = {"item_id": "slot", "slot_id": "slot"}


class WholeNumberField(IntegerField):
    """A number input; anything but a whole number gets a message people understand."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            try:
                self.data = int(text)
            except ValueError:
                raise ValueError(_("Write a whole number.")) from None


class ListField(Field):
    """Every value sent under the field's name (checkboxes), without blanks and repeats, in the order sent."""

    def __init__(self, label=None, validators=None, *, allowed: tuple[str, ...] | None = None, limit: int = 100,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.allowed, self.limit = allowed, limit

    def process_formdata(self, valuelist):
        self.data = list(dict.fromkeys(v.strip() for v in valuelist if v and v.strip()))
        if len(self.data) > self.limit or (self.allowed and set(self.data) - set(self.allowed)):
            self.data = [v for v in self.data if not self.allowed or v in self.allowed][:self.limit]
            raise ValueError(_("The form was changed: reload the page and choose again."))

    def _value(self):
        return self.data or []


class PlaceForm(FlaskForm):
    # A select drawn by the template from the user's slots; checked here against those (``choose_from``).
    slot = WholeNumberField(_l("Slot"), validators=[InputRequired(message=_l("Choose a slot from the list."))])
    date_from = DayField(_l("First day"), validators=[InputRequired(message=_l("Give the first day."))])
    date_until = DayField(_l("Last day"), validators=[InputRequired(message=_l("Give the last day."))])
    weekdays = ListField(_l("Days of the week"), allowed=placements.WEEKDAYS, default=list(placements.WEEKDAYS))
    repeat_count = WholeNumberField(_l("Times in each session"), default=1, validators=[
        InputRequired(message=_l("Say how many times the item airs in each session."))])
    repeat_gap_s = WholeNumberField(_l("Gap between repeats (seconds)"), default=0, validators=[
        InputRequired(message=_l("Give the gap in seconds (0 for none)."))])
    priority = WholeNumberField(_l("Priority"), default=0, validators=[
        InputRequired(message=_l("Give a priority from 0 to 100.")),
        NumberRange(min=0, max=100, message=_l("Give a priority from 0 to 100."))])
    position = WholeNumberField(_l("Fixed place in the session"), validators=[Optional()])
    targets = ListField(_l("Where it airs"), limit=MAX_TARGETS)

    def choose_from(self, slot_ids: set[int]) -> None:
        self._slot_ids = slot_ids

    def validate_slot(self, field) -> None:
        if field.data is not None and field.data not in getattr(self, "_slot_ids", set()):
            raise ValidationError(_("Choose a slot from the list."))

    def validate_weekdays(self, field) -> None:
        if not field.data:
            raise ValidationError(_("Choose at least one day of the week."))

    def spec(self, item_id: int) -> placements.PlacementSpec:
        days = [d for d in placements.WEEKDAYS if d in self.weekdays.data]
        return placements.PlacementSpec(
            item_id=item_id, slot_id=self.slot.data, targets=list(self.targets.data), date_from=self.date_from.data,
            date_until=self.date_until.data, weekdays=None if len(days) == len(placements.WEEKDAYS) else days,
            repeat_count=self.repeat_count.data, repeat_gap_s=self.repeat_gap_s.data, position=self.position.data,
            priority=self.priority.data)

    def show_error(self, error: DomainError | Problems, *, default_field: str | None = None) -> None:
        """Put a service's refusal next to the fields it is about, else ``default_field``, else above the form."""
        show_problems(self, error, field_of=FIELD_OF_ERROR, default=default_field)
