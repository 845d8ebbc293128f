"""Shared fixtures: a real database per test, on SQLite and on PostgreSQL.

``database_url`` is parametrized over both databases, so every test that uses it (or
``settings``, ``engine``, ``client``) runs twice.

- SQLite: the schema is migrated once into a template file; each test gets its own copy
  in ``tmp_path`` (a real file, WAL and all; never ``:memory:``).
- PostgreSQL: a database of its own for this test run, created from the server given by
  ``MARKET_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
  migrated once, tables emptied before each test, dropped at the end. Without a reachable
  server the PostgreSQL leg is skipped with the reason, unless ``MARKET_TEST_REQUIRE_POSTGRES=1``
  (CI sets it), in which case it fails.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from sqlalchemy.engine import Engine, make_url

from market.config import Settings, load_settings
from market.db import Base, create_sync_engine_for, migrate

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_admin_url() -> str:
    return os.environ.get("MARKET_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _require_postgres() -> bool:
    return os.environ.get("MARKET_TEST_REQUIRE_POSTGRES", "") not in ("", "0", "false")


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for tests: the given database and fixed secrets, whatever the environment says."""
    # The test client's host name is allowed besides the defaults (127.0.0.1, localhost).
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": "test-secret",
        "allowed_hosts": "testserver.local",
    }
    values.update(overrides)
    return load_settings({}, **values)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "market.db"
    migrate(make_settings(f"sqlite:///{path}"))
    # Fold the WAL into the main file so that copying one file copies the whole database.
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@contextmanager
def new_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server (dropped afterwards): its URL.

    Skips the test when the server cannot be reached, or fails it if MARKET_TEST_REQUIRE_POSTGRES is set.
    """
    admin_url = make_url(_postgres_admin_url()).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL not reachable at {admin_url.render_as_string(hide_password=True)}: {exc.orig}"
        if _require_postgres():
            pytest.fail(reason + " (MARKET_TEST_REQUIRE_POSTGRES is set)")
        pytest.skip(reason)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name, drivername="postgresql").render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    with new_postgres_database("market_test") as url:
        migrate(make_settings(url))
        yield url


def _empty_postgres_tables(url: str) -> None:
    engine = create_sync_engine_for(make_settings(url))
    try:
        with engine.begin() as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    sa.text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ]
            if tables:
                quoted = ", ".join(f'"{t}"' for t in tables)
                conn.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind; the test owns it."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "market.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres_tables(url)
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A blocking engine on the test database, for arranging data and checking results."""
    engine = create_sync_engine_for(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """The app, lifespan and all, on the test database, calling as the ``admin`` user (an API token)."""
    from credentials import bearer
    from market.web.app import create_app

    with TestClient(app=create_app(settings)) as test_client:
        test_client.headers.update(bearer(settings))
        yield test_client


__all__ = ["Base", "make_settings"]
