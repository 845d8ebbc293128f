"""Revision 0008 makes a bank credit's original row unique, on a journal that already holds rows.

A journal written before it follows the rule already (the writer marked second copies); should a
second copy have been stored as an original anyway, the upgrade marks it a duplicate of the first
rather than failing to build the index. Afterwards the database itself refuses a second original.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from conftest import _postgres_admin_url, _require_postgres, make_settings
from market.db import create_sync_engine_for, migrate

_ROW = (
    "INSERT INTO notification_journal (id, provider, provider_txn_id, status, amount, direction, memo, "
    "transferred_at, received_at, bank_reference, account_number, auth, raw_body, raw_headers) VALUES "
    "(:id, :provider, :txn, :status, 50000, 'in', 'memo', :at, :at, :reference, :account, 'hmac', :body, '{}')"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of each kind, with no schema yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = sa.create_engine(
        sa.make_url(_postgres_admin_url()).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if _require_postgres():
            pytest.fail(f"PostgreSQL not reachable: {exc.orig}")
        pytest.skip(f"PostgreSQL not reachable: {exc.orig}")
    name = f"market_migration_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(_postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _row(row_id: int, provider: str, txn: str, status: str, reference: str, account: str) -> dict[str, object]:
    at = "2025-06-01 02:15:42.000000"
    return {"id": row_id, "provider": provider, "txn": txn, "status": status, "reference": reference} | {
        "account": account,
        "at": at,
        "body": b"{}",
    }


def test_upgrade_marks_stray_second_copies_then_refuses_new_ones(
    unmigrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(unmigrated_url)
    migrate(settings, "0007")
    engine = create_sync_engine_for(settings)
    try:
        with engine.begin() as conn:
            for row in (
                _row(1, "sepay", "1", "pending", "FT-A", "111"),  # the first copy of credit A
                _row(2, "casso", "9", "matched", "FT-A", "111"),  # a second copy stored as an original
                _row(3, "payos", "7", "duplicate", "FT-A", "111"),  # a second copy already marked
                _row(4, "generic", "g", "pending", "FT-A", "222"),  # the same reference on another account
                _row(5, "sepay", "2", "pending", "FT-B", "111"),  # another credit
                _row(6, "casso", "8", "review", "", "111"),  # no reference: no credit to compare
                _row(7, "payos", "6", "review", "", "111"),
                _row(8, "vietqr", "5", "duplicate", "FT-A", "111"),  # a copy that named the stray one
            ):
                conn.execute(sa.text(_ROW), row)
            conn.execute(sa.text("UPDATE notification_journal SET duplicate_of = 1 WHERE id = 3"))
            conn.execute(sa.text("UPDATE notification_journal SET duplicate_of = 2 WHERE id = 8"))
        engine.dispose()

        with caplog.at_level(logging.WARNING):
            migrate(settings)

        assert "1 journal rows were second copies" in caplog.text
        assert "market reconcile replay" in caplog.text
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT id, status, duplicate_of FROM notification_journal")).all()
        journal = {row_id: f"{status}:{first or '-'}" for row_id, status, first in found}
        assert journal == {
            1: "pending:-",
            2: "duplicate:1",
            3: "duplicate:1",
            4: "pending:-",
            5: "pending:-",
            6: "review:-",
            7: "review:-",
            8: "duplicate:1",
        }
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(_ROW), _row(9, "generic", "h", "pending", "FT-B", "111"))
    finally:
        engine.dispose()


def test_upgrade_of_a_journal_that_follows_the_rule_says_nothing(
    unmigrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(unmigrated_url)
    migrate(settings, "0007")
    engine = create_sync_engine_for(settings)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(_ROW), _row(1, "sepay", "1", "pending", "FT-A", "111"))
        with caplog.at_level(logging.WARNING):
            migrate(settings)
        assert "journal rows were second copies" not in caplog.text
    finally:
        engine.dispose()
