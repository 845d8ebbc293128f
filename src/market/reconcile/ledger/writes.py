"""What the driver writes to the ledger: receipts, review items, intents' state and the rollups.

Every function here runs in the caller's transaction; the driver writes a whole batch and its
checkpoint in one. ``stall_days`` and ``stall_months`` take the same deltas in the same
transaction, so a month always holds the sum of its days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from market.db import utcnow
from market.formats import local_day
from market.reconcile.ledger.book_loader import Registry
from market.reconcile.ledger.tables import (
    intents_table,
    journal_table,
    receipts_table,
    review_items_table,
    stall_days_table,
    stall_months_table,
)
from market.reconcile.matching.book import Book, BookReceipt, Intent, NotificationKey
from market.reconcile.matching.decisions import ATTRIBUTED, BatchResult, Decision, Suggestion
from market.reconcile.reasons import PROVIDER_STATUS, UNKNOWN_ACCOUNT
from market.reconcile.statuses import MATCHED, NOT_OURS, OUTGOING, REPEAT, UNMATCHED

__all__ = [
    "add_days",
    "hold_failed",
    "stored_state",
    "suggestion_dict",
    "upsert",
    "write_result",
]


_STATUS_OF = {"review": UNMATCHED, "repeat": REPEAT, "outgoing": OUTGOING, "not_ours": NOT_OURS}
# A flag a person should see on a receipt, by outcome (the first that applies).
_FLAGS = {"duplicate": "refund_due", "overpaid": "refund_excess", "late": "late"}

# (stall id, day or month) -> [receipts, value] to add.
Deltas = dict[tuple[int, dt.date], list[int]]


def stored_state(intent: Intent) -> str:
    """The state kept in ``payment_intents.state`` (expiry is judged when read, against the clock)."""
    if intent.paid > intent.amount:
        return "overpaid"
    if intent.paid == intent.amount:
        return "paid"
    return "partial" if intent.paid else "open"


def suggestion_dict(suggestion: Suggestion) -> dict[str, Any]:
    """A suggestion as stored in ``review_items.suggestions`` (JSON)."""
    return {
        "stall": suggestion.stall,
        "intent": suggestion.intent,
        "score": suggestion.score,
        "why": suggestion.why,
        "receipt": list(suggestion.receipt) if suggestion.receipt is not None else None,
    }


def _bump(days: Deltas, stall_id: int, day: dt.date, count: int, value: int) -> None:
    entry = days.setdefault((stall_id, day), [0, 0])
    entry[0] += count
    entry[1] += value


def _receipt_row(
    row: Any,
    decision: Decision,
    kept: BookReceipt | None,
    *,
    stall_id: int,
    intent_id: int | None,
    day: dt.date,
    now: dt.datetime,
) -> dict[str, Any]:
    """The ``receipts`` row of an attributed decision; ``kept`` is its refund state after the batch."""
    return {
        "journal_id": row.id,
        "stall_id": stall_id,
        "intent_id": intent_id,
        "amount": decision.amount,
        "kind": decision.outcome,
        "rule": decision.rule,
        "occurred_at": row.transferred_at,
        "local_day": day,
        "reverses_id": None,
        "is_reversed": kept is not None and kept.reversed >= kept.amount,
        "flag": _FLAGS.get(decision.outcome, "fuzzy" if decision.rule == "fuzzy" else None),
        "refund_due": kept.refund_due if kept is not None else decision.refund_due,
        "reversed_amount": kept.reversed if kept is not None else 0,
        "created_at": now,
    }


def write_result(
    conn: Connection,
    rows: dict[NotificationKey, Any],
    result: BatchResult,
    *,
    book: Book,
    registry: Registry,
    zone: ZoneInfo,
) -> None:
    """Every effect of ``result`` on the ledger; ``book`` is as it was before ``result``."""
    new_receipts: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    reversals: list[tuple[int, NotificationKey]] = []
    days: Deltas = {}
    # Reversed totals as the batch goes, so a second refund of one receipt sees the first.
    reversed_so_far: dict[NotificationKey, int] = {}
    inserted: set[NotificationKey] = set()
    now = utcnow()

    for decision in result.decisions:
        row = rows[decision.key]
        outcome = decision.outcome
        if outcome in ATTRIBUTED:
            assert decision.stall is not None
            statuses.append({"row_id": row.id, "new_status": MATCHED})
            stall_id = registry.stall_id(conn, decision.stall)
            day = local_day(row.transferred_at, zone)
            new_receipts.append(
                _receipt_row(
                    row,
                    decision,
                    result.receipts.get(decision.key),
                    stall_id=stall_id,
                    intent_id=registry.intent_id(decision.intent),
                    day=day,
                    now=now,
                )
            )
            inserted.add(decision.key)
            if outcome != "reversal":
                _bump(days, stall_id, day, 1, decision.amount)
            elif decision.reverses is None:
                _bump(days, stall_id, day, 0, decision.amount)  # a person's reversal of nothing we hold
            else:
                reversals.append((row.id, decision.reverses))
                original = book.receipts.get(decision.reverses) or result.receipts[decision.reverses]
                before = reversed_so_far.get(
                    decision.reverses,
                    book.receipts[decision.reverses].reversed if decision.reverses in book.receipts else 0,
                )
                after = before - decision.amount
                reversed_so_far[decision.reverses] = after
                gone = before < original.amount <= after  # this reversal cancels the whole sale
                _bump(
                    days,
                    registry.stall_id(conn, original.stall),
                    local_day(original.transferred_at, zone),
                    -1 if gone else 0,
                    decision.amount,
                )
        else:
            statuses.append({"row_id": row.id, "new_status": _STATUS_OF[outcome]})
            if outcome == "review":
                reviews.append(
                    {
                        "journal_id": row.id,
                        "reason": decision.reason or UNKNOWN_ACCOUNT,
                        "suggestions": [suggestion_dict(s) for s in decision.suggestions],
                    }
                )
    if new_receipts:
        conn.execute(sa.insert(receipts_table), new_receipts)
    if reviews:
        _upsert_review(conn, reviews)
    if statuses:
        conn.execute(
            sa.update(journal_table)
            .where(journal_table.c.id == sa.bindparam("row_id"))
            .values(status=sa.bindparam("new_status")),
            statuses,
        )
    _link_reversals(conn, rows, result, reversals, inserted)
    if result.intents:
        conn.execute(
            sa.update(intents_table)
            .where(intents_table.c.code == sa.bindparam("intent_code"))
            .values(paid_amount=sa.bindparam("paid"), state=sa.bindparam("new_state")),
            [
                {"intent_code": code, "paid": intent.paid, "new_state": stored_state(intent)}
                for code, intent in result.intents.items()
            ],
        )
    if days:
        add_days(conn, days)


def _link_reversals(
    conn: Connection,
    rows: dict[NotificationKey, Any],
    result: BatchResult,
    reversals: list[tuple[int, NotificationKey]],
    inserted: set[NotificationKey],
) -> None:
    """Point each reversal at its receipt, and store the new refund state of receipts reversed."""
    r = receipts_table.c
    changed = [key for key in result.receipts if key not in inserted]
    wanted = {key for _, key in reversals} | set(changed)
    journal_ids = {key: rows[key].id for key in wanted if key in rows}
    missing = [key for key in wanted if key not in journal_ids]
    for provider, txn, row_id in _journal_ids(conn, missing):
        journal_ids[(provider, txn)] = row_id
    if reversals:
        conn.execute(
            sa.update(receipts_table)
            .where(r.journal_id == sa.bindparam("reversal_journal"))
            .values(
                reverses_id=sa.select(r.id).where(r.journal_id == sa.bindparam("original_journal")).scalar_subquery()
            ),
            [{"reversal_journal": jid, "original_journal": journal_ids[key]} for jid, key in reversals],
        )
    if changed:
        conn.execute(
            sa.update(receipts_table)
            .where(r.journal_id == sa.bindparam("original_journal"))
            .values(
                refund_due=sa.bindparam("due"),
                reversed_amount=sa.bindparam("taken"),
                is_reversed=sa.bindparam("gone"),
            ),
            [
                {
                    "original_journal": journal_ids[key],
                    "due": result.receipts[key].refund_due,
                    "taken": result.receipts[key].reversed,
                    "gone": result.receipts[key].reversed >= result.receipts[key].amount,
                }
                for key in changed
            ],
        )


def _journal_ids(conn: Connection, keys: Sequence[NotificationKey]) -> list[tuple[str, str, int]]:
    j = journal_table.c
    found = []
    for provider, txn in keys:
        query = sa.select(j.id).where(j.provider == provider, j.provider_txn_id == txn)
        found.append((provider, txn, conn.execute(query).scalar_one()))
    return found


def hold_failed(conn: Connection, rows: Sequence[Any]) -> None:
    """Deliveries the provider marked failed: to the review queue as they are, never to the core."""
    _upsert_review(conn, [{"journal_id": row.id, "reason": PROVIDER_STATUS, "suggestions": []} for row in rows])
    conn.execute(
        sa.update(journal_table).where(journal_table.c.id == sa.bindparam("row_id")).values(status=UNMATCHED),
        [{"row_id": row.id} for row in rows],
    )


def _insert_for(conn: Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def upsert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert ``rows``, or update every column but ``keys`` of the rows already there."""
    statement = _insert_for(conn, table)
    updates = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


