"""The matching driver end to end on SQLite: pending journal rows → receipts, intents, review items, stall_days.

Run:
    .venv/bin/python benchmarks/bench_driver.py                 # 30 days of the demo market (~12,700 notifications)
    .venv/bin/python benchmarks/bench_driver.py --days 10

The journal is the demo month (``market.devtools.seed_payments``: static-QR sales, dynamic intents with
wrapped memos, partial, late, duplicate and overpaid payments, a refund, cross-provider copies, a
few for review), journalled but not matched, in a real SQLite file (WAL, synchronous=NORMAL, the
defaults). The file is copied, and on each copy one way of matching runs, in this process:

* **batched**: the driver as shipped, 500 notifications per transaction with the checkpoint;
* **baseline**: the same driver and core, one transaction per notification (``batch_size=1``),
  the way a consumer that commits after each message works.

Both must leave identical ledgers (checked). Rates are notifications per wall-clock second
(the work is mostly SQLite I/O), the book build included.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from market.config import load_settings
from market.db import create_sync_engine_for, migrate
from market.devtools import seed_payments as demo
from market.devtools import seed_registry as merchants_demo
from market.reconcile.ledger.driver import Driver

_LEDGER = (
    "SELECT journal_id, stall_id, intent_id, amount, kind, rule, local_day, is_reversed, refund_due FROM receipts "
    "ORDER BY journal_id",
    "SELECT stall_id, day, receipts, value FROM stall_days ORDER BY stall_id, day",
    "SELECT code, paid_amount, state FROM payment_intents ORDER BY code",
    "SELECT journal_id, reason FROM review_items ORDER BY journal_id",
)


def _prepare(folder: Path, days: int) -> tuple[Path, int]:
    path = folder / "journal.db"
    settings = load_settings({}, database_url=f"sqlite:///{path}")
    migrate(settings)
    merchants_demo.populate(settings)
    count = demo.populate_month(settings, days=days, match=False)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path, count


def _match(template: Path, target: Path, batch_size: int) -> tuple[float, list[list[tuple[object, ...]]]]:
    shutil.copyfile(template, target)
    engine = create_sync_engine_for(load_settings({}, database_url=f"sqlite:///{target}"))
    driver = Driver(engine, batch_size=batch_size)
    try:
        started = time.perf_counter()
        driver.run()
        elapsed = time.perf_counter() - started
    finally:
        driver.close()
    with engine.connect() as conn:
        ledger = [[tuple(row) for row in conn.execute(sa.text(query))] for query in _LEDGER]
    engine.dispose()
    return elapsed, ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30, help="days of demo-market traffic (default 30)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template, count = _prepare(folder, args.days)
        batched, batched_ledger = _match(template, folder / "batched.db", 500)
        baseline, baseline_ledger = _match(template, folder / "baseline.db", 1)
    assert batched_ledger == baseline_ledger, "batching changed the ledger"
    print(f"notifications: {count} ({args.days} days of the demo market), receipts: {len(batched_ledger[0])}")
    print(f"baseline, 1 per transaction : {count / baseline:10,.0f} notifications/s ({baseline:.2f} s)")
    print(f"driver, 500 per transaction : {count / batched:10,.0f} notifications/s ({batched:.2f} s)")
    print(f"ratio: {baseline / batched:.1f}x")


if __name__ == "__main__":
    main()
