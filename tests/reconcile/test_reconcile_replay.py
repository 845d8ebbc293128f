"""Replaying the whole journal into an empty ledger gives the same ledger, manual decisions included."""

import datetime as dt

import pytest
from reconcile_helpers import T0, intent, journal, ledger, note, register

from market.reconcile.ledger.driver import Driver
from market.reconcile.ledger.review_queue import ResolveIn, list_unmatched, resolve_item


def _driver(engine, **kwargs):
    return Driver(engine, **kwargs)


@pytest.fixture
def history(engine):
    """A day at the market, matched in small batches, with two decisions taken by a person."""
    register(engine)
    split = intent(engine, "A-01", 90_000)
    paid_twice = intent(engine, "A-02", 40_000)
    expired = intent(engine, "B-07", 15_000, expires_in=60)
    minute = dt.timedelta(minutes=1)
    journal(
        engine,
        note(
            "s1",
            12_000,
            "TKThe :0590900139999, tai MB. NGUYEN VIET THANG chuyen tien -CTLNHIDI000014950160814-1/1-CRE-002",
        ),
        note("p1", 30_000, f"{split} GD 174242-090822 15:45:46", payer="111", at=T0 + minute),
        note("p2", 60_000, f"BankAPINotify CT DEN:1023456789 ND:{split} SD:12500000", payer="111", at=T0 + 2 * minute),
        note("d1", 40_000, paid_twice, stall="A-02", payer="222", at=T0 + 3 * minute),
        note("d2", 40_000, paid_twice, stall="A-02", payer="222", at=T0 + 4 * minute),
        note("late", 15_000, f"IBFT {expired}", stall="B-07", at=T0 + 10 * minute),
        note("lost1", 18_000, "tien ca", stall=None, account="0999999999", at=T0 + 11 * minute),
        note("lost2", 9_000, "ck", stall=None, account="0999999999", at=T0 + 12 * minute),
        note("lost3", 7_000, "ck", stall=None, account="0999999999", at=T0 + 12 * minute),
    )
    driver = _driver(engine, batch_size=3)
    try:
        driver.run()
        journal(engine, note("refund", -40_000, "hoan tien", stall="A-02", payer="222", at=T0 + 20 * minute))
        driver.run()
        with engine.begin() as conn:
            items = {i.journal_id: i for i in list_unmatched(conn).items}
            first, second = sorted(items.values(), key=lambda i: i.journal_id)[:2]
            resolve_item(conn, first.id, ResolveIn(action="stall", stall="B-07", why="chị Lan xác nhận"), "lan")
            resolve_item(conn, second.id, ResolveIn(action="not_ours", why="tiền cá nhân"), "lan")
        driver.run()
    finally:
        driver.close()
    return engine


def test_replay_gives_the_same_ledger(history):
    before = ledger(history)
    assert [r[1:] for r in before["reviews"]] == [
        ("unknown_account", "stall"),
        ("unknown_account", "not_ours"),
        ("unknown_account", None),
    ]
    assert {s for _, s in before["statuses"]} == {"matched", "unmatched", "not_ours"}
    assert any(r[4] == "reversal" for r in before["receipts"])
    for batch_size in (1, 500):
        driver = _driver(history, batch_size=batch_size)
        try:
            report = driver.replay()
        finally:
            driver.close()
        assert report.notifications == len(before["statuses"])
        assert ledger(history) == before


def test_a_run_after_replay_adds_nothing(history):
    before = ledger(history)
    driver = _driver(history)
    try:
        driver.replay()
        assert driver.run().notifications == 0
    finally:
        driver.close()
    assert ledger(history) == before
