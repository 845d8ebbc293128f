"""Revision 0008 makes a bank credit's original row unique, on a journal that already holds rows.

A journal written before it follows the rule already (the writer marked second copies); should a
second copy have been stored as an original anyway, the upgrade marks it a duplicate of the first
rather than failing to build the index. Afterwards the database itself refuses a second original.
"""

from __future__ import annotations

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


def test_upgrade_marks_stray_second_copies_then_refuses_new_ones(unmigrated_url: str) -> None:
    settings = make_settings(unmigrated_url)
    migrate(settings, "0007")
    engine = create_sync_engine_for(settings)
    try:
        rows = [
            (1, "sepay", "1", "pending", "FT-A", "111"),  # the first copy of credit A
            (2, "casso", "9", "matched", "FT-A", "111"),  # a second copy stored as an original
            (3, "payos", "7", "duplicate", "FT-A", "111"),  # a second copy already marked
            (4, "generic", "g", "pending", "FT-A", "222"),  # the same reference on another account
            (5, "sepay", "2", "pending", "FT-B", "111"),  # another credit
            (6, "casso", "8", "review", "", "111"),  # no reference: no credit to compare
            (7, "payos", "6", "review", "", "111"),
        ]
        with engine.begin() as conn:
            for row_id, provider, txn, status, reference, account in rows:
                values = {"id": row_id, "provider": provider, "txn": txn, "status": status}
                values |= {"reference": reference, "account": account, "at": "2025-06-01 02:15:42.000000"}
                conn.execute(sa.text(_ROW), values | {"body": b"{}"})
            conn.execute(sa.text("UPDATE notification_journal SET duplicate_of = 1 WHERE id = 3"))
        engine.dispose()

        migrate(settings)

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
        }
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.text(_ROW),
                {"id": 8, "provider": "generic", "txn": "h", "status": "pending", "reference": "FT-B"}
                | {"account": "111", "at": "2025-06-01 02:15:42.000000", "body": b"{}"},
            )
    finally:
        engine.dispose()
