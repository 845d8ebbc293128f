"""People's decisions on review items, as the ledger reads them back.

A decision is stored on its review item (``resolution``, who, why, the stall or intent chosen).
The review queue shows it; the driver hands it to the core as a :class:`ManualDecision`, both
while it is still to apply (the journal row is still ``unmatched``) and on every book rebuild or
replay, so automation never overrides it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from market.merchants.store import stalls
from market.reconcile.ledger.journal_rows import NOTIFICATION_COLUMNS
from market.reconcile.ledger.tables import intents_table, journal_table, review_items_table
from market.reconcile.matching.book import ManualDecision
from market.reconcile.statuses import UNMATCHED

__all__ = ["decided_items_query", "manual_of", "resolved_query", "unapplied_query"]


def decided_items_query(*columns: Any) -> sa.Select[Any]:
    """Review items with their journal row, selecting ``columns`` and the decision (if any).

    The decision's columns are ``resolution``, ``resolved_by``, ``resolution_note``, and the
    codes ``resolved_stall`` and ``resolved_intent``.
    """
    r = review_items_table.c
    stall = stalls.alias("resolved_stall_row")
    intent = intents_table.alias("resolved_intent_row")
    return (
        sa.select(
            *columns,
            r.resolution,
            r.resolved_by,
            r.resolution_note,
            stall.c.code.label("resolved_stall"),
            intent.c.code.label("resolved_intent"),
        )
        .select_from(review_items_table)
        .join(journal_table, journal_table.c.id == r.journal_id)
        .outerjoin(stall, stall.c.id == r.resolved_stall_id)
        .outerjoin(intent, intent.c.id == r.resolved_intent_id)
    )


def resolved_query() -> sa.Select[Any]:
    """Every decided item, with its notification's columns and the item's id as ``item_id``."""
    r = review_items_table.c
    return decided_items_query(*NOTIFICATION_COLUMNS, r.id.label("item_id")).where(r.resolution.is_not(None))


def unapplied_query() -> sa.Select[Any]:
    """Decided items the driver has not written to the ledger yet (the row is still ``unmatched``)."""
    return resolved_query().where(journal_table.c.status == UNMATCHED)


def manual_of(row: Any) -> ManualDecision:
    """The manual decision stored on a resolved review item (a row of :func:`resolved_query`)."""
    return ManualDecision(
        action=row.resolution,
        by=row.resolved_by or "",
        why=row.resolution_note or "",
        stall=row.resolved_stall,
        intent=row.resolved_intent,
    )
