"""Bounded retries with exponential backoff and jitter for the online engines."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from audio.speech.base import SpeechError

log = logging.getLogger(__name__)

T = TypeVar("T")


class TransientSpeechError(SpeechError):
    """A failure worth trying again: a timeout, a refused connection, a 5xx or 429 answer."""


def with_retries(
    attempt: Callable[[], T],
    *,
    retries: int,
    backoff_s: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``attempt`` until it succeeds, at most ``1 + retries`` times, waiting longer between tries.

    Only :class:`TransientSpeechError` is retried; any other SpeechError (a refused auth header, a bad voice)
    would fail the same way again. The last error is raised as a plain SpeechError saying how many attempts
    were made. Jitter spreads the retries of many renders that failed together, so they do not hit the
    provider again at the same instant.
    """
    if retries < 0:
        raise ValueError("retries must be 0 or more")
    attempts = 1 + retries
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except TransientSpeechError as exc:
            if number == attempts:
                plural = "s" if attempts > 1 else ""
                raise SpeechError(f"{exc} ({attempts} attempt{plural})") from exc
            delay = backoff_s * (2 ** (number - 1)) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not secrets
            log.warning("%s failed (%s); attempt %d of %d in %.2f s", what, exc, number + 1, attempts, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
