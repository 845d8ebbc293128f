"""The matching core: every rule and every outcome, with memos as the banks deliver them."""

import datetime as dt
import random

from matching_helpers import ACCOUNT_OF, T0, UNKNOWN_ACCOUNT, WRAPPERS, VirtualAccount, book, code, intent, note

from market.reconcile.matching import references
from market.reconcile.matching.book import BookReceipt, ManualDecision, intent_status
from market.reconcile.matching.core import apply_manual, match_batch

C1, C2, C3 = code(1), code(2), code(3)


def decide(the_book, *notifications):
    result = match_batch(the_book, notifications)
    the_book.apply(result)
    return result.decisions


def one_edit_from(value: str) -> str:
    symbol = "K" if value[5] != "K" else "M"
    return value[:5] + symbol + value[6:]


def test_exact_code_in_a_wrapped_memo_pays_the_intent():
    the_book = book(intent(C1))
    [decision] = decide(the_book, note("t1", 50_000, WRAPPERS["bidv_nested_vcb (6b)"](f"{C1} mua ca")))
    assert (decision.outcome, decision.rule, decision.stall, decision.intent) == ("paid", "code", "A-01", C1)
    assert the_book.intents[C1].paid == 50_000
    assert intent_status(the_book.intents[C1], T0) == "paid"


def test_virtual_account_and_order_code_come_before_the_memo():
    the_book = book(
        intent(C1),
        intent(C2),
        intent(C3, stall="A-02"),
        virtual_accounts={"VA123": VirtualAccount(stall="A-01", intent=C1)},
        order_codes={"900001": C2},
    )
    by_va, by_order = decide(
        the_book,
        note("t1", 50_000, f"{C3} wrong code in memo", virtual_account="VA123"),
        note("t2", 50_000, "thanh toan", order_code="900001"),
    )
    assert (by_va.rule, by_va.intent) == ("virtual_account", C1)
    assert (by_order.rule, by_order.intent) == ("order_code", C2)


def test_a_stall_virtual_account_gives_the_stall_when_the_account_number_does_not():
    the_book = book(virtual_accounts={"VA9": VirtualAccount(stall="B-07")})
    [decision] = decide(the_book, note("t1", 30_000, "chuyen tien", account=UNKNOWN_ACCOUNT, virtual_account="VA9"))
    assert (decision.outcome, decision.rule, decision.stall) == ("sale", "static", "B-07")


def test_money_into_a_stall_account_without_a_code_is_its_static_sale():
    the_book = book(intent(C1))
    [decision] = decide(the_book, note("t1", 20_000, WRAPPERS["mb_ibft (3)"]("NGUYEN VAN AN chuyen tien")))
    assert (decision.outcome, decision.rule, decision.stall, decision.intent) == ("sale", "static", "A-01", None)
    assert the_book.intents[C1].paid == 0


def test_several_transfers_settle_one_intent_partially_then_paid_then_overpaid():
    the_book = book(intent(C1, amount=100_000))
    first, second, third = decide(
        the_book,
        note("t1", 40_000, f"{C1} dat coc"),
        note("t2", 60_000, WRAPPERS["acb_trailer (2)"](f"{C1} con lai")),
        note("t3", 5_000, f"{C1}"),
    )
    assert [first.outcome, second.outcome, third.outcome] == ["partial", "paid", "duplicate"]
    assert third.refund_due == 5_000
    assert the_book.intents[C1].paid == 105_000


def test_paying_more_than_due_is_overpaid_with_the_excess_to_refund():
    the_book = book(intent(C1, amount=50_000))
    [decision] = decide(the_book, note("t1", 70_000, C1))
    assert (decision.outcome, decision.refund_due) == ("overpaid", 20_000)
    assert intent_status(the_book.intents[C1], T0) == "overpaid"


def test_paying_again_after_paid_is_a_duplicate_flagged_for_refund_but_still_the_stalls_money():
    the_book = book(intent(C1))
    first, second = decide(the_book, note("t1", 50_000, C1), note("t2", 50_000, C1, provider="casso"))
    assert first.outcome == "paid"
    assert (second.outcome, second.stall, second.refund_due) == ("duplicate", "A-01", 50_000)


def test_a_payment_after_expiry_is_late_credited_to_the_stall_and_flagged():
    the_book = book(intent(C1, minutes=15))
    [decision] = decide(the_book, note("t1", 50_000, C1, at=T0 + dt.timedelta(minutes=16)))
    assert (decision.outcome, decision.stall, decision.intent) == ("late", "A-01", C1)
    assert the_book.intents[C1].paid == 50_000


