"""The core's :class:`Book`, built from the ledger: intents, accounts, reversible receipts, decisions.

The book holds every intent and every receipt that a refund may still reverse: the core has no
time window of its own, and a window here would make a replay (which sees all of history)
decide differently from the live driver. The driver decides when to rebuild it; between
rebuilds :meth:`BookLoader.add_new_intents` adds the intents issued since.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.merchants.store import accounts_table, stalls
from market.reconcile.ledger.manual_decisions import manual_of, resolved_query
from market.reconcile.ledger.tables import intents_table, journal_table, receipts_table
from market.reconcile.matching.book import Book, BookReceipt, Intent, ManualDecision, NotificationKey, VirtualAccount

__all__ = ["BookLoader", "Registry"]

# Intents committed out of id order (PostgreSQL) are still found by creation time, this far back.
_INTENT_OVERLAP = dt.timedelta(minutes=1)


class Registry:
    """Stall codes and intent codes by database id and back, for translating decisions to rows."""

    def __init__(self) -> None:
        self.stall_ids: dict[str, int] = {}
        self.intent_ids: dict[str, int] = {}

    def stall_id(self, conn: Connection, code: str) -> int:
        if code not in self.stall_ids:
            self.stall_ids.update({row.code: row.id for row in conn.execute(sa.select(stalls.c.id, stalls.c.code))})
        return self.stall_ids[code]

    def intent_id(self, code: str | None) -> int | None:
        return None if code is None else self.intent_ids[code]


class BookLoader:
    """Builds the book, and keeps the registry and the newest intent seen that go with it."""

    def __init__(self) -> None:
        self.registry = Registry()
        self._intents_since: dt.datetime | None = None
        self._intents_max_id = 0

    def load(self, conn: Connection) -> Book:
        """A new book from the ledger as ``conn`` sees it (the registry starts afresh too)."""
        self.registry = Registry()
        self._intents_since = None
        self._intents_max_id = 0
        self.registry.stall_ids = {row.code: row.id for row in conn.execute(sa.select(stalls.c.id, stalls.c.code))}
        accounts, virtual = _accounts(conn)
        book = Book(accounts=accounts, virtual_accounts=virtual, receipts=_reversible(conn), manual=_manual(conn))
        self._take_intents(book, conn.execute(_intent_query()))
        return book

    def add_new_intents(self, conn: Connection, book: Book) -> None:
        """Add to ``book`` the intents issued since it was loaded."""
        # Beyond the highest id seen, and by creation time with some overlap: on PostgreSQL
        # ids commit out of order, so a lower id may become visible after a higher one.
        newer = intents_table.c.id > self._intents_max_id
        if self._intents_since is not None:
            newer = sa.or_(newer, intents_table.c.created_at >= self._intents_since - _INTENT_OVERLAP)
        self._take_intents(book, conn.execute(_intent_query().where(newer)))

    def _take_intents(self, book: Book, rows: Iterable[Any]) -> None:
        for row in rows:
            if row.code in book.intents:
                continue
            self.registry.intent_ids[row.code] = row.id
            book.add_intent(
                Intent(
                    code=row.code, stall=row.stall, amount=row.amount, expires_at=row.expires_at, paid=row.paid_amount
                )
            )
            self._intents_max_id = max(self._intents_max_id, row.id)
            if self._intents_since is None or row.created_at > self._intents_since:
                self._intents_since = row.created_at


def _intent_query() -> sa.Select[Any]:
    i = intents_table.c
    return sa.select(
        i.id, i.code, stalls.c.code.label("stall"), i.amount, i.paid_amount, i.expires_at, i.created_at
    ).join(stalls, stalls.c.id == i.stall_id)


def _accounts(conn: Connection) -> tuple[dict[str, str], dict[str, VirtualAccount]]:
    """Every receiving account's stall, and the virtual accounts among them."""
    accounts: dict[str, str] = {}
    virtual: dict[str, VirtualAccount] = {}
    query = sa.select(accounts_table.c.account_number, accounts_table.c.kind, stalls.c.code).join(
        stalls, stalls.c.id == accounts_table.c.stall_id
    )
    for row in conn.execute(query):
        accounts[row.account_number] = row.code
        if row.kind == "virtual_account":
            virtual[row.account_number] = VirtualAccount(stall=row.code)
    return accounts, virtual


def _reversible(conn: Connection) -> list[BookReceipt]:
    """Receipts with a known payer that a refund may still take back (not fully reversed)."""
    r, j = receipts_table.c, journal_table.c
    query = (
        sa.select(
            j.provider,
            j.provider_txn_id,
            j.account_number,
            j.counterparty_account,
            j.transferred_at,
            stalls.c.code.label("stall"),
            intents_table.c.code.label("intent"),
            r.amount,
            r.refund_due,
            r.reversed_amount,
        )
        .select_from(receipts_table)
        .join(journal_table, j.id == r.journal_id)
        .join(stalls, stalls.c.id == r.stall_id)
        .outerjoin(intents_table, intents_table.c.id == r.intent_id)
        .where(r.amount > 0, r.reversed_amount < r.amount, j.counterparty_account.is_not(None))
        .order_by(r.journal_id)
    )
    return [
        BookReceipt(
            key=(row.provider, row.provider_txn_id),
            stall=row.stall,
            amount=row.amount,
            account_number=row.account_number,
            payer_account=row.counterparty_account,
            transferred_at=row.transferred_at,
            intent=row.intent,
            refund_due=row.refund_due,
            reversed=row.reversed_amount,
        )
        for row in conn.execute(query)
    ]


def _manual(conn: Connection) -> dict[NotificationKey, ManualDecision]:
    return {(row.provider, row.provider_txn_id): manual_of(row) for row in conn.execute(resolved_query())}
