"""The password policy: long enough, not a common password, not the username."""

from __future__ import annotations

import pytest

from broadcast.errors import InvalidInput
from broadcast.services import password_policy


@pytest.mark.parametrize(("password", "username", "refused_for"), [
    ("short-pw1", "", "10"),  # 9 characters
    ("", "", "10"),
    ("1234567890", "", "common"),
    ("qwertyuiop", "", "common"),
    ("Basketball", "", "common"),  # case does not help
    (" password12 ", "", "common"),  # nor spaces around it
    ("vanhanh-2026", "vanhanh", "username"),
    ("xx-VanHanh-xx", "vanhanh", "username"),
    ("truyenthanh-2026", "", None),
    ("correct horse", "", None),
    ("mật khẩu dài lắm", "", None),
    ("ab-long-enough", "ab", None),  # a username this short is inside too many passwords to mean anything
])
def test_policy(password, username, refused_for):
    if refused_for is None:
        password_policy.check(password, username=username)
        return
    with pytest.raises(InvalidInput) as caught:
        password_policy.check(password, username=username)
    assert caught.value.field == "password"
    message = str(caught.value.message)
    assert {"10": "10 characters", "common": "most common", "username": "username"}[refused_for] in message


def test_the_shipped_list_has_the_top_10000_ranked_passwords():
    listed = password_policy.COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    assert len(listed) == len(set(listed)) == 10_000
    assert listed[:4] == ["123456", "123456789", "qwerty", "password"]  # most common first
    assert all(line == line.strip().lower() for line in listed)

