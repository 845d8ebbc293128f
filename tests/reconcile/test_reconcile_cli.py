"""``market reconcile run`` / ``replay`` through the real command, and the demo month, on both databases."""

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from reconcile_helpers import intent, journal, ledger, note, register

from market.cli import main
from market.devtools import seed_payments as demo
from market.devtools import seed_registry as merchants_demo


@pytest.fixture
def market(database_url, monkeypatch):
    monkeypatch.setenv("MARKET_DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def test_reconcile_run_matches_everything_pending_and_says_so(market, engine):
    register(engine)
    code = intent(engine, "A-02", 30_000)
    journal(
        engine,
        note("a", 12_000, "rau muong"),
        note("b", 30_000, f"IBFT {code}", stall="A-02"),
        note("c", 5_000, "ck", stall=None, account="0999999999"),
    )
    result = market("reconcile", "run")
    assert result.exit_code == 0, result.output
    assert "3 thông báo / notifications" in result.output
    assert "paid: 1" in result.output
    assert "review: 1" in result.output
    assert "sale: 1" in result.output
    again = market("reconcile", "run", "--json")
    assert json.loads(again.output)["notifications"] == 0
    before = ledger(engine)
    replayed = market("reconcile", "replay", "--json")
    assert json.loads(replayed.output)["notifications"] == 3
    assert ledger(engine) == before


def test_demo_month_fills_the_ledger(settings, engine):
    merchants_demo.populate(settings)
    journalled = demo.populate_month(settings, days=2, today=dt.date(2026, 3, 10))
    assert journalled > 100
    with engine.connect() as conn:
        pending = conn.execute(sa.text("SELECT count(*) FROM notification_journal WHERE status = 'pending'")).scalar()
        kinds = dict(conn.execute(sa.text("SELECT kind, count(*) FROM receipts GROUP BY kind")).all())
        days = conn.execute(sa.text("SELECT count(DISTINCT day), sum(receipts) FROM stall_days")).one()
        reviews = conn.execute(sa.text("SELECT count(*) FROM review_items")).scalar()
        standing = conn.execute(
            sa.text("SELECT count(*) FROM receipts WHERE kind <> 'reversal' AND NOT is_reversed")
        ).scalar()
    assert pending == 0
    assert kinds["sale"] > 50
    assert kinds.get("paid", 0) > 0
    assert kinds["reversal"] == 1  # the payer who scanned twice got one transfer back
    assert days[0] == 2
    assert days[1] == standing == sum(v for k, v in kinds.items() if k != "reversal") - 1
    assert reviews >= 4