def _upsert_review(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Open (or, on replay, refresh) review items; a person's resolution on an item is kept."""
    now = utcnow()
    statement = _insert_for(conn, review_items_table)
    statement = statement.on_conflict_do_update(
        index_elements=["journal_id"],
        set_={"reason": statement.excluded.reason, "suggestions": statement.excluded.suggestions},
    )
    conn.execute(statement, [{**row, "created_at": now} for row in rows])


def add_days(conn: Connection, days: Deltas) -> None:
    """Add each (stall, day)'s deltas to ``stall_days``, and their sums per month to ``stall_months``.

    Both rollups take the same deltas in the same transaction, so a month always holds the sum
    of its days (``tests/reconcile/test_reconcile_rollup.py``).
    """
    months: Deltas = {}
    for (stall_id, day), (count, value) in days.items():
        _bump(months, stall_id, day.replace(day=1), count, value)
    _add_to_rollup(conn, stall_days_table, "day", days)
    _add_to_rollup(conn, stall_months_table, "month", months)


def _add_to_rollup(conn: Connection, table: sa.Table, period: str, deltas: Deltas) -> None:
    """Add (receipts, value) deltas to ``table``'s (stall_id, ``period``) rows, creating rows as needed."""
    statement = _insert_for(conn, table)
    statement = statement.on_conflict_do_update(
        index_elements=["stall_id", period],
        set_={
            "receipts": table.c.receipts + statement.excluded.receipts,
            "value": table.c.value + statement.excluded.value,
        },
    )
    conn.execute(
        statement,
        [
            {"stall_id": stall_id, period: when, "receipts": count, "value": value}
            for (stall_id, when), (count, value) in sorted(deltas.items())
        ],
    )
