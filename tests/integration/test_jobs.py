"""The scheduler: jobs persist in the database, one process at a time, and the offline sweep works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from broadcast.db.models import Station, StationStatus
from broadcast.jobs import scheduler as jobs
from broadcast.jobs import tasks


def test_jobs_are_stored_in_the_database(settings, database):
    scheduler = jobs.build_scheduler(settings, blocking=False)
    scheduler.start(paused=True)
    try:
        with database.engine.connect() as conn:
            ids = set(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
        assert {job_id for job_id, _, _ in jobs.JOBS} <= ids
    finally:
        scheduler.shutdown(wait=False)
    # A second start replaces the stored jobs instead of failing on duplicates.
    again = jobs.build_scheduler(settings, blocking=False)
    again.start(paused=True)
    again.shutdown(wait=False)


def test_a_second_scheduler_process_is_refused(settings):
    with jobs.single_instance(settings), pytest.raises(jobs.SchedulerAlreadyRunning):
        with jobs.single_instance(settings):
            pass


def test_offline_sweep_task_uses_the_configured_database(seeded, settings, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    with seeded.extensions["database"].sessions() as session:
        station = session.query(Station).filter_by(code="HG1-01").one()
        station.status = StationStatus.ONLINE
        station.last_contact_at = now - timedelta(seconds=settings.station_offline_after_s + 1)
        session.commit()
    assert tasks.mark_offline_stations(now=now) == 1
    assert tasks.mark_offline_stations(now=now) == 0
    with seeded.extensions["database"].sessions() as session:
        assert session.query(Station).filter_by(code="HG1-01").one().status is StationStatus.OFFLINE
