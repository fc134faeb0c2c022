"""Job targets. Each opens its own unit of work on the configured database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import cache

from broadcast.config import load_settings
from broadcast.db.engine import Database
from broadcast.services import stations

log = logging.getLogger(__name__)


@cache
def _database(url: str) -> Database:
    return Database(url)


def mark_offline_stations(now: datetime | None = None) -> int:
    """Show stations that stopped reporting as offline."""
    settings = load_settings()
    database = _database(settings.resolved_database_url)
    with database.session() as session:
        changed = stations.mark_silent_offline(session, now=now or datetime.now(UTC),
                                               silence=timedelta(seconds=settings.station_offline_after_s))
    if changed:
        log.info("%d stations went offline", changed)
    return changed
