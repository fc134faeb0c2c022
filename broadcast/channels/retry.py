"""When to try a failed delivery again: exponential backoff with jitter, bounded.

Stations sit behind flaky 3G/4G links, and a thousand of them failing at once (a mast down) must not all
come back at the same second: the jitter spreads them. "Equal jitter": half the backoff is kept, the other
half is random, so a retry never comes much sooner than the schedule says.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 30.0  # the wait after the first failure (before jitter)
    cap_s: float = 3600.0  # no wait grows beyond this
    max_attempts: int = 20  # then the delivery stays failed until someone acts

    def backoff_s(self, attempts: int) -> float:
        """The un-jittered wait after ``attempts`` failed attempts (1 -> base, 2 -> 2 base, ...), capped."""
        if attempts < 1:
            raise ValueError("attempts counts failures and starts at 1")
        return min(self.cap_s, self.base_s * 2 ** min(attempts - 1, 62))

    def next_retry(self, attempts: int, now: datetime, rng: random.Random | None = None) -> datetime | None:
        """When to try again after ``attempts`` failures, or None when the attempts are used up."""
        if attempts >= self.max_attempts:
            return None
        wait = self.backoff_s(attempts)
        jitter = (rng or random).uniform(0, wait / 2)
        return now + timedelta(seconds=wait / 2 + jitter)