def test_an_unpaid_intent_past_expiry_reads_expired():
    assert intent_status(intent(C1, minutes=15), T0 + dt.timedelta(minutes=20)) == "expired"
    assert intent_status(intent(C1, minutes=15, paid=10_000), T0) == "partial"
    assert intent_status(intent(C1), T0) == "open"


def test_a_refund_of_a_duplicate_reverses_the_duplicate_receipt():
    the_book = book(intent(C1))
    payer = "0912345678"
    decisions = decide(
        the_book,
        note("t1", 50_000, C1, counterparty_account=payer),
        note("t2", 50_000, C1, counterparty_account=payer),
        note("t3", -50_000, "hoan tien chuyen trung", counterparty_account=payer, at=T0 + dt.timedelta(hours=1)),
    )
    reversal = decisions[2]
    assert (reversal.outcome, reversal.rule, reversal.reverses) == ("reversal", "reversal", ("sepay", "t2"))
    assert (reversal.stall, reversal.intent, reversal.amount) == ("A-01", C1, -50_000)
    assert the_book.intents[C1].paid == 50_000
    assert the_book.receipts[("sepay", "t2")].refund_due == 0


def test_a_refund_matching_two_equal_receipts_goes_to_review_with_both():
    the_book = book()
    payer = "0912345678"
    decisions = decide(
        the_book,
        note("t1", 30_000, "mua rau", counterparty_account=payer),
        note("t2", 30_000, "mua rau", counterparty_account=payer),
        note("t3", -30_000, "tra lai", counterparty_account=payer, at=T0 + dt.timedelta(hours=1)),
    )
    review = decisions[2]
    assert (review.outcome, review.reason) == ("review", "ambiguous_reversal")
    assert [s.receipt for s in review.suggestions] == [("sepay", "t1"), ("sepay", "t2")]


def test_money_out_that_ties_to_no_receipt_is_the_stall_holders_own_spending():
    the_book = book()
    [decision] = decide(the_book, note("t1", -200_000, "tien dien", counterparty_account="0111"))
    assert (decision.outcome, decision.stall) == ("outgoing", None)


def test_a_refund_in_a_later_batch_sees_receipts_of_earlier_batches():
    the_book = book(intent(C1))
    decide(the_book, note("t1", 50_000, C1, counterparty_account="0912"))
    [reversal] = decide(the_book, note("t2", -50_000, f"hoan {C1}", counterparty_account="0912"))
    assert (reversal.outcome, reversal.reverses, reversal.intent) == ("reversal", ("sepay", "t1"), C1)
    assert the_book.intents[C1].paid == 0


def test_a_refund_ties_to_receipts_the_driver_loaded_into_the_book():
    stored = BookReceipt(
        key=("sepay", "old"),
        stall="A-01",
        amount=40_000,
        account_number=ACCOUNT_OF["A-01"],
        payer_account="0912",
        transferred_at=T0 - dt.timedelta(days=1),
    )
    the_book = book(receipts=[stored])
    [reversal] = decide(the_book, note("t1", -40_000, "hoan tien", counterparty_account="0912"))
    assert (reversal.outcome, reversal.reverses, reversal.stall) == ("reversal", ("sepay", "old"), "A-01")
    assert the_book.receipts[("sepay", "old")].reversed == 40_000


def test_refunds_between_receipts_of_one_batch_see_exactly_the_receipts_before_them():
    the_book = book()
    later = T0 + dt.timedelta(hours=1)
    decisions = decide(
        the_book,
        note("t1", 30_000, "mua rau", counterparty_account="0912"),
        note("t2", -30_000, "tra lai", counterparty_account="0912", at=later),
        note("t3", -30_000, "tra lai lan nua", counterparty_account="0912", at=later),
        note("t4", 30_000, "mua rau", counterparty_account="0912", at=later),
        note("t5", -30_000, "tra lai", counterparty_account="0912", at=later),
    )
    assert [(d.outcome, d.reverses) for d in decisions] == [
        ("sale", None),
        ("reversal", ("sepay", "t1")),
        ("outgoing", None),  # t1 is fully reversed already
        ("sale", None),
        ("reversal", ("sepay", "t4")),
    ]
    # In a later batch, both receipts are fully reversed: nothing left to tie a new refund to.
    [outgoing] = decide(the_book, note("t6", -30_000, "tra lai", counterparty_account="0912", at=later))
    assert outgoing.outcome == "outgoing"


