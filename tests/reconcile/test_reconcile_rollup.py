"""The monthly rollup the driver keeps next to the daily one: always the daily one summed per month,
after matching, after a reversal in a later month and after a replay."""

import datetime as dt

import pytest
import sqlalchemy as sa
from reconcile_helpers import journal, note, register

from market.reconcile.ledger.driver import Driver

UTC = dt.UTC


def _at(day: int, month: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def matched(engine):
    """Sales around the end of January (local time), then a refund in February of a January sale."""
    register(engine)
    journal(
        engine,
        note("jan30", 25_000, "NGUYEN VAN A chuyen tien", at=_at(30, 1, 3)),
        # 23:30 on 31/01 in Ho Chi Minh City: January.
        note("jan31", 40_000, "chuyen tien mua ca", payer="5550001", at=_at(31, 1, 16, 30)),
        # 00:30 on 01/02 in Ho Chi Minh City: February, though still January in UTC.
        note("feb01", 30_000, "chuyen tien", at=_at(31, 1, 17, 30)),
        note("feb10", 60_000, "chuyen tien", stall="A-02", at=_at(10, 2, 3)),
    )
    _run(engine)
    journal(engine, note("refund", -40_000, "hoan tien", payer="5550001", at=_at(3, 2, 2)))
    _run(engine)
    return engine


def _run(engine, **kwargs):
    driver = Driver(engine, **kwargs)
    try:
        return driver.run()
    finally:
        driver.close()


def _months(engine) -> dict[tuple[str, dt.date], tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT s.code, m.month, m.receipts, m.value FROM stall_months m JOIN stalls s ON s.id = m.stall_id"
            )
        ).all()
    return {(code, _date(month)): (count, value) for code, month, count, value in rows}


def _days_by_month(engine) -> dict[tuple[str, dt.date], tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT s.code, d.day, d.receipts, d.value FROM stall_days d JOIN stalls s ON s.id = d.stall_id")
        ).all()
    totals: dict[tuple[str, dt.date], tuple[int, int]] = {}
    for code, day, count, value in rows:
        key = (code, _date(day).replace(day=1))
        before = totals.get(key, (0, 0))
        totals[key] = (before[0] + count, before[1] + value)
    return totals


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def test_months_hold_the_days_by_local_month_and_a_refund_takes_back_the_sales_month(matched):
    assert _months(matched) == {
        # 25,000 + 40,000, then the refund on 03/02 takes the 31/01 sale back out of January.
        ("A-01", dt.date(2026, 1, 1)): (1, 25_000),
        ("A-01", dt.date(2026, 2, 1)): (1, 30_000),
        ("A-02", dt.date(2026, 2, 1)): (1, 60_000),
    }
    assert _months(matched) == _days_by_month(matched)


def test_replay_rebuilds_the_same_months(matched):
    before = _months(matched)
    for batch_size in (1, 500):
        driver = Driver(matched, batch_size=batch_size)
        try:
            driver.replay()
        finally:
            driver.close()
        assert _months(matched) == before == _days_by_month(matched)
