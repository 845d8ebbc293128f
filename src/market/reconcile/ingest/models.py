"""The notification journal: every authenticated delivery, raw and canonical, stored once, in arrival order.

The journal is written before the provider gets its 2xx (``market.reconcile.ingest.journal``) and read by the
matching driver in ``id`` order. ``status`` is where the driver takes over: ingest writes
``pending`` (to match), ``review`` (authentic but unusable as is: outgoing transfer, failed status)
or ``duplicate`` (the same bank credit already arrived through another provider, ``duplicate_of``
names the first copy; it must never be counted twice). Later states belong to the driver.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, Money, UTCDateTime
from market.reconcile.statuses import STATUS_DUPLICATE, STATUS_PENDING

__all__ = ["ORIGINAL_CREDIT", "JournalEntry"]

# The rows among which a bank credit (bank_reference, account_number) is unique: its first copy.
# A second copy through another provider is stored with status duplicate, outside this condition.
ORIGINAL_CREDIT = f"status <> '{STATUS_DUPLICATE}' AND account_number <> '' AND bank_reference <> ''"

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid); PostgreSQL gets a BIGINT identity.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class JournalEntry(Base):
    """One authenticated delivery: the canonical notification, how it was authenticated, and the raw request."""

    __tablename__ = "notification_journal"
    __table_args__ = (
        # The provider's idempotency key: a retry of the same notification is not a new row.
        sa.UniqueConstraint("provider", "provider_txn_id"),
        # One original per bank credit: a second copy through another provider cannot be stored as
        # one (the journal's INSERT skips it, then stores it as a duplicate of the first copy).
        sa.Index(
            "uq_notification_journal_bank_credit",
            "bank_reference",
            "account_number",
            unique=True,
            sqlite_where=sa.text(ORIGINAL_CREDIT),
            postgresql_where=sa.text(ORIGINAL_CREDIT),
        ),
        # The matching driver reads pending rows in arrival order.
        sa.Index(None, "status", "id"),
        sa.CheckConstraint("direction IN ('in', 'out')", name="direction"),
        sa.CheckConstraint("(amount > 0) = (direction = 'in') AND amount <> 0", name="amount_sign"),
    )

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(sa.String(16))
    provider_txn_id: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=STATUS_PENDING)
    review_reason: Mapped[str | None] = mapped_column(sa.Text)
    duplicate_of: Mapped[int | None] = mapped_column(_Id, sa.ForeignKey("notification_journal.id"))
    amount: Mapped[int] = mapped_column(Money)
    direction: Mapped[str] = mapped_column(sa.String(3))
    memo: Mapped[str] = mapped_column(sa.Text)
    transferred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    bank_reference: Mapped[str | None] = mapped_column(sa.Text)
    account_number: Mapped[str | None] = mapped_column(sa.Text)
    bank_bin: Mapped[str | None] = mapped_column(sa.Text)
    virtual_account: Mapped[str | None] = mapped_column(sa.Text)
    order_code: Mapped[str | None] = mapped_column(sa.Text)
    counterparty_name: Mapped[str | None] = mapped_column(sa.Text)
    counterparty_account: Mapped[str | None] = mapped_column(sa.Text)
    counterparty_bank: Mapped[str | None] = mapped_column(sa.Text)
    # How the delivery proved itself (``hmac-sha256``, ``apikey``, ``hmac-sha512:unicode``...).
    auth: Mapped[str] = mapped_column(sa.String(64))
    raw_body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # Only the headers that prove origin (``adapters.base.HEADERS_KEPT``); never credentials.
    raw_headers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
