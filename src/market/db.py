"""Database plumbing shared by every package: the declarative base, column types, engines, migrations.

The same code runs on the embedded SQLite file and on PostgreSQL. ``MARKET_DATABASE_URL`` is
written without a driver (``sqlite:///./market.db``, ``postgresql://postgres@127.0.0.1/market``);
we pick the drivers: aiosqlite / pysqlite for SQLite and psycopg 3 (async and sync) for PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry

from market.config import Settings

__all__ = [
    "Base",
    "DatabaseURLError",
    "Money",
    "UTCDateTime",
    "async_url",
    "create_async_engine_for",
    "create_sync_engine_for",
    "database_reachable",
    "migrate",
    "sync_url",
    "utcnow",
]

# Stable constraint names, so that migrations can drop or alter them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table in the project."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


# Money is a whole number of đồng; BIGINT because a province's yearly totals exceed 2**31.
Money = sa.BigInteger


class DatabaseURLError(ValueError):
    """``MARKET_DATABASE_URL`` names a database we do not support."""


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC (the only kind of time we store)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored in UTC on both databases.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so we store naive UTC text and
    re-attach UTC on the way out. Naive datetimes are refused: an unzoned bank time is a bug.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC times only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DatabaseURLError(f"MARKET_DATABASE_URL: cannot parse {url!r}: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "postgres":  # Heroku-style spelling
        parsed = parsed.set(drivername="postgresql")
    elif backend not in ("sqlite", "postgresql"):
        raise DatabaseURLError(
            f"MARKET_DATABASE_URL: unsupported database {backend!r}; use sqlite:/// or postgresql://"
        )
    return parsed


def async_url(url: str) -> URL:
    """The URL with the asyncio driver of its database."""
    parsed = _parse(url)
    driver = "sqlite+aiosqlite" if parsed.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return parsed.set(drivername=driver)


def sync_url(url: str) -> URL:
    """The URL with the blocking driver of its database (CLI, migrations, tests)."""
    parsed = _parse(url)
    driver = "sqlite+pysqlite" if parsed.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return parsed.set(drivername=driver)


def _engine_kwargs(url: URL, settings: Settings) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        # One file, many connections: a generous busy timeout instead of instant SQLITE_BUSY.
        return {"connect_args": {"timeout": 30}}
    return {
        "pool_size": settings.db_pool_size,
        "pool_pre_ping": True,
        # Fail fast when PostgreSQL is down, so /healthz answers 503 quickly and providers retry.
        "connect_args": {"connect_timeout": 3},
    }


def _install_sqlite_hooks(engine: Engine, synchronous: str) -> None:
    """PRAGMAs per connection, and explicit BEGIN so SAVEPOINT and transactional DDL work.

    pysqlite's own transaction handling defers BEGIN until the first DML statement, which breaks
    SAVEPOINT and lets a read-then-write transaction fail with SQLITE_BUSY instead of waiting.
    SQLAlchemy documents this recipe: disable pysqlite's handling, emit BEGIN ourselves.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers ask for IMMEDIATE so that they queue on the lock instead of failing on upgrade.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_async_engine_for(settings: Settings) -> AsyncEngine:
    """The asyncio engine the web app uses."""
    url = async_url(settings.database_url)
    engine = create_async_engine(url, **_engine_kwargs(url, settings))
    if url.get_backend_name() == "sqlite":
        _install_sqlite_hooks(engine.sync_engine, settings.sqlite_synchronous)
    return engine


def create_sync_engine_for(settings: Settings) -> Engine:
    """The blocking engine the CLI, the migrations and the tests use."""
    url = sync_url(settings.database_url)
    engine = sa.create_engine(url, **_engine_kwargs(url, settings))
    if url.get_backend_name() == "sqlite":
        _install_sqlite_hooks(engine, settings.sqlite_synchronous)
    return engine


async def database_reachable(engine: AsyncEngine, seconds: float = 3.0) -> bool:
    """Whether ``SELECT 1`` succeeds within ``seconds``."""
    try:
        async with asyncio.timeout(seconds), engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except (OSError, TimeoutError, sa.exc.SQLAlchemyError):
        return False
    return True


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Any:
    """An Alembic ``Config`` pointing at the migrations shipped inside the package."""
    from alembic.config import Config  # Alembic is only needed to migrate

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["market_settings"] = settings
    return config


def migrate(settings: Settings, revision: str = "heads") -> None:
    """Create or upgrade the database to ``revision``; running it again changes nothing."""
    from alembic import command

    url = sync_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), revision)
