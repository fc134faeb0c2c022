"""What a new password must be: long enough, and not one that attackers try first.

The list is the 10,000 most common passwords from leaks (broadcast/data/common-passwords.txt, made by
scripts/common_passwords.py from the list Django ships). It is compared without case or surrounding spaces,
as Django does, so "Password1" is refused like "password1".
"""

from __future__ import annotations

import functools
from pathlib import Path

from broadcast.errors import InvalidInput
from broadcast.i18n import _l
from broadcast.security import MIN_PASSWORD_LENGTH

COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    return frozenset(line.strip() for line in COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines())


def check(password: str, *, username: str = "", field: str = "password") -> None:
    """Raise InvalidInput (on ``field``) saying what is wrong with ``password`` as a new password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_l("A password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH), field=field)
    folded = password.strip().lower()
    if folded in common_passwords():
        raise InvalidInput(_l("This password is one of the most common ones, which are tried first; choose "
                              "another."), field=field)
    if len(username.strip()) >= 3 and username.strip().lower() in folded:
        raise InvalidInput(_l("A password must not contain the username."), field=field)
