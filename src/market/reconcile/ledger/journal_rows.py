"""Journal rows as the matching core sees them: which rows are still to match, and their notification."""

from __future__ import annotations

from typing import Any

from market.reconcile.ledger.tables import journal_table
from market.reconcile.notification import Notification
from market.reconcile.statuses import STATUS_PENDING, STATUS_REVIEW

__all__ = ["NOTIFICATION_COLUMNS", "TO_MATCH", "notification_of"]

TO_MATCH = (STATUS_PENDING, STATUS_REVIEW)
"""Ingest's statuses: a row still in one of them has not been matched yet."""

NOTIFICATION_COLUMNS = (
    journal_table.c.id,
    journal_table.c.status,
    journal_table.c.review_reason,
    journal_table.c.provider,
    journal_table.c.provider_txn_id,
    journal_table.c.amount,
    journal_table.c.direction,
    journal_table.c.memo,
    journal_table.c.transferred_at,
    journal_table.c.received_at,
    journal_table.c.bank_reference,
    journal_table.c.account_number,
    journal_table.c.bank_bin,
    journal_table.c.virtual_account,
    journal_table.c.order_code,
    journal_table.c.counterparty_name,
    journal_table.c.counterparty_account,
    journal_table.c.counterparty_bank,
)
"""The journal columns :func:`notification_of` needs, with the row's id, status and review reason."""


def notification_of(row: Any) -> Notification:
    """The canonical notification of a journal row (any row with the journal's columns)."""
    return Notification(
        provider=row.provider,
        provider_txn_id=row.provider_txn_id,
        amount=row.amount,
        direction=row.direction,
        memo=row.memo,
        transferred_at=row.transferred_at,
        received_at=row.received_at,
        bank_reference=row.bank_reference,
        account_number=row.account_number,
        bank_bin=row.bank_bin,
        virtual_account=row.virtual_account,
        order_code=row.order_code,
        counterparty_name=row.counterparty_name,
        counterparty_account=row.counterparty_account,
        counterparty_bank=row.counterparty_bank,
    )
