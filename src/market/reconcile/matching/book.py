"""The open book the matching core reads: what we expect to be paid, and what we already applied.

The driver builds a :class:`Book` from the ledger (open and recently closed intents, the stalls'
accounts, the idempotency keys, the receipts that may still be reversed, the manual decisions),
hands it to :func:`market.reconcile.matching.core.match_batch` with one batch of notifications, writes the
result in one transaction, then calls :meth:`Book.apply` so the next batch sees this one.
The core only reads a book; :meth:`Book.apply` and :meth:`Book.add_intent` are the only writers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

import msgspec

if TYPE_CHECKING:
    from market.reconcile.matching.decisions import BatchResult

__all__ = [
    "Book",
    "BookReceipt",
    "Intent",
    "ManualDecision",
    "NotificationKey",
    "PayerIndex",
    "VirtualAccount",
    "intent_status",
]

NotificationKey = tuple[str, str]
"""``(provider, provider_txn_id)``: a notification's identity, the idempotency key."""

IntentStatus = Literal["open", "partial", "paid", "overpaid", "expired"]


class Intent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A sale's dynamic QR: the stall expects ``amount`` đồng carrying ``code`` before ``expires_at``.

    ``paid`` is every đồng credited to it so far, duplicates and excess included (like payOS's
    ``amountPaid``); a reversal takes its amount back off.
    """

    code: str
    stall: str
    amount: int
    expires_at: dt.datetime
    paid: int = 0


class VirtualAccount(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A virtual account number: a stall's own (``intent`` None) or one opened for one intent."""

    stall: str
    intent: str | None = None


class ManualDecision(msgspec.Struct, frozen=True, kw_only=True):
    """A person's resolution of a notification; automation never overrides it.

    Attributes:
        action: ``intent`` (credit this intent), ``stall`` (a sale of this stall), ``not_ours``.
        by / why: who decided and their reason (kept for the audit trail).
    """

    action: Literal["intent", "stall", "not_ours"]
    by: str
    why: str
    stall: str | None = None
    intent: str | None = None


class BookReceipt(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An applied incoming transfer whose payer we know, so a later refund to them can be tied to it."""

    key: NotificationKey
    stall: str
    amount: int
    account_number: str | None
    payer_account: str
    transferred_at: dt.datetime
    intent: str | None = None
    refund_due: int = 0
    reversed: int = 0


PayerIndex = dict[tuple[str | None, str], tuple[NotificationKey, ...]]
"""``(account_number, payer_account)`` → keys of that payer's receipts on that account, oldest first.

Tuples, not lists: a tuple of strings drops out of the garbage collector's sight, while one list per
payer would keep every full collection walking them all."""


def intent_status(intent: Intent, at: dt.datetime) -> IntentStatus:
    """Where an intent stands at ``at``: unpaid intents past their expiry are ``expired``."""
    if intent.paid > intent.amount:
        return "overpaid"
    if intent.paid == intent.amount:
        return "paid"
    if at > intent.expires_at:
        return "expired"
    return "partial" if intent.paid else "open"


class Book:
    """Indexes over the open book, built once and updated between batches.

    Args:
        intents: intents that may still receive money: open ones, and paid or expired ones recent
            enough that a duplicate or late payment should be recognised (the driver's window).
        accounts: receiving account number → stall (a stall's own account: its static QR).
        virtual_accounts: virtual account number → stall and, for per-order VAs, the intent.
        order_codes: a provider's order code (payOS ``orderCode``) → intent code.
        applied: keys of every notification already decided (any outcome).
        bank_references: ``(account_number, bank_reference)`` pairs already decided: the same credit
            reported by a second provider is a repeat, not new money.
        receipts: applied incoming transfers that a refund may still reverse.
        manual: manual decisions by notification key.
    """

    def __init__(
        self,
        *,
        intents: Iterable[Intent] = (),
        accounts: Mapping[str, str] | None = None,
        virtual_accounts: Mapping[str, VirtualAccount] | None = None,
        order_codes: Mapping[str, str] | None = None,
        applied: Iterable[NotificationKey] = (),
        bank_references: Iterable[tuple[str | None, str]] = (),
        receipts: Iterable[BookReceipt] = (),
        manual: Mapping[NotificationKey, ManualDecision] | None = None,
    ) -> None:
        self.intents: dict[str, Intent] = {}
        # (stall, amount) → codes: the fuzzy step's cheap gate ("amount matches", "open for that stall").
        self.stall_amounts: dict[tuple[str, int], list[str]] = {}
        self.accounts: dict[str, str] = dict(accounts or {})
        self.virtual_accounts: dict[str, VirtualAccount] = dict(virtual_accounts or {})
        self.order_codes: dict[str, str] = dict(order_codes or {})
        self.applied: set[NotificationKey] = set(applied)
        # The bank references already decided, keyed by the reference string alone: its hash is
        # computed once and cached, while an (account, reference) tuple is hashed anew at every
        # lookup (that cost 15 % of the core). A reference maps to the account it was first seen on;
        # the rare same reference on another account (two banks' numbering may meet) is kept as a
        # pair in ``other_references``.
        self.bank_references: dict[str, str | None] = {}
        self.other_references: set[tuple[str | None, str]] = set()
        for account, reference in bank_references:
            if reference not in self.bank_references:
                self.bank_references[reference] = account
            elif self.bank_references[reference] != account:
                self.other_references.add((account, reference))
        self.receipts: dict[NotificationKey, BookReceipt] = {}
        # (account_number, payer_account) → receipt keys, for tying refunds to receipts. Each batch
        # indexes the receipts it creates as it goes; apply() takes that index over (see there).
        self._by_payer: PayerIndex = {}
        self.manual: dict[NotificationKey, ManualDecision] = dict(manual or {})
        for intent in intents:
            self.add_intent(intent)
        for receipt in receipts:
            if receipt.key not in self.receipts:
                pair = (receipt.account_number, receipt.payer_account)
                self._by_payer[pair] = self._by_payer.get(pair, ()) + (receipt.key,)  # noqa: RUF005
            self.receipts[receipt.key] = receipt

    def add_intent(self, intent: Intent) -> None:
        """Register a new intent (or replace one with the same code)."""
        if intent.code not in self.intents:
            self.stall_amounts.setdefault((intent.stall, intent.amount), []).append(intent.code)
        self.intents[intent.code] = intent

    def payer_receipt_keys(self, pair: tuple[str | None, str]) -> tuple[NotificationKey, ...]:
        """Keys of the receipts of one ``(account_number, payer_account)`` (what a refund may reverse)."""
        return self._by_payer.get(pair, ())

    def apply(self, result: BatchResult) -> None:
        """Fold one batch's result into the book, after the driver has committed it."""
        # Every key of the batch, repeats of a bank credit included: a second copy of a repeat is then a
        # repeat for the same reason whichever batch it falls in (replay must not depend on batch
        # boundaries). Set to set, so the stored hashes are reused.
        self.applied |= result.keys
        self.intents.update(result.intents)
        self.bank_references.update(result.bank_references)
        self.other_references |= result.other_references
        self.receipts.update(result.receipts)
        # The batch indexed its new receipts by payer. Most payers are new to the book, so its index
        # goes in with one C-level update; only a payer seen before needs its keys joined first.
        index, new = self._by_payer, result.by_payer
        joined = {pair: index[pair] + new[pair] for pair in new.keys() & index.keys()}
        index.update(new)
        index.update(joined)
        self.manual.update(result.manual)
