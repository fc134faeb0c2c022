"""People's e-mail addresses (``users.email``): checked, kept in lower case, one per person.

The address is where notices reach someone away from the pages (an emergency waiting for its approver), so a
malformed one is refused rather than kept to fail silently later. Letter case never matters in practice for
the addresses in use, and lower case makes the unique constraint hold whatever was typed, on both databases.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broadcast.db.models import User
from broadcast.errors import Conflict, InvalidInput
from broadcast.i18n import _l
from broadcast.services.audit import record

MAX_LENGTH = 254  # RFC 5321's limit on a forward path
# One @, a local part of the usual characters without leading, trailing or double dots, and a domain of
# letter/digit labels (Vietnamese letters allowed) ending in a top-level name of two letters or more.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
ADDRESS = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[^\W\d_]{{2,}}$")


def normalized(raw: str | None) -> str | None:
    """What is kept of what was typed: trimmed, lower case; None for nothing."""
    text = (raw or "").strip().lower()
    return text or None


def is_address(text: str | None) -> bool:
    return bool(text) and len(text) <= MAX_LENGTH and len(text.partition("@")[0]) <= 64 \
        and ADDRESS.match(text) is not None


def problem(session: Session, raw: str | None, *, user: User | None = None) -> InvalidInput | Conflict | None:
    """Why ``raw`` cannot be ``user``'s address (malformed, or someone else's), or None; nothing is fine."""
    address = normalized(raw)
    if address is None:
        return None
    if len(address) > MAX_LENGTH:
        return InvalidInput(_l("An e-mail address has at most %(n)s characters.", n=MAX_LENGTH), field="email")
    if not is_address(address):
        return InvalidInput(_l("%(address)s is not an e-mail address: write it like ten@ubnd.example.vn.",
                               address=address), field="email")
    query = select(User.id).where(User.email == address)
    if user is not None and user.id is not None:
        query = query.where(User.id != user.id)
    if session.scalar(query) is not None:
        return Conflict(_l("The e-mail address %(address)s already belongs to another account.", address=address),
                        field="email")
    return None


def change(session: Session, user: User, raw: str | None) -> dict:
    """Give ``user`` the address ``raw`` (refused with its problem); the audit's before/after, or {} if the same."""
    if (refused := problem(session, raw, user=user)) is not None:
        raise refused
    address = normalized(raw)
    if address == user.email:
        return {}
    before, user.email = user.email, address
    return {"email": [before, address]}


def change_own(session: Session, user: User, raw: str | None) -> None:
    """A person setting or removing their own address on their account page; audited like an admin's change."""
    changes = change(session, user, raw)
    if changes:
        record(session, user, "user.update", "user", user.id, {"username": user.username, **changes})
    commit(session, changes)


def commit(session: Session, changes: dict) -> None:
    """Commit; an address taken by someone else between the check and now is refused as it would have been."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if "email" not in changes:
            raise
        raise Conflict(_l("The e-mail address %(address)s already belongs to another account.",
                          address=changes["email"][1]), field="email") from None
