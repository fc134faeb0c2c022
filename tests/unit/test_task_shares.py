"""Stations sent to the task queue's workers in shares: about the asked size, communes never split."""

import pytest

from broadcast.jobs.dispatch import _shares


@pytest.mark.parametrize(("stations", "size", "expected"), [
    ([], 3, []),
    ([(1, 10), (2, 10), (3, 11)], 3, [[1, 2, 3]]),
    ([(1, 10), (2, 10), (3, 11), (4, 11)], 3, [[1, 2], [3, 4]]),
    # A commune larger than a share is one share of its own, never split.
    ([(1, 10), (2, 11), (3, 11), (4, 11), (5, 11), (6, 12)], 2, [[1], [2, 3, 4, 5], [6]]),
    ([(1, 10), (2, 11), (3, 12), (4, 13), (5, 14)], 2, [[1, 2], [3, 4], [5]]),
    ([(7, 10)], 1, [[7]]),
])
def test_shares_keep_communes_whole(stations, size, expected):
    assert _shares(stations, size) == expected
