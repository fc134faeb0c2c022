"""The API's per-field messages from its schemas (marshmallow, in English) in the reader's language.

A refused request's ``errors`` name each field with what is wrong; marshmallow writes those sentences in
English with the numbers filled in, so they are recognised by their shape and said again from our catalogue.
A sentence not known here is left as marshmallow wrote it.
"""

from __future__ import annotations

import re
from typing import Any

from broadcast.i18n import _l

_NUMBER = r"(-?[\d.]+)"
SCHEMA_MESSAGES = (
    (re.compile(r"Missing data for required field\."), lambda m: _l("This field is required.")),
    (re.compile(r"Field may not be null\."), lambda m: _l("This field cannot be empty.")),
    (re.compile(r"Unknown field\."), lambda m: _l("This field is not known here.")),
    (re.compile(r"Not a valid integer\."), lambda m: _l("Not a valid integer value.")),
    (re.compile(r"Not a valid number\."), lambda m: _l("Not a valid decimal value.")),
    (re.compile(r"Not a valid string\."), lambda m: _l("Write text here.")),
    (re.compile(r"Not a valid boolean\."), lambda m: _l("Answer true or false.")),
    (re.compile(r"Not a valid date\."), lambda m: _l("Not a valid date value.")),
    (re.compile(r"Not a valid time\."), lambda m: _l("Not a valid time value.")),
    (re.compile(r"Not a valid (aware |naive )?datetime\."), lambda m: _l("Not a valid datetime value.")),
    (re.compile(r"Not a valid list\."), lambda m: _l("Send a list here.")),
    (re.compile(r"Not a valid URL\."), lambda m: _l("Invalid URL.")),
    (re.compile(r"Invalid value\."), lambda m: _l("Invalid input.")),
    (re.compile(r"Must be one of: (?P<values>.*)\."), lambda m: _l("Invalid value, must be one of: %(values)s.",
                                                                     values=m["values"])),
    (re.compile(rf"Length must be between {_NUMBER} and {_NUMBER}\."),
     lambda m: _l("Length from %(min)s to %(max)s.", min=m[1], max=m[2])),
    (re.compile(rf"Shorter than minimum length {_NUMBER}\."), lambda m: _l("At least %(min)s long.", min=m[1])),
    (re.compile(rf"Longer than maximum length {_NUMBER}\."), lambda m: _l("At most %(max)s long.", max=m[1])),
    (re.compile(rf"Must be greater than or equal to {_NUMBER} and less than or equal to {_NUMBER}\."),
     lambda m: _l("Number must be between %(min)s and %(max)s.", min=m[1], max=m[2])),
    (re.compile(rf"Must be greater than or equal to {_NUMBER}\."),
     lambda m: _l("Number must be at least %(min)s.", min=m[1])),
    (re.compile(rf"Must be less than or equal to {_NUMBER}\."),
     lambda m: _l("Number must be at most %(max)s.", max=m[1])),
)


def translated(messages: Any) -> Any:
    """The same structure of field messages (lists, nested fields), each known sentence in our catalogue's words."""
    if isinstance(messages, dict):
        return {field: translated(found) for field, found in messages.items()}
    if isinstance(messages, list | tuple):
        return [translated(found) for found in messages]
    if isinstance(messages, str):
        for pattern, sentence in SCHEMA_MESSAGES:
            found = pattern.fullmatch(messages)
            if found:
                return str(sentence(found))
    return messages
