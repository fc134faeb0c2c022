"""Job targets of the data exchange: pulling upstream sources (and, below, pushing statistics up)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from broadcast.audio_setup import audio_tools
from broadcast.config import load_settings
from broadcast.jobs.tasks import database
from broadcast.services import bulletins_in, emergency_delivery, statistics_out, upstream_pull

log = logging.getLogger(__name__)


def pull_sources(now: datetime | None = None) -> int:
    """Pull the upstream sources whose turn has come; returns how many new bulletins arrived."""
    settings = load_settings()
    context = bulletins_in.Context.from_settings(settings, audio_tools(settings), now or datetime.now(UTC))
    with database(settings).session() as session:
        batches = upstream_pull.pull_due(session, context)
    created = 0
    for batch in batches:
        if batch is not None:
            created += batch.created
            if batch.outgoing:  # a trusted CAP sender's emergency is issued at once: tell the agents now
                emergency_delivery.dispatch(settings, batch.outgoing)
    return created


def push_statistics(now: datetime | None = None) -> int:
    """Queue the previous day's statistics once, and send the pushes that are due; returns how many were tried."""
    settings = load_settings()
    if not settings.statistics_push_url:
        return 0
    with database(settings).session() as session:
        run = statistics_out.run(session, settings, now or datetime.now(UTC))
    return run.sent + run.failed
