"""Why a notification waits for a person, why it repeats, and why a guess is offered: the codes, once.

Stored in ``review_items.reason`` and ``journal.review_reason`` and returned by the API as they
are; the words people read for each code are the web catalogue's (``market.web.i18n``).

- Review reasons (:data:`ReviewReason`): the matching core's, and :data:`PROVIDER_STATUS` for a
  delivery the provider itself reported as failed.
- :data:`OUTGOING_TRANSFER`: the ingest adapters' review reason for money out of an account.
- Repeat reasons: why a repeat is a repeat.
- Suggestion grounds: why a ranked guess is offered.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "ACCOUNT_OWNER",
    "AMBIGUOUS_CODE",
    "AMBIGUOUS_REVERSAL",
    "CODE_OWNER",
    "MANUAL_TARGET_MISSING",
    "ONE_EDIT",
    "ONE_EDIT_AMOUNT",
    "OUTGOING_TRANSFER",
    "PAYER_HISTORY",
    "PROVIDER_STATUS",
    "RECEIPT",
    "REVIEW_REASONS",
    "SAME_BANK_REFERENCE",
    "SAME_NOTIFICATION",
    "SEVERAL_CODES",
    "STALL_CONFLICT",
    "UNKNOWN_ACCOUNT",
    "ReviewReason",
]

ReviewReason = Literal[
    "unknown_account",
    "stall_conflict",
    "ambiguous_code",
    "several_codes",
    "ambiguous_reversal",
    "manual_target_missing",
]
UNKNOWN_ACCOUNT: Final = "unknown_account"
"""Money into no stall's account, and no code in the memo."""
STALL_CONFLICT: Final = "stall_conflict"
"""The memo's code belongs to another stall than the receiving account."""
AMBIGUOUS_CODE: Final = "ambiguous_code"
"""A mistyped code one edit away from several open intents."""
SEVERAL_CODES: Final = "several_codes"
"""Several codes in one transfer."""
AMBIGUOUS_REVERSAL: Final = "ambiguous_reversal"
"""Money out that could take back several receipts."""
MANUAL_TARGET_MISSING: Final = "manual_target_missing"
"""A person's decision names an intent that no longer exists."""
REVIEW_REASONS: Final[tuple[ReviewReason, ...]] = (
    UNKNOWN_ACCOUNT,
    STALL_CONFLICT,
    AMBIGUOUS_CODE,
    SEVERAL_CODES,
    AMBIGUOUS_REVERSAL,
    MANUAL_TARGET_MISSING,
)

PROVIDER_STATUS: Final = "provider_status"
"""Review reason of a delivery the provider itself reported as failed (not matched, shown as is)."""
OUTGOING_TRANSFER: Final = "outgoing transfer"
"""Ingest's review reason for money out of an account (the driver sends it through the core)."""

SAME_NOTIFICATION: Final = "same_notification"
"""Repeat: this notification was already decided."""
SAME_BANK_REFERENCE: Final = "same_bank_reference"
"""Repeat: the same bank credit, reported through another provider."""

CODE_OWNER: Final = "code_owner"
ACCOUNT_OWNER: Final = "account_owner"
ONE_EDIT: Final = "one_edit"
ONE_EDIT_AMOUNT: Final = "one_edit_amount"
RECEIPT: Final = "receipt"
PAYER_HISTORY: Final = "payer_history"
