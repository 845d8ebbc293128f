"""The matching core: a pure function from (book, batch of notifications) to decisions.

No I/O, no clock, no randomness: the same book and the same notifications give the same
decisions, whatever the order of the book's dicts, and however the journal is cut into batches
(each batch sees what the previous ones did through :meth:`Book.apply`). The book is only read;
everything a batch changes is returned in a :class:`BatchResult`, which the driver writes in one
transaction before folding it into the book.

Rules, in order, for money in:

0. Idempotency: a notification key already decided, or a bank credit already reported by another
   provider (same account and bank reference), is a ``repeat`` and changes nothing — also when
   both copies are in the same batch. A manual decision for the key wins over every rule below.
1. Structural keys: a per-intent virtual account, then the provider's order code.
2. The exact code: a ``P`` window of the compacted memo that is a code we issued. Two different
   codes in one transfer go to review (we do not split one transfer across intents).
3. Static attribution: money into a stall's own account (or its virtual account) is that stall's
   sale…
4. …unless the guarded fuzzy step ties it to an intent: a valid code one edit away from the memo,
   open, of that stall, whose remaining amount is exactly this transfer — and only if exactly one
   such intent exists. Several candidates go to review; none leaves the static sale. Levenshtein
   percentages over the whole memo are never used (Blnk's false positives: ``payment-12345`` ≈
   ``payment-12399``).
5. Anything else (no stall, no code) goes to review; the queue ranks intents one edit away from its
   memo when a person reads it (``market.reconcile.ledger.review_queue``).

A code whose intent belongs to another stall than the receiving account goes to review: the
money is physically in the account owner's bank, the code says otherwise, a person decides.

Speed (``benchmarks/bench_matching.py``): the memos of a batch are scanned together, by a C kernel
when it is built (:func:`memo.scan_batch`, ``_speedups.c``); the two shapes that make up most of a
market's traffic — a static-QR sale without any code-looking text, and one exact code — are decided
inline in the batch loop, with the same result as the general path; the fuzzy step intersects its
candidates (also from C) with the book's codes in one call; receipts are indexed by payer as they are
made, and the book takes that index over in one update. What is left per notification is object
work (a key tuple, a Decision, a BookReceipt, a few hash insertions): a C version of the whole loop was
measured no faster.

Money out is a ``reversal`` when it ties to exactly one earlier receipt of the same account and
the same payer (preferring the receipt whose refund is due, then the one of the same amount);
ambiguous ties go to review, and money out that ties to nothing is the stall holder's ``outgoing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

import msgspec

from market.reconcile.matching import memo
from market.reconcile.matching.book import Book, BookReceipt, Intent, ManualDecision, NotificationKey, PayerIndex
from market.reconcile.matching.decisions import BatchResult, Decision, Outcome, Rule, Suggestion
from market.reconcile.notification import Notification
from market.reconcile.reasons import (
    ACCOUNT_OWNER,
    AMBIGUOUS_CODE,
    AMBIGUOUS_REVERSAL,
    CODE_OWNER,
    MANUAL_TARGET_MISSING,
    ONE_EDIT_AMOUNT,
    RECEIPT,
    SAME_BANK_REFERENCE,
    SAME_NOTIFICATION,
    SEVERAL_CODES,
    STALL_CONFLICT,
    UNKNOWN_ACCOUNT,
)

__all__ = ["apply_manual", "match_batch"]

_replace = msgspec.structs.replace

FAST_PATHS = True
"""Decide the two common shapes inline (static sale, one exact code); False sends every notification
through the rules one by one. Both give the same result (tests/matching/test_matching_properties.py)."""
_memo_of = attrgetter("memo")
_UNSEEN = object()


def match_batch(book: Book, notifications: Sequence[Notification]) -> BatchResult:
    """Decide every notification of one batch, in order, against ``book`` (which is not modified).

    Args:
        book: the open book as of the end of the previous batch.
        notifications: the batch, in journal order.

    Returns:
        One decision per notification (same order) and the changes to fold into the book.
    """
    return _Batch(book).run(notifications)


def apply_manual(book: Book, notification: Notification, manual: ManualDecision) -> BatchResult:
    """Apply a person's decision to a notification that was already decided (usually in review).

    The driver writes the returned decision in place of the earlier one, stores ``manual`` so a
    replay reproduces it, and folds the result into the book. Manual decisions bypass the rules,
    including the stall-conflict check: the person has looked. The earlier decision's effects are
    not undone here: that is exact for review items (they moved no money). To re-assign a receipt
    already credited to an intent, the driver replays the journal with the manual decision stored
    (replay is deterministic, so only the decisions it touches change).
    """
    batch = _Batch(book)
    key = (notification.provider, notification.provider_txn_id)
    batch.seen.add(key)
    batch.decisions.append(batch.manual(notification, key, manual))
    result = batch.result()
    result.manual[key] = manual
    return result


class _Batch:
    """One batch's working state: the book underneath, this batch's changes on top."""

    __slots__ = (
        "bank_references",
        "book",
        "by_payer",
        "decisions",
        "intents",
        "other_references",
        "receipts",
        "seen",
    )

    def __init__(self, book: Book) -> None:
        self.book = book
        self.intents: dict[str, Intent] = {}
        self.receipts: dict[NotificationKey, BookReceipt] = {}
        # (account_number, payer_account) → keys of this batch's new receipts, in order: a refund ties
        # to them, and the book takes the index over as it is (Book.apply).
        self.by_payer: PayerIndex = {}
        # Bank references first seen in this batch, as in Book.bank_references / other_references.
        self.bank_references: dict[str, str | None] = {}
        self.other_references: set[tuple[str | None, str]] = set()
        self.seen: set[NotificationKey] = set()
        self.decisions: list[Decision] = []

    def result(self) -> BatchResult:
        return BatchResult(
            decisions=self.decisions,
            intents=self.intents,
            receipts=self.receipts,
            bank_references=self.bank_references,
            by_payer=self.by_payer,
            keys=self.seen,
            other_references=self.other_references,
        )

    def run(self, notifications: Sequence[Notification]) -> BatchResult:
        # The hot loop: locals for everything it touches on every notification (a global or attribute
        # lookup costs as much as the dict lookup that does the work).
        book = self.book
        applied, seen, manual = book.applied, self.seen, book.manual
        known_references, references = book.bank_references, self.bank_references
        account_stall, receipts = book.accounts.get, self.receipts
        append, money_in, money_out = self.decisions.append, self.money_in, self.money_out
        decision_of, receipt_of, settle = Decision, BookReceipt, self.settle
        changed_intent, issued_intent, without_code = self.intents.get, book.intents.get, self.without_code
        changed, replace, by_payer, fast = self.intents, _replace, self.by_payer, FAST_PATHS
        scans = memo.scan_batch(list(map(_memo_of, notifications)))
        for notification, windows in zip(notifications, scans, strict=True):
            key = (notification.provider, notification.provider_txn_id)
            if key in applied or key in seen:
                append(_repeat(key, notification.amount, SAME_NOTIFICATION))
                continue
            seen.add(key)
            reference = notification.bank_reference
            if reference is not None:
                if reference in known_references or reference in references:
                    if self.seen_reference(notification.account_number, reference):
                        append(_repeat(key, notification.amount, SAME_BANK_REFERENCE))
                        continue
                else:
                    references[reference] = notification.account_number
            if manual and key in manual:
                append(self.manual(notification, key, manual[key]))
                continue
            amount = notification.amount
            if amount <= 0:
                append(money_out(notification, key))
                continue
            # Fast path, about half of a market's traffic: a static-QR sale. No structural key and no
            # code-shaped text in the memo (``windows is None``) leave rules 1, 2 and 4 nothing to
            # find, so the receiving account alone decides (rule 3) — what money_in would conclude.
            if fast and windows is None and notification.virtual_account is None and notification.order_code is None:
                stall = account_stall(notification.account_number)  # type: ignore[arg-type]  # None finds none
                if stall is not None:
                    append(decision_of(key=key, outcome="sale", rule="static", amount=amount, stall=stall))
                    payer = notification.counterparty_account
                    if payer is not None:
                        account = notification.account_number
                        receipts[key] = receipt_of(
                            key=key,
                            stall=stall,
                            amount=amount,
                            account_number=account,
                            payer_account=payer,
                            transferred_at=notification.transferred_at,
                        )
                        pair = (account, payer)
                        by_payer[pair] = by_payer.get(pair, ()) + (key,)  # noqa: RUF005 (faster than unpacking)
                    continue
            # Fast path, about 40 %: one code-shaped window and no structural key. Rule 2 decides
            # when the window is a code we issued, exactly as money_in would (via ``known``).
            elif (
                fast
                and windows
                and len(windows) == 1
                and notification.virtual_account is None
                and notification.order_code is None
            ):
                code = windows[0]
                intent = changed_intent(code) or issued_intent(code)
                stall = account_stall(notification.account_number)  # type: ignore[arg-type]
                if intent is None:
                    append(without_code(notification, key, windows, stall))
                    continue
                owner = intent.stall
                if stall is not None and stall != owner:
                    append(settle(notification, key, intent, "code", stall))  # the conflict goes to review
                    continue
                # ``settle`` inlined (same classification): this is 40 % of the traffic.
                before, target = intent.paid, intent.amount
                after = before + amount
                if before >= target:
                    outcome, refund_due = "duplicate", amount
                else:
                    refund_due = after - target if after > target else 0
                    if notification.transferred_at > intent.expires_at:
                        outcome = "late"
                    elif after > target:
                        outcome = "overpaid"
                    else:
                        outcome = "paid" if after == target else "partial"
                changed[code] = replace(intent, paid=after)
                append(
                    decision_of(
                        key=key,
                        outcome=outcome,  # type: ignore[arg-type]  # one of the Outcome literals above
                        rule="code",
                        amount=amount,
                        stall=owner,
                        intent=code,
                        refund_due=refund_due,
                    )
                )
                payer = notification.counterparty_account
                if payer is not None:
                    account = notification.account_number
                    receipts[key] = receipt_of(
                        key=key,
                        stall=owner,
                        amount=amount,
                        account_number=account,
                        payer_account=payer,
                        transferred_at=notification.transferred_at,
                        intent=code,
                        refund_due=refund_due,
                    )
                    pair = (account, payer)
                    by_payer[pair] = by_payer.get(pair, ()) + (key,)  # noqa: RUF005 (faster than unpacking)
                continue
            append(money_in(notification, key, windows))
        return self.result()

    def seen_reference(self, account: str | None, reference: str) -> bool:
        """Whether ``(account, reference)`` was decided already; if not, remember it (``reference``
        is known, but perhaps from another account)."""
        first = self.bank_references.get(reference, _UNSEEN)
        if first is _UNSEEN:
            first = self.book.bank_references[reference]
        pair = (account, reference)
        if first == account or pair in self.book.other_references or pair in self.other_references:
            return True
        self.other_references.add(pair)
        return False

    def intent(self, code: str) -> Intent | None:
        return self.intents.get(code) or self.book.intents.get(code)

    # Money in ------------------------------------------------------------------------------------

    def money_in(self, notification: Notification, key: NotificationKey, windows: tuple[str, ...] | None) -> Decision:
        """Rules 1–5 for money in; ``windows`` is what :func:`memo.scan` found in its memo."""
        book = self.book
        stall = None
        if notification.virtual_account is not None:
            target = book.virtual_accounts.get(notification.virtual_account)
            if target is not None:
                stall = target.stall
                intent = self.intent(target.intent) if target.intent is not None else None
                if intent is not None:
                    return self.settle(notification, key, intent, "virtual_account", stall)
        if stall is None and notification.account_number is not None:
            stall = book.accounts.get(notification.account_number)
        if notification.order_code is not None:
            code = book.order_codes.get(notification.order_code)
            intent = self.intent(code) if code is not None else None
            if intent is not None:
                return self.settle(notification, key, intent, "order_code", stall)
        if windows:
            intents = self.known(windows)
            if len(intents) == 1:
                return self.settle(notification, key, intents[0], "code", stall)
            if intents:
                return _review(key, notification.amount, SEVERAL_CODES, _code_owners(intents))
        return self.without_code(notification, key, windows, stall)

    def without_code(
        self, notification: Notification, key: NotificationKey, windows: tuple[str, ...] | None, stall: str | None
    ) -> Decision:
        """Rules 3–5, once no structural key and no exact code decided."""
        if stall is None:
            # The review queue ranks intents one edit away when a person reads it (review._near_codes),
            # against the intents as they stand then: not worked out here for every such transfer.
            return _review(key, notification.amount, UNKNOWN_ACCOUNT, ())
        if windows is not None and (stall, notification.amount) in self.book.stall_amounts:
            fuzzy = self.fuzzy(notification, key, stall)
            if fuzzy is not None:
                return fuzzy
        decision = Decision(key=key, outcome="sale", rule="static", amount=notification.amount, stall=stall)
        if notification.counterparty_account is not None:
            self.keep_receipt(notification, decision, stall)
        return decision

    def known(self, windows: Sequence[str]) -> list[Intent]:
        """The distinct issued codes among the memo's windows, in memo order."""
        found: list[Intent] = []
        for window in windows:
            intent = self.intent(window)
            if intent is not None and intent not in found:
                found.append(intent)
        return found

    def settle(
        self, notification: Notification, key: NotificationKey, intent: Intent, rule: Rule, stall: str | None
    ) -> Decision:
        """Credit ``intent`` with this transfer and classify the payment."""
        amount = notification.amount
        if stall is not None and stall != intent.stall and rule != "manual":
            suggestions = (
                Suggestion(stall=stall, score=60, why=ACCOUNT_OWNER),
                Suggestion(stall=intent.stall, intent=intent.code, score=50, why=CODE_OWNER),
            )
            return _review(key, amount, STALL_CONFLICT, suggestions)
        before, target = intent.paid, intent.amount
        after = before + amount
        outcome: Outcome
        if before >= target:
            outcome, refund_due = "duplicate", amount
        else:
            refund_due = after - target if after > target else 0
            if notification.transferred_at > intent.expires_at:
                outcome = "late"
            elif after > target:
                outcome = "overpaid"
            else:
                outcome = "paid" if after == target else "partial"
        self.intents[intent.code] = _replace(intent, paid=after)
        decision = Decision(
            key=key,
            outcome=outcome,
            rule=rule,
            amount=amount,
            stall=intent.stall,
            intent=intent.code,
            refund_due=refund_due,
        )
        if notification.counterparty_account is not None:
            self.keep_receipt(notification, decision, intent.stall)
        return decision

    def fuzzy(self, notification: Notification, key: NotificationKey, stall: str) -> Decision | None:
        """The guarded fuzzy step: exactly one open intent of ``stall``, one edit away, same amount."""
        # A dozen or more candidates per memo, rarely more than one issued: intersect with the book's
        # codes in C first (the batch only holds newer states of the book's intents), then take the
        # batch's state of each if it has one.
        changed, issued = self.intents, self.book.intents
        found = {
            code: intent
            for code in sorted(issued.keys() & memo.near_codes_in(memo.compact_memo(notification.memo)))
            if (intent := changed.get(code) or issued[code]).stall == stall
            and notification.transferred_at <= intent.expires_at
            and intent.amount - intent.paid == notification.amount
        }
        if not found:
            return None
        if len(found) == 1:
            return self.settle(notification, key, next(iter(found.values())), "fuzzy", stall)
        suggestions = [Suggestion(stall=stall, intent=code, score=80, why=ONE_EDIT_AMOUNT) for code in sorted(found)]
        suggestions.append(Suggestion(stall=stall, score=40, why=ACCOUNT_OWNER))
        return _review(key, notification.amount, AMBIGUOUS_CODE, tuple(suggestions))

    def keep_receipt(self, notification: Notification, decision: Decision, stall: str) -> None:
        """Remember a receipt whose payer we know, so a refund to that payer can be tied to it."""
        payer = notification.counterparty_account
        assert payer is not None
        self.receipts[decision.key] = BookReceipt(
            key=decision.key,
            stall=stall,
            amount=decision.amount,
            account_number=notification.account_number,
            payer_account=payer,
            transferred_at=notification.transferred_at,
            intent=decision.intent,
            refund_due=decision.refund_due,
        )
        pair = (notification.account_number, payer)
        self.by_payer[pair] = self.by_payer.get(pair, ()) + (decision.key,)  # noqa: RUF005

    # Money out -----------------------------------------------------------------------------------

    def money_out(self, notification: Notification, key: NotificationKey) -> Decision:
        payer = notification.counterparty_account
        if payer is None:
            return Decision(key=key, outcome="outgoing", rule="none", amount=notification.amount)
        wanted = -notification.amount
        codes = {intent.code for intent in self.known(memo.code_candidates(notification.memo))}
        candidates = [
            receipt
            for receipt in self.payer_receipts(notification.account_number, payer)
            if receipt.amount - receipt.reversed >= wanted
            and receipt.transferred_at <= notification.transferred_at
            and (not codes or receipt.intent in codes)
        ]
        if not candidates:
            return Decision(key=key, outcome="outgoing", rule="none", amount=notification.amount)

        def tier(receipt: BookReceipt) -> tuple[bool, bool]:
            return receipt.refund_due == wanted, receipt.amount - receipt.reversed == wanted

        best = max(tier(receipt) for receipt in candidates)
        top = sorted((r for r in candidates if tier(r) == best), key=lambda r: (r.transferred_at, r.key))
        if len(top) > 1:
            suggestions = tuple(
                Suggestion(stall=r.stall, intent=r.intent, receipt=r.key, score=50, why=RECEIPT) for r in top
            )
            return _review(key, notification.amount, AMBIGUOUS_REVERSAL, suggestions)
        return self.reverse(notification, key, top[0], wanted)

    def payer_receipts(self, account_number: str | None, payer: str) -> list[BookReceipt]:
        """The receipts (current state) of one payer on one account, from the book and this batch."""
        pair = (account_number, payer)
        keys = [*self.book.payer_receipt_keys(pair), *self.by_payer.get(pair, ())]
        receipts, book_receipts = self.receipts, self.book.receipts
        return [receipts.get(k) or book_receipts[k] for k in keys]

    def reverse(self, notification: Notification, key: NotificationKey, receipt: BookReceipt, wanted: int) -> Decision:
        self.receipts[receipt.key] = _replace(
            receipt, reversed=receipt.reversed + wanted, refund_due=max(0, receipt.refund_due - wanted)
        )
        if receipt.intent is not None:
            self.debit_intent(receipt.intent, wanted)
        return Decision(
            key=key,
            outcome="reversal",
            rule="reversal",
            amount=notification.amount,
            stall=receipt.stall,
            intent=receipt.intent,
            reverses=receipt.key,
        )

    def debit_intent(self, code: str, amount: int) -> None:
        intent = self.intent(code)
        if intent is not None:
            self.intents[code] = _replace(intent, paid=intent.paid - amount)

    # Manual --------------------------------------------------------------------------------------

    def manual(self, notification: Notification, key: NotificationKey, manual: ManualDecision) -> Decision:
        amount = notification.amount
        if manual.action == "not_ours":
            return Decision(key=key, outcome="not_ours", rule="manual", amount=amount)
        intent = self.intent(manual.intent) if manual.action == "intent" and manual.intent is not None else None
        stall = intent.stall if intent is not None else manual.stall if manual.action == "stall" else None
        if stall is None:
            # The decision names an intent the book does not hold: a person must look again.
            return _review(key, amount, MANUAL_TARGET_MISSING, ())
        if amount < 0:
            if intent is not None:
                self.debit_intent(intent.code, -amount)
            return Decision(
                key=key, outcome="reversal", rule="manual", amount=amount, stall=stall, intent=manual.intent
            )
        if intent is not None:
            return self.settle(notification, key, intent, "manual", None)
        decision = Decision(key=key, outcome="sale", rule="manual", amount=amount, stall=stall)
        if notification.counterparty_account is not None:
            self.keep_receipt(notification, decision, stall)
        return decision


def _repeat(key: NotificationKey, amount: int, reason: str) -> Decision:
    return Decision(key=key, outcome="repeat", rule="none", amount=amount, reason=reason)


def _review(key: NotificationKey, amount: int, reason: str, suggestions: Sequence[Suggestion]) -> Decision:
    return Decision(
        key=key, outcome="review", rule="none", amount=amount, reason=reason, suggestions=tuple(suggestions)
    )


def _code_owners(intents: list[Intent]) -> tuple[Suggestion, ...]:
    return tuple(Suggestion(stall=i.stall, intent=i.code, score=50, why=CODE_OWNER) for i in intents)
