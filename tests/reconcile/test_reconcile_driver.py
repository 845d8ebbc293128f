"""The matching driver end to end on a real database: journal rows in, receipts, intents, review items,
stall_days and the checkpoint out, exactly once."""

import datetime as dt

import pytest
import sqlalchemy as sa
from reconcile_helpers import ACCOUNT, T0, intent, journal, ledger, note, receipts_of, register

from market.reconcile.ledger.driver import Driver


@pytest.fixture
def market(engine):
    register(engine)
    return engine


def run(engine, **kwargs):
    driver = Driver(engine, **kwargs)
    try:
        return driver.run()
    finally:
        driver.close()


def test_every_outcome_lands_in_the_ledger(market):
    engine = market
    two_part = intent(engine, "A-01", 100_000)
    exact = intent(engine, "A-01", 50_000)
    over = intent(engine, "A-02", 30_000)
    short_lived = intent(engine, "B-07", 20_000, expires_in=60)
    ids = journal(
        engine,
        note("static", 25_000, "NGUYEN VAN A chuyen tien", stall="A-01"),
        note("part1", 40_000, f"MBVCB.4530998360.029552.{two_part} tra tien.CT tu 0351000646393 NGUYEN THE HUNG"),
        note("part2", 60_000, f"{two_part.lower()} FT25321859460704 Ma giao dich Trace866229 Trace 866229"),
        note("exact", 50_000, f"CT DEN:523320101151 {exact}", payer="9876543210"),
        note("again", 50_000, f"IBFT {exact}", payer="9876543210"),
        note("over", 35_000, f"{over} mua ca", stall="A-02"),
        note("late", 20_000, short_lived, stall="B-07", at=T0 + dt.timedelta(minutes=5)),
        note("stranger", 10_000, "chuyen tien", stall=None, account="0999999999"),
    )
    report = run(engine)
    assert report.notifications == 8
    got = receipts_of(engine)
    assert got[ids[0]] == ("A-01", None, 25_000, "sale", None)
    assert got[ids[1]] == ("A-01", two_part, 40_000, "partial", None)
    assert got[ids[2]] == ("A-01", two_part, 60_000, "paid", None)
    assert got[ids[3]] == ("A-01", exact, 50_000, "paid", None)
    assert got[ids[4]] == ("A-01", exact, 50_000, "duplicate", "refund_due")
    assert got[ids[5]] == ("A-02", over, 35_000, "overpaid", "refund_excess")
    assert got[ids[6]] == ("B-07", short_lived, 20_000, "late", "late")
    assert ids[7] not in got
    state = ledger(engine)
    assert {code: (paid, st) for code, paid, st in state["intents"]} == {
        two_part: (100_000, "paid"),
        exact: (100_000, "overpaid"),
        over: (35_000, "overpaid"),
        short_lived: (20_000, "paid"),
    }
    assert [(r[0], r[1]) for r in state["reviews"]] == [(ids[7], "unknown_account")]
    totals = {}
    for stall, _day, count, value in state["days"]:
        totals[stall] = (totals.get(stall, (0, 0))[0] + count, totals.get(stall, (0, 0))[1] + value)
    assert totals == {"A-01": (5, 225_000), "A-02": (1, 35_000), "B-07": (1, 20_000)}


def test_a_refund_reverses_the_duplicate_and_the_rollup_follows(market):
    engine = market
    code = intent(engine, "A-01", 50_000)
    ids = journal(
        engine,
        note("pay", 50_000, code, payer="9876543210"),
        note("pay-again", 50_000, code, payer="9876543210"),
    )
    run(engine)
    (refund,) = journal(engine, note("refund", -50_000, "hoan tien", payer="9876543210"))
    run(engine)
    got = ledger(engine)
    by_journal = {r[0]: r for r in got["receipts"]}
    assert by_journal[refund][4] == "reversal"
    assert by_journal[refund][7] == ids[1]  # it reverses the duplicate, whose refund was due
    assert by_journal[ids[1]][8] is True or by_journal[ids[1]][8] == 1
    assert by_journal[ids[1]][10] == 0  # nothing owed any more
    assert [(stall, count, value) for stall, _, count, value in got["days"]] == [("A-01", 1, 50_000)]
    assert {c: p for c, p, _ in got["intents"]} == {code: 50_000}


