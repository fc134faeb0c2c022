"""Shared fixtures: settings in a temporary instance folder, real databases, the app and its clients."""

from __future__ import annotations

import functools
import re
import secrets
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from broadcast import create_app, load_settings
from broadcast.db.engine import Database
from broadcast.db.models import Base
from broadcast.services.demo import DEMO_PASSWORD
from tests.services import POSTGRES_URL, unavailable

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session", autouse=True)
def _scrypt_once_per_password():
    """Hash each password once per run, and check each (hash, password) pair once.

    Scrypt is slow on purpose (about 0.1 s), and hundreds of tests create the same demo users and log them in.
    The first hash and check of each are real; later ones reuse the result. The hashing itself is tested in
    tests/unit/test_security.py.
    """
    from broadcast.services import users

    patch = pytest.MonkeyPatch()
    patch.setattr(users, "hash_password", functools.lru_cache(maxsize=None)(users.hash_password))
    patch.setattr(users, "check_password_timing_safe",
                  functools.lru_cache(maxsize=4096)(users.check_password_timing_safe))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    name = f"radio_test_{secrets.token_hex(4)}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means it is absent
        engine.dispose()
        unavailable(f"PostgreSQL at {admin_url.render_as_string()} is not reachable ({type(exc).__name__})")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    yield url
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def _postgres_database(postgres_server_url) -> Database:
    database = Database(postgres_server_url)
    database.upgrade()
    yield database
    database.dispose()


def _truncate(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def _migrated_sqlite_file(tmp_path_factory) -> Path:
    """An empty SQLite database with every migration applied, made once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    template = Database(f"sqlite:///{path}")
    template.upgrade()
    template.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path) -> Database:
    """A migrated, empty database: a new SQLite file, or the run's PostgreSQL database emptied."""
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite_file"), tmp_path / "test.db")
        database = Database(f"sqlite:///{tmp_path / 'test.db'}")
        yield database
        database.dispose()
    else:
        database = request.getfixturevalue("_postgres_database")
        _truncate(database)
        yield database


@pytest.fixture
def session(database):
    with database.sessions() as session:
        yield session


@pytest.fixture
def settings(tmp_path, database):
    # Two-factor login is required of no role here, so tests that log in as an admin or approver need no code;
    # tests/integration/test_two_factor.py sets the requirement and tests it.
    return load_settings(instance_path=tmp_path / "instance", database_url=database.url, totp_required_roles="")


@pytest.fixture
def app(settings, database):
    app = create_app(settings)
    app.config.update(TESTING=True)
    yield app
    app.extensions["database"].dispose()


@pytest.fixture
def seeded(app):
    """The demo data: both area structures, one user per role, four stations."""
    from broadcast.services import demo

    with app.app_context(), app.extensions["database"].sessions() as session:
        list(demo.seed(session))
    return app


@pytest.fixture
def client(seeded):
    return seeded.test_client()


def csrf_from(html: bytes | str) -> str:
    if isinstance(html, bytes):
        html = html.decode()
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def log_in(client, username: str, password: str = DEMO_PASSWORD):
    token = csrf_from(client.get("/login").data)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})
