"""The clock of the web layer, injectable: tests set ``app.extensions["clock"]`` to a fixed time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def utc_now() -> datetime:
    clock = current_app.extensions.get("clock")
    return clock() if clock is not None else datetime.now(UTC)


def local_today() -> date:
    """Today in the service's zone (placements are dated in local days)."""
    return utc_now().astimezone(ZoneInfo(current_app.extensions["settings"].timezone)).date()