def test_outgoing_money_that_reverses_nothing_is_the_holders_own(market):
    engine = market
    (row,) = journal(engine, note("spend", -80_000, "mua hang", payer="1111111111"))
    report = run(engine)
    assert report.outcomes == {"outgoing": 1}
    assert ledger(engine)["statuses"] == [(row, "outgoing")]
    assert ledger(engine)["receipts"] == []


def test_nothing_is_applied_twice_and_batches_commit_with_the_checkpoint(market):
    engine = market
    journal(engine, *(note(f"s{i}", 10_000 + i, "chuyen tien") for i in range(25)))
    first = run(engine, batch_size=10)
    assert (first.batches, first.notifications) == (3, 25)
    assert run(engine).notifications == 0
    journal(engine, note("late-comer", 5_000, "ck"))
    assert run(engine).notifications == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM receipts")).scalar() == 26
        last = conn.execute(sa.text("SELECT last_journal_id FROM match_checkpoint")).scalar()
        assert last == conn.execute(sa.text("SELECT max(id) FROM notification_journal")).scalar()


def test_a_failed_batch_leaves_nothing_behind_and_the_next_run_does_it_all(market, monkeypatch):
    engine = market
    journal(engine, *(note(f"s{i}", 10_000, "chuyen tien") for i in range(5)))
    from market.reconcile.ledger import writes

    calls = []
    original = writes.add_days

    def crash(conn, days):
        calls.append(1)
        raise RuntimeError("power cut")

    monkeypatch.setattr(writes, "add_days", crash)
    with pytest.raises(RuntimeError):
        run(engine)
    assert calls
    assert ledger(engine)["receipts"] == []
    assert {status for _, status in ledger(engine)["statuses"]} == {"pending"}
    monkeypatch.setattr(writes, "add_days", original)
    assert run(engine).notifications == 5
    assert len(ledger(engine)["receipts"]) == 5


def test_a_second_driver_sees_what_the_first_did(market):
    """Two matchers one after the other (server and CLI): the second rebuilds its book from the ledger."""
    engine = market
    code = intent(engine, "A-01", 50_000)
    first, second = Driver(engine), Driver(engine)
    try:
        journal(engine, note("p1", 20_000, code))
        first.run()
        journal(engine, note("p2", 30_000, code))
        second.run()
        journal(engine, note("p3", 10_000, code))
        first.run()  # its book is stale: it must notice the second driver's batch
    finally:
        first.close()
        second.close()
    kinds = [r[4] for r in ledger(engine)["receipts"]]
    assert kinds == ["partial", "paid", "duplicate"]


def test_unknown_account_with_a_code_goes_to_its_stall_and_a_conflict_to_review(market):
    engine = market
    code = intent(engine, "A-02", 70_000)
    ids = journal(
        engine,
        note("elsewhere", 70_000, code, stall=None, account="0999999999"),
        note("conflict", 70_000, code, stall="B-07"),
    )
    run(engine)
    got = ledger(engine)
    assert receipts_of(engine)[ids[0]][:4] == ("A-02", code, 70_000, "paid")
    assert [(r[0], r[1]) for r in got["reviews"]] == [(ids[1], "stall_conflict")]
    assert ACCOUNT["B-07"]


def test_one_matcher_at_a_time(market, settings):
    """PostgreSQL: the advisory-lock holder matches, another waits and takes over when it stops.
    SQLite: both may run, one transaction after the other, and nothing is applied twice."""
    engine = market
    journal(engine, *(note(f"x{i}", 10_000, "ck") for i in range(4)))
    holder, other = Driver(engine), Driver(engine)
    try:
        assert holder.run().notifications == 4
        journal(engine, note("y", 10_000, "ck"))
        second = other.run()
        if settings.is_sqlite:
            assert (second.locked_out, second.notifications) == (False, 1)
        else:
            assert (second.locked_out, second.notifications) == (True, 0)
            holder.close()  # the server stops: its lock goes with it
            assert other.run().notifications == 1
    finally:
        holder.close()
        other.close()
    assert len(ledger(engine)["receipts"]) == 5