def test_a_code_one_edit_away_from_exactly_one_open_intent_of_the_stall_with_the_amount_is_matched():
    the_book = book(intent(C1))
    typo = one_edit_from(C1)
    [decision] = decide(the_book, note("t1", 50_000, WRAPPERS["vcb_app (1)"](f"{typo} tra tien")))
    assert (decision.outcome, decision.rule, decision.intent) == ("paid", "fuzzy", C1)


def _two_codes_one_edit_from_the_same_string() -> tuple[str, str, str]:
    """Two valid codes and a typed string one substitution away from both (found by search)."""
    rng = random.Random(4)
    while True:
        first = references.new_code(randbelow=rng.randrange)
        for position in range(1, 9):
            for symbol in references.ALPHABET:
                typed = first[:position] + symbol + first[position + 1 :]
                others = [c for c in references.near_codes(typed, 0) if c != first and c != typed]
                if typed != first and others:
                    return first, others[0], typed


def test_no_false_auto_match_a_code_one_edit_from_two_open_codes_goes_to_review():
    first, second, typed = _two_codes_one_edit_from_the_same_string()
    the_book = book(intent(first), intent(second))
    [decision] = decide(the_book, note("t1", 50_000, WRAPPERS["mb_trailer (3)"](typed)))
    assert (decision.outcome, decision.reason, decision.stall) == ("review", "ambiguous_code", None)
    assert {s.intent for s in decision.suggestions} == {first, second, None}
    assert decision.suggestions[0].score > decision.suggestions[-1].score
    assert the_book.intents[first].paid == the_book.intents[second].paid == 0


def test_fuzzy_never_matches_another_stalls_intent_a_wrong_amount_or_a_closed_intent():
    typo_memo = one_edit_from(C1)
    for candidate in (
        intent(C1, stall="A-02"),  # not open for this stall
        intent(C1, amount=60_000),  # amount differs
        intent(C1, minutes=-5),  # expired
        intent(C1, paid=50_000),  # already paid
    ):
        the_book = book(candidate, intent(C2))  # C2: an open intent of A-01 at 50,000 opens the gate
        [decision] = decide(the_book, note("t1", 50_000, typo_memo))
        assert (decision.outcome, decision.rule) == ("sale", "static"), candidate


def test_a_code_of_another_stall_paid_into_this_stalls_account_goes_to_review():
    the_book = book(intent(C1, stall="A-02"))
    [decision] = decide(the_book, note("t1", 50_000, C1, account=ACCOUNT_OF["A-01"]))
    assert (decision.outcome, decision.reason) == ("review", "stall_conflict")
    assert [(s.stall, s.why) for s in decision.suggestions] == [("A-01", "account_owner"), ("A-02", "code_owner")]


def test_an_exact_code_decides_when_the_account_belongs_to_no_stall():
    the_book = book(intent(C1, stall="B-07"))
    [decision] = decide(the_book, note("t1", 50_000, C1, account=UNKNOWN_ACCOUNT))
    assert (decision.outcome, decision.stall) == ("paid", "B-07")


def test_two_codes_in_one_transfer_go_to_review():
    the_book = book(intent(C1), intent(C2))
    [decision] = decide(the_book, note("t1", 100_000, f"{C1} {C2}"))
    assert (decision.outcome, decision.reason) == ("review", "several_codes")
    assert {s.intent for s in decision.suggestions} == {C1, C2}


def test_money_into_an_unknown_account_without_a_code_goes_to_review():
    # Its one-edit suggestions are the review queue's, worked out when it is read (test_reconcile_http).
    the_book = book(intent(C1, stall="B-07"))
    [plain, typo] = decide(
        the_book,
        note("t1", 10_000, "chuyen tien", account=UNKNOWN_ACCOUNT),
        note("t2", 50_000, f"{C1[1:]} tra tien", account=UNKNOWN_ACCOUNT),  # prefix dropped
    )
    assert (plain.outcome, plain.reason, plain.suggestions) == ("review", "unknown_account", ())
    assert (typo.outcome, typo.reason, typo.suggestions) == ("review", "unknown_account", ())


def test_a_notification_is_never_applied_twice_within_a_batch_or_across_batches():
    the_book = book(intent(C1))
    first, again = decide(the_book, note("t1", 50_000, C1), note("t1", 50_000, C1))
    [later] = decide(the_book, note("t1", 50_000, C1))
    assert first.outcome == "paid"
    assert (again.outcome, again.reason) == ("repeat", "same_notification")
    assert later.outcome == "repeat"
    assert the_book.intents[C1].paid == 50_000


