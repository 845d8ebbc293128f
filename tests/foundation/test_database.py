import datetime as dt

import pytest
import sqlalchemy as sa

from market.db import DatabaseURLError, UTCDateTime, async_url, create_sync_engine_for, migrate, sync_url


def test_upgrade_is_idempotent(settings, engine):
    migrate(settings)
    migrate(settings)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions  # a head is recorded, once per branch
    assert len(versions) == len(set(versions))


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    from conftest import make_settings

    settings = make_settings(f"sqlite:///{tmp_path / 'm.db'}")
    engine = create_sync_engine_for(settings)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_utc_datetimes_round_trip_on_both_databases(engine):
    table = sa.Table(
        "tz_probe", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UTCDateTime)
    )
    saigon = dt.timezone(dt.timedelta(hours=7))
    local = dt.datetime(2026, 11, 28, 8, 30, tzinfo=saigon)
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(table.insert(), [{"id": 1, "at": local}])
        with engine.connect() as conn:
            stored = conn.execute(sa.select(table.c.at)).scalar_one()
        assert stored == local
        assert stored.utcoffset() == dt.timedelta(0)
        assert stored.hour == 1
    finally:
        with engine.begin() as conn:
            table.drop(conn)


def test_naive_datetimes_are_refused(engine):
    table = sa.Table(
        "tz_probe2", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UTCDateTime)
    )
    try:
        with engine.begin() as conn:
            table.create(conn)
        with pytest.raises(sa.exc.StatementError, match="naive datetime"), engine.begin() as conn:
            conn.execute(table.insert(), [{"id": 1, "at": dt.datetime(2026, 1, 1)}])  # noqa: DTZ001
    finally:
        with engine.begin() as conn:
            table.drop(conn)


def test_urls_get_our_drivers():
    assert async_url("sqlite:///./m.db").drivername == "sqlite+aiosqlite"
    assert sync_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(DatabaseURLError, match="unsupported database 'mysql'"):
        sync_url("mysql://u@h/db")
