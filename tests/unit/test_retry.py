"""The retry schedule of failed deliveries: exponential, capped, jittered within bounds, bounded in attempts."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from broadcast.channels.retry import RetryPolicy

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("attempts", "backoff"), [
    (1, 30), (2, 60), (3, 120), (4, 240), (7, 1920), (8, 3600), (9, 3600), (19, 3600),
])
def test_backoff_doubles_until_the_cap(attempts, backoff):
    assert RetryPolicy(base_s=30, cap_s=3600).backoff_s(attempts) == backoff


@pytest.mark.parametrize("attempts", [1, 2, 5, 10])
def test_next_retry_lies_between_half_and_the_whole_backoff(attempts):
    policy = RetryPolicy(base_s=30, cap_s=3600, max_attempts=20)
    rng = random.Random(7)
    waits = [(policy.next_retry(attempts, NOW, rng) - NOW).total_seconds() for _ in range(500)]
    backoff = policy.backoff_s(attempts)
    assert min(waits) >= backoff / 2
    assert max(waits) <= backoff
    # Jitter really spreads retries: a mast coming back does not get every station at the same second.
    assert max(waits) - min(waits) > backoff / 4


def test_no_retry_once_the_attempts_are_used_up():
    policy = RetryPolicy(max_attempts=3)
    assert policy.next_retry(2, NOW) is not None
    assert policy.next_retry(3, NOW) is None


def test_attempts_start_at_one():
    with pytest.raises(ValueError):
        RetryPolicy().backoff_s(0)


def test_huge_attempt_counts_do_not_overflow():
    assert RetryPolicy(base_s=30, cap_s=3600).backoff_s(10_000) == 3600
    assert RetryPolicy(max_attempts=10**6).next_retry(10_000, NOW) <= NOW + timedelta(hours=1)