def test_the_same_bank_credit_reported_by_two_providers_is_applied_once():
    the_book = book(intent(C1))
    first, second = decide(
        the_book,
        note("s-1", 50_000, C1, provider="sepay", bank_reference="FT25321859460704"),
        note("c-9", 50_000, WRAPPERS["mb_trailer (3)"](C1), provider="casso", bank_reference="FT25321859460704"),
    )
    assert first.outcome == "paid"
    assert (second.outcome, second.reason) == ("repeat", "same_bank_reference")


def test_a_manual_decision_wins_over_every_rule_and_is_replayed():
    manual = {
        ("sepay", "t1"): ManualDecision(action="intent", intent=C2, by="ban-quan-ly", why="khach goi dien"),
        ("sepay", "t2"): ManualDecision(action="not_ours", by="ban-quan-ly", why="tien nha"),
        ("sepay", "t3"): ManualDecision(action="stall", stall="B-07", by="ban-quan-ly", why="nham sap"),
    }
    the_book = book(intent(C1), intent(C2, stall="A-02"), manual=manual)
    decisions = decide(
        the_book,
        note("t1", 50_000, C1),  # the code says C1, a person said C2 (of another stall): the person wins
        note("t2", 70_000, "chuyen tien"),
        note("t3", 20_000, "chuyen tien"),
    )
    assert [(d.outcome, d.rule, d.stall, d.intent) for d in decisions] == [
        ("paid", "manual", "A-02", C2),
        ("not_ours", "manual", None, None),
        ("sale", "manual", "B-07", None),
    ]
    assert the_book.intents[C1].paid == 0


def test_resolving_a_review_item_produces_the_replacing_decision_and_remembers_it():
    the_book = book(intent(C1, stall="B-07"))
    pending = note("t1", 50_000, "chuyen tien", account=UNKNOWN_ACCOUNT)
    [review] = decide(the_book, pending)
    assert review.outcome == "review"
    manual = ManualDecision(action="intent", intent=C1, by="lan", why="khach dua bien lai")
    result = apply_manual(the_book, pending, manual)
    the_book.apply(result)
    assert [(d.outcome, d.rule, d.intent) for d in result.decisions] == [("paid", "manual", C1)]
    assert the_book.manual[("sepay", "t1")] == manual
    assert the_book.intents[C1].paid == 50_000


def test_a_manual_decision_naming_a_missing_intent_stays_in_review():
    manual = {("sepay", "t1"): ManualDecision(action="intent", intent=C3, by="lan", why="?")}
    [decision] = decide(book(manual=manual), note("t1", 50_000, "x"))
    assert (decision.outcome, decision.reason) == ("review", "manual_target_missing")


def test_the_book_is_not_modified_by_matching_only_by_apply():
    the_book = book(intent(C1))
    result = match_batch(the_book, [note("t1", 50_000, C1)])
    assert the_book.intents[C1].paid == 0
    assert ("sepay", "t1") not in the_book.applied
    the_book.apply(result)
    assert the_book.intents[C1].paid == 50_000
    assert ("sepay", "t1") in the_book.applied


def test_the_same_id_from_two_providers_is_two_notifications_and_each_repeat_is_caught():
    the_book = book(applied=[("casso", "77")], bank_references=[(ACCOUNT_OF["A-02"], "FT9")])
    first = match_batch(
        the_book,
        [
            note("77", 10_000, "ck", provider="sepay", bank_reference="FT1"),
            note("77", 20_000, "ck", provider="payos", bank_reference="FT2"),
            note("77", 30_000, "ck", provider="sepay", bank_reference="FT3"),  # a retry of the first
            note("78", 40_000, "ck", bank_reference="FT9"),  # FT9 was seen on another account
        ],
    )
    assert [d.outcome for d in first.decisions] == ["sale", "sale", "repeat", "sale"]
    the_book.apply(first)
    assert {("casso", "77"), ("sepay", "77"), ("payos", "77")} <= the_book.applied
    assert ("vietqr", "77") not in the_book.applied
    again = match_batch(
        the_book,
        [
            note("77", 20_000, "ck", provider="payos", bank_reference="FT2"),
            note("79", 40_000, "ck", provider="casso", bank_reference="FT9"),  # the credit of "78" again
            note("77", 50_000, "ck", provider="vietqr", bank_reference="FT4"),
        ],
    )
    assert [(d.outcome, d.reason) for d in again.decisions] == [
        ("repeat", "same_notification"),
        ("repeat", "same_bank_reference"),
        ("sale", None),
    ]
