"""The journal's statuses, declared once for ingest, the matching driver and the pages.

A journal row's ``status`` says who owns it now. Ingest writes one of three:

- ``pending``: to be matched;
- ``review``: authentic but not matchable as delivered (money out, a provider's failed status);
  the driver sends money out through the core (it may reverse a receipt) and the rest straight to
  the review queue;
- ``duplicate``: the same bank credit already arrived through another provider (``duplicate_of``);
  it is never counted twice and never reaches the core.

The driver moves ``pending`` and ``review`` rows on, in the same transaction that writes their
receipts, to one of ``matched``, ``unmatched`` (waiting in the review queue), ``repeat``,
``outgoing`` or ``not_ours``.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DRIVER_STATUSES",
    "INGEST_STATUSES",
    "MATCHED",
    "NOT_OURS",
    "OUTGOING",
    "REPEAT",
    "STATUS_DUPLICATE",
    "STATUS_PENDING",
    "STATUS_REVIEW",
    "UNMATCHED",
]

STATUS_PENDING: Final = "pending"
STATUS_REVIEW: Final = "review"
STATUS_DUPLICATE: Final = "duplicate"
INGEST_STATUSES: Final = (STATUS_PENDING, STATUS_REVIEW, STATUS_DUPLICATE)

MATCHED: Final = "matched"
UNMATCHED: Final = "unmatched"
REPEAT: Final = "repeat"
OUTGOING: Final = "outgoing"
NOT_OURS: Final = "not_ours"
DRIVER_STATUSES: Final = (MATCHED, UNMATCHED, REPEAT, OUTGOING, NOT_OURS)
