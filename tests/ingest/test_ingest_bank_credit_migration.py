"""Revision 0008 makes a bank credit's original row unique, on a journal that already holds rows.

A journal written before it follows the rule already (the writer marked second copies); should a
second copy have been stored as an original anyway, the upgrade marks it a duplicate of the first
rather than failing to build the index. Afterwards the database itself refuses a second original.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from conftest import make_settings, new_postgres_database
from market.config import Settings
from market.db import create_sync_engine_for, migrate

_ROW = (
    "INSERT INTO notification_journal (id, provider, provider_txn_id, status, amount, direction, memo, "
    "transferred_at, received_at, bank_reference, account_number, auth, raw_body, raw_headers) VALUES "
    "(:id, :provider, :txn, :status, 50000, 'in', 'memo', :at, :at, :reference, :account, 'hmac', :body, '{}')"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    """A database of each kind migrated up to revision 0007, the one before, and an engine on it."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'old.db'}"
        else:
            url = stack.enter_context(new_postgres_database("market_migration"))
        settings = make_settings(url)
        migrate(settings, "0007")
        engine = create_sync_engine_for(settings)
        stack.callback(engine.dispose)
        yield settings, engine


def _row(row_id: int, provider: str, txn: str, status: str, reference: str, account: str) -> dict[str, object]:
    return {
        "id": row_id,
        "provider": provider,
        "txn": txn,
        "status": status,
        "reference": reference,
        "account": account,
        "at": "2025-06-01 02:15:42.000000",
        "body": b"{}",
    }


def test_upgrade_marks_stray_second_copies_then_refuses_new_ones(
    at_0007: tuple[Settings, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    settings, engine = at_0007
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


def test_upgrade_of_a_journal_that_follows_the_rule_says_nothing(
    at_0007: tuple[Settings, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    settings, engine = at_0007
    with engine.begin() as conn:
        conn.execute(sa.text(_ROW), _row(1, "sepay", "1", "pending", "FT-A", "111"))
    with caplog.at_level(logging.WARNING):
        migrate(settings)
    assert "journal rows were second copies" not in caplog.text
