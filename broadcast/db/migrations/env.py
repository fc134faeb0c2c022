"""Alembic environment: runs on the connection handed over by Database.upgrade, or on the URL."""

from alembic import context
from sqlalchemy import create_engine

from broadcast.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
        return
    _run(connection)


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    # Tables we do not model (APScheduler's job store) are left alone by autogenerate.
    return not (type_ == "table" and reflected and compare_to is None)


def _run(connection) -> None:
    # Batch mode lets later migrations alter tables on SQLite, which has little ALTER TABLE.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, include_object=_ours)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
