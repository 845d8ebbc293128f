"""Properties of the core over arbitrary batches: one decision each, money conserved, deterministic."""

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from matching_helpers import ACCOUNT_OF, T0, UNKNOWN_ACCOUNT, WRAPPERS, book, code, intent, note

from market.reconcile.matching import core
from market.reconcile.matching.core import match_batch
from market.reconcile.matching.decisions import ATTRIBUTED

CODES = [code(seed) for seed in range(6)]
STALLS = ["A-01", "A-02", "B-07"]
INTENTS = [
    intent(c, stall=STALLS[i % 3], amount=[20_000, 50_000][i % 2], minutes=-1 if i == 4 else 15)
    for i, c in enumerate(CODES)
]
PAYERS = [None, "0911", "0922"]


def _one_off(code_text):
    """An exact-shaped window that is no code of ours: one symbol changed (the check fails)."""
    return code_text[:4] + ("K" if code_text[4] != "K" else "M") + code_text[5:]


@st.composite
def notifications(draw):
    count = draw(st.integers(min_value=1, max_value=40))
    made = []
    for i in range(count):
        kind = draw(
            st.sampled_from(["code", "typo", "static", "unknown", "out", "again", "two_codes", "code_and_typo"])
        )
        if kind == "again" and made:
            made.append(draw(st.sampled_from(made)))
            continue
        target = draw(st.sampled_from(CODES))
        typed = {
            "code": target,
            "typo": target[:4] + draw(st.sampled_from("KM0A")) + target[5:],
            "two_codes": f"{target} {draw(st.sampled_from(CODES))}",
            "code_and_typo": f"{target} {_one_off(draw(st.sampled_from(CODES)))}",
        }.get(kind, "chuyen tien")
        wrap = WRAPPERS[draw(st.sampled_from(sorted(WRAPPERS)))]
        amount = draw(st.sampled_from([10_000, 20_000, 25_000, 50_000, 70_000]))
        account = UNKNOWN_ACCOUNT if kind == "unknown" else ACCOUNT_OF[draw(st.sampled_from(STALLS))]
        made.append(
            note(
                f"n{i}",
                -amount if kind == "out" else amount,
                wrap(typed),
                account=account,
                provider=draw(st.sampled_from(["sepay", "casso"])),
                at=T0 + dt.timedelta(minutes=i),
                counterparty_account=draw(st.sampled_from(PAYERS)),
                bank_reference=draw(st.sampled_from([None, f"FT{i}", "FT-shared"])),
            )
        )
    return made


def _run(batch, cuts=(), intents=INTENTS):
    the_book = book(*intents)
    decisions = []
    bounds = [0, *sorted(cuts), len(batch)]
    for start, end in itertools.pairwise(bounds):
        result = match_batch(the_book, batch[start:end])
        the_book.apply(result)
        decisions += result.decisions
    return decisions, the_book


@settings(max_examples=300, deadline=None)
@given(notifications())
def test_each_notification_gets_exactly_one_decision_and_every_dong_is_accounted_for(batch):
    decisions, the_book = _run(batch)
    assert [d.key for d in decisions] == [(n.provider, n.provider_txn_id) for n in batch]
    assert [d.amount for d in decisions] == [n.amount for n in batch]

    applied = [d for d in decisions if d.outcome != "repeat"]
    assert len({d.key for d in applied}) == len(applied)  # never applied twice
    money_in = sum(d.amount for d in applied if d.amount > 0)
    attributed = sum(d.amount for d in applied if d.amount > 0 and d.outcome in ATTRIBUTED)
    in_review = sum(d.amount for d in applied if d.amount > 0 and d.outcome == "review")
    assert attributed + in_review == money_in  # no manual decisions here, so nothing is "not ours"

    for d in decisions:
        assert (d.stall is not None) == (d.outcome in ATTRIBUTED)
    # What the intents say they received is exactly what the decisions credited and reversed.
    credited = sum(d.amount for d in applied if d.intent is not None and d.outcome in ATTRIBUTED)
    assert credited == sum(i.paid for i in the_book.intents.values())


@settings(max_examples=150, deadline=None)
@given(notifications(), st.lists(st.integers(min_value=0, max_value=40), max_size=4), st.randoms())
def test_decisions_do_not_depend_on_batch_boundaries_or_book_order(batch, cuts, rng):
    reference, _ = _run(batch)
    shuffled = list(INTENTS)
    rng.shuffle(shuffled)
    again, _ = _run(batch, [c for c in cuts if c <= len(batch)], shuffled)
    assert again == reference


@settings(max_examples=200, deadline=None)
@given(notifications(), st.lists(st.integers(min_value=0, max_value=40), max_size=3))
def test_the_inline_fast_paths_decide_exactly_as_the_rules(batch, cuts):
    fast_decisions, fast_book = _run(batch, cuts)
    try:
        core.FAST_PATHS = False
        slow_decisions, slow_book = _run(batch, cuts)
    finally:
        core.FAST_PATHS = True
    assert fast_decisions == slow_decisions
    assert fast_book.intents == slow_book.intents
    assert fast_book.receipts == slow_book.receipts
    assert list(fast_book.receipts) == list(slow_book.receipts)
    assert all(
        fast_book.payer_receipt_keys(pair) == slow_book.payer_receipt_keys(pair)
        for pair in itertools.product(ACCOUNT_OF.values(), PAYERS[1:])
    )
