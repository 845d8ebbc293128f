"""What the matching core decides about each notification, and what a batch changes in the book."""

from __future__ import annotations

from typing import Literal

import msgspec

from market.reconcile.matching.book import BookReceipt, Intent, ManualDecision, NotificationKey, PayerIndex

__all__ = [
    "ATTRIBUTED",
    "BatchResult",
    "Decision",
    "Outcome",
    "Rule",
    "Suggestion",
]

Outcome = Literal[
    "sale",  # a stall's sale with no intent (static QR)
    "paid",  # settles its intent exactly
    "partial",  # one of several transfers settling an intent
    "overpaid",  # settles its intent with money left over: refund_due is the excess
    "duplicate",  # paid again an intent already paid: refund_due is the whole transfer
    "late",  # for an intent past its expiry: still the stall's money, flagged
    "reversal",  # money out that takes back an earlier receipt
    "review",  # no safe attribution: waits for a person
    "repeat",  # this notification (or the same bank credit via another provider) was already decided
    "outgoing",  # money out that reverses nothing of ours (the stall holder's own spending)
    "not_ours",  # a person said this money is not the market's business
]

ATTRIBUTED: frozenset[str] = frozenset({"sale", "paid", "partial", "overpaid", "duplicate", "late", "reversal"})
"""Outcomes that move money in or out of a stall's takings (``Decision.stall`` is set)."""

Rule = Literal["manual", "virtual_account", "order_code", "code", "static", "fuzzy", "reversal", "none"]


class Suggestion(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A ranked guess offered to the person resolving a review item; higher ``score`` first."""

    stall: str
    score: int
    why: str
    """A suggestion ground of :mod:`market.reconcile.reasons` (``code_owner``, ``one_edit_amount``...)."""
    intent: str | None = None
    receipt: NotificationKey | None = None


class Decision(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The core's verdict on one notification.

    Attributes:
        key: the notification's ``(provider, provider_txn_id)``.
        outcome: see :data:`Outcome`; exactly one per notification.
        rule: which rule decided (``none`` for repeats, outgoing and review without a rule).
        amount: the notification's signed amount, so sums can be checked without it.
        stall: the stall credited (or debited, for a reversal); None in review, repeat, outgoing, not_ours.
        intent: the intent credited or debited, if any.
        refund_due: đồng to hand back to the payer (duplicate: all of it; overpaid: the excess).
        reverses: for a reversal, the receipt it takes back.
        reason: why it is in review (a :data:`market.reconcile.reasons.ReviewReason`), or why a repeat
            is a repeat (codes of :mod:`market.reconcile.reasons`).
        suggestions: for review, the ranked guesses.
    """

    key: NotificationKey
    outcome: Outcome
    rule: Rule
    amount: int
    stall: str | None = None
    intent: str | None = None
    refund_due: int = 0
    reverses: NotificationKey | None = None
    reason: str | None = None
    suggestions: tuple[Suggestion, ...] = ()


class BatchResult(msgspec.Struct, kw_only=True, gc=False):
    """Everything one batch decided and changed; :meth:`market.reconcile.matching.book.Book.apply` folds it in.

    Attributes:
        decisions: one per input notification, in input order.
        intents: the new state of every intent the batch credited or debited.
        receipts: receipts created (payer known) or changed by a reversal.
        bank_references: bank reference → receiving account, for the references first seen here.
        other_references: ``(account_number, bank_reference)`` of a reference first seen here on a
            second account (see :class:`~market.reconcile.matching.book.Book`).
        manual: manual decisions applied by :func:`market.reconcile.matching.core.apply_manual`.
        by_payer: ``(account_number, payer_account)`` → keys of the receipts created here, in order.
        keys: the keys the book must learn: every notification the batch decided first (a bank
            credit's repeat through another provider included; a retry's key is known already).
    """

    decisions: list[Decision]
    intents: dict[str, Intent]
    receipts: dict[NotificationKey, BookReceipt]
    bank_references: dict[str, str | None]
    manual: dict[NotificationKey, ManualDecision] = msgspec.field(default_factory=dict)
    by_payer: PayerIndex = msgspec.field(default_factory=dict)
    keys: set[NotificationKey] = msgspec.field(default_factory=set)
    other_references: set[tuple[str | None, str]] = msgspec.field(default_factory=set)
