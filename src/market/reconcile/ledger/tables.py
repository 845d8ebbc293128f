"""The ``sa.Table`` handles of the tables the ledger reads and writes, named ``*_table``.

The suffix keeps them apart from the modules of the same name (``ingest.journal``,
``ledger.intents``, ``ledger.receipts``) and from local variables holding rows.
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from market.reconcile.ingest.models import JournalEntry
from market.reconcile.ledger.models import MatchCheckpoint, PaymentIntent, Receipt, ReviewItem, StallDay, StallMonth

__all__ = [
    "checkpoint_table",
    "intents_table",
    "journal_table",
    "receipts_table",
    "review_items_table",
    "stall_days_table",
    "stall_months_table",
]

journal_table = cast(sa.Table, JournalEntry.__table__)
intents_table = cast(sa.Table, PaymentIntent.__table__)
receipts_table = cast(sa.Table, Receipt.__table__)
review_items_table = cast(sa.Table, ReviewItem.__table__)
stall_days_table = cast(sa.Table, StallDay.__table__)
stall_months_table = cast(sa.Table, StallMonth.__table__)
checkpoint_table = cast(sa.Table, MatchCheckpoint.__table__)
