"""The pronunciation lexicon editors maintain on top of the built-in one."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.normalize import BUILT_IN_LEXICON
from broadcast.db.models import LexiconEntry, Role, User
from broadcast.errors import InvalidInput, NotFound
from broadcast.i18n import _l
from broadcast.services import scope
from broadcast.services.audit import record

TERM = re.compile(r"^[^\s/]{1,60}$")


def entries(session: Session) -> list[LexiconEntry]:
    return list(session.scalars(select(LexiconEntry).order_by(LexiconEntry.term)))


def overrides(session: Session) -> dict[str, str]:
    """The editors' entries, which extend and override the built-in lexicon."""
    return {e.term: e.reading for e in entries(session)}


def set_entry(session: Session, user: User, term: str, reading: str, note: str | None = None) -> LexiconEntry:
    """Add a term or change how it is read."""
    scope.require_role(user, Role.EDITOR, Role.APPROVER)
    term, reading = term.strip(), " ".join(reading.split())
    if not TERM.match(term):
        raise InvalidInput(_l("A term is one word of up to 60 characters, without spaces or slashes."),
                           field="term")
    if not reading or len(reading) > 300:
        raise InvalidInput(_l("Write how the term is read (up to 300 characters)."), field="reading")
    entry = session.scalar(select(LexiconEntry).where(LexiconEntry.term == term))
    before = entry.reading if entry else BUILT_IN_LEXICON.get(term)
    if entry is None:
        entry = LexiconEntry(term=term, reading=reading)
        session.add(entry)
    entry.reading, entry.note, entry.updated_by_id = reading, note, user.id
    session.flush()
    record(session, user, "lexicon.set", "lexicon", term, {"before": before, "after": reading})
    session.commit()
    return entry


def delete_entry(session: Session, user: User, term: str) -> None:
    """Remove an editor's entry (a built-in reading, if any, applies again)."""
    scope.require_role(user, Role.EDITOR, Role.APPROVER)
    entry = session.scalar(select(LexiconEntry).where(LexiconEntry.term == term))
    if entry is None:
        raise NotFound(_l("The lexicon has no entry %(term)s.", term=term))
    session.delete(entry)
    record(session, user, "lexicon.delete", "lexicon", term, {"before": entry.reading})
    session.commit()
