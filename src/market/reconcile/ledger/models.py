"""The ledger: what matching made of the journal, and what adoption counts.

- ``PaymentIntent``: a sale's dynamic QR (a reference code, an amount, an expiry).
- ``Receipt``: one journal entry attributed to one stall (and maybe one intent). A notification
  is applied at most once: ``journal_id`` is unique. Reversals are receipts too, with a negative
  amount, pointing at the receipt they reverse.
- ``ReviewItem``: a journal entry automation would not attribute, with suggestions; a person's
  decision on it is kept here and replay honours it (automation never overrides a manual one).
- ``StallDay``: per stall, per local day, the count and value of cashless receipts that still
  count (not reversed). The matching driver maintains it in the same transaction as the
  receipts, so adoption figures over millions of receipts read a small table.
- ``StallMonth``: the same per stall and calendar month, kept by the driver next to ``StallDay``
  with the same deltas: the 12-month trend reads ~12 rows per stall instead of ~365.
- ``MatchCheckpoint``: the last journal id the driver has applied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, Money, UTCDateTime, utcnow

__all__ = [
    "INTENT_STATES",
    "RECEIPT_KINDS",
    "MatchCheckpoint",
    "PaymentIntent",
    "Receipt",
    "ReviewItem",
    "StallDay",
    "StallMonth",
]

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

INTENT_STATES = ("open", "partial", "paid", "overpaid", "expired", "cancelled")
# How a receipt relates to what was expected (the core's outcome); every kind but ``reversal`` is a cashless sale.
RECEIPT_KINDS = ("sale", "paid", "partial", "overpaid", "duplicate", "late", "reversal")


class PaymentIntent(Base):
    """A dynamic QR for one sale: pay ``amount`` with ``code`` first in the transfer content."""

    __tablename__ = "payment_intents"
    __table_args__ = (
        sa.Index(None, "stall_id", "state"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    stall_id: Mapped[int] = mapped_column(sa.ForeignKey("stalls.id"))
    amount: Mapped[int] = mapped_column(Money)
    paid_amount: Mapped[int] = mapped_column(Money, default=0)
    state: Mapped[str] = mapped_column(sa.String(12), default="open")
    note: Mapped[str | None] = mapped_column(sa.Text)
    payload: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Receipt(Base):
    """One journal entry applied to one stall: the unit adoption counts."""

    __tablename__ = "receipts"
    __table_args__ = (
        sa.Index(None, "stall_id", "local_day"),
        sa.Index(None, "intent_id"),
        sa.Index(None, "local_day"),
    )

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    journal_id: Mapped[int] = mapped_column(_Id, sa.ForeignKey("notification_journal.id"), unique=True)
    stall_id: Mapped[int] = mapped_column(sa.ForeignKey("stalls.id"))
    intent_id: Mapped[int | None] = mapped_column(_Id, sa.ForeignKey("payment_intents.id"))
    # Signed đồng: a reversal is negative.
    amount: Mapped[int] = mapped_column(Money)
    kind: Mapped[str] = mapped_column(sa.String(12))
    # Which rule attributed it: virtual_account, order_code, code, static, fuzzy or manual.
    rule: Mapped[str] = mapped_column(sa.String(16))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The Asia/Ho_Chi_Minh calendar day of ``occurred_at``: "a day's sales" as the market means it.
    local_day: Mapped[dt.date] = mapped_column(sa.Date)
    reverses_id: Mapped[int | None] = mapped_column(_Id, sa.ForeignKey("receipts.id"))
    # Set on a sale once a reversal cancels it; it then no longer counts.
    is_reversed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Flags a person should look at: a duplicate to refund, a late payment, an overpayment.
    flag: Mapped[str | None] = mapped_column(sa.String(24))
    # Đồng still owed back to the payer (duplicate: all of it; overpaid: the excess), and đồng
    # already taken back by reversals: the book needs both to tie a later refund to this receipt.
    refund_due: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    reversed_amount: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewItem(Base):
    """A journal entry waiting for a person, and that person's decision once made."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    journal_id: Mapped[int] = mapped_column(_Id, sa.ForeignKey("notification_journal.id"), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    # Ranked candidates: [{"stall": "A-12", "intent": "QT7K…", "score": 0.9, "why": "…"}, …]
    suggestions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The manual decision: assign to a stall / an intent, or "not_ours".
    resolution: Mapped[str | None] = mapped_column(sa.String(12))
    resolved_stall_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stalls.id"))
    resolved_intent_id: Mapped[int | None] = mapped_column(_Id, sa.ForeignKey("payment_intents.id"))
    resolved_by: Mapped[str | None] = mapped_column(sa.String(64))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)


class StallDay(Base):
    """Cashless receipts that count, per stall and local day (maintained with the receipts)."""

    __tablename__ = "stall_days"
    # Covering: a scan of a window of days reads the index alone, never the table (migration 0007).
    __table_args__ = (sa.Index(None, "day", "stall_id", "receipts", "value"),)

    stall_id: Mapped[int] = mapped_column(sa.ForeignKey("stalls.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    receipts: Mapped[int] = mapped_column(sa.Integer, default=0)
    value: Mapped[int] = mapped_column(Money, default=0)


class StallMonth(Base):
    """``StallDay`` summed per calendar month; ``month`` is the month's first day.

    A day's ``receipts`` never go below zero (a reversal takes back a sale it counted), so a
    month's are above zero exactly when one of its days' are.
    """

    __tablename__ = "stall_months"

    stall_id: Mapped[int] = mapped_column(sa.ForeignKey("stalls.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    receipts: Mapped[int] = mapped_column(sa.Integer, default=0)
    value: Mapped[int] = mapped_column(Money, default=0)


class MatchCheckpoint(Base):
    """The matching driver's position in the journal (one row)."""

    __tablename__ = "match_checkpoint"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    last_journal_id: Mapped[int] = mapped_column(_Id, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
