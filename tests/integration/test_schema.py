"""The schema, on SQLite and PostgreSQL: migrations, UTC times and constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, StatementError

from broadcast.db.models import (
    Area,
    AuditLog,
    Base,
    Level,
    PlaybackEvent,
    PlaybackOutcome,
    Station,
    Structure,
)


def test_migrations_create_every_model_table(database):
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert database.current_revision() == database.head_revision()


def test_upgrade_twice_is_harmless(database):
    database.upgrade()
    assert database.current_revision() == database.head_revision()


def test_models_match_the_migrations(database):
    """Autogenerate finds nothing to add: the models and the migration files agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata) if "apscheduler" not in str(d)]
    assert diff == []


def _commune(session, code="00694") -> Area:
    province = Area(structure=Structure.CURRENT, level=Level.PROVINCE, code="08", name="Tỉnh Tuyên Quang",
                    short_name="Tuyên Quang", kind="Tỉnh", path="2025/08/")
    commune = Area(structure=Structure.CURRENT, level=Level.COMMUNE, code=code, name="Phường Hà Giang 1",
                   short_name="Hà Giang 1", kind="Phường", path=f"2025/08/{code}/", parent=province)
    session.add_all([province, commune])
    session.commit()
    return commune


def test_times_come_back_as_the_same_utc_moment(session):
    station = Station(code="S1", name="S1", commune=_commune(session))
    hanoi = timezone(timedelta(hours=7))
    station.last_contact_at = datetime(2026, 3, 29, 8, 30, tzinfo=hanoi)
    session.add(station)
    session.commit()
    session.expire_all()
    loaded = session.get(Station, station.id)
    assert loaded.last_contact_at.tzinfo is not None
    assert loaded.last_contact_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(session):
    station = Station(code="S1", name="S1", commune=_commune(session), last_contact_at=datetime(2026, 1, 1))  # noqa: DTZ001
    session.add(station)
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


def test_area_codes_are_unique_within_structure_and_level(session):
    _commune(session)
    session.add(Area(structure=Structure.CURRENT, level=Level.COMMUNE, code="00694", name="dup", short_name="dup",
                     kind="Xã", path="2025/08/00694x/"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    # The same code in the legacy map is another unit.
    session.add(Area(structure=Structure.LEGACY, level=Level.COMMUNE, code="00694", name="old", short_name="old",
                     kind="Xã", path="legacy/02/024/00694/"))
    session.commit()


def test_enum_columns_reject_unknown_values_in_the_database(session, database):
    commune = _commune(session)
    with pytest.raises(IntegrityError), database.engine.begin() as conn:
        conn.execute(text("UPDATE areas SET level = 'hamlet' WHERE id = :id"), {"id": commune.id})


def test_playback_events_are_unique_per_station_event_id(session):
    station = Station(code="S1", name="S1", commune=_commune(session))
    session.add(station)
    session.commit()
    for _ in range(2):
        session.add(PlaybackEvent(station_id=station.id, event_id="e-1", outcome=PlaybackOutcome.PLAYED))
    with pytest.raises(IntegrityError):
        session.commit()


def test_audit_details_keep_vietnamese_text(session):
    session.add(AuditLog(actor="cli", action="x", entity_type="area", details={"tên": "Hà Giang"}))
    session.commit()
    session.expire_all()
    assert session.query(AuditLog).one().details == {"tên": "Hà Giang"}
