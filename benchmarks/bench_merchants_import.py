"""Registry CSV import: 10,000 rows, against a one-stall-per-transaction baseline in the same run.

- bulk: ``market merchants import`` as the CLI runs it (``import_csv``: parse, validate every row
  in Python, then Core ``executemany`` inserts in one transaction).
- re-import: the same file again (compares everything, writes nothing).
- baseline: the first 1,000 of the same rows registered the way ``POST /api/merchants`` does it,
  through ``service.create_stall``, one transaction (and commit) per stall. A rate, so it is
  comparable with the bulk figure although it runs on fewer rows.

Run: ``.venv/bin/python benchmarks/bench_merchants_import.py [--rows 10000] [--postgres URL]``
or under pytest-benchmark: ``make bench`` (SQLite).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from market.config import Settings, load_settings
from market.db import create_sync_engine_for, migrate
from market.merchants.csvio import write_csv
from market.merchants.importer import ImportReport, import_csv
from market.merchants.schemas import AccountIn, HolderIn, OnboardingIn, StallData, StallIn
from market.merchants.service import create_stall
from market.merchants.validation import to_input, validate_stall

ROWS = 10_000
BASELINE_ROWS = 1_000
_BANKS = ("Agribank", "VietinBank", "BIDV", "Vietcombank", "Sacombank", "MB")
_CATEGORIES = ("fresh_food", "dry_goods", "clothing", "food_stall", "services", "other")


def make_stalls(count: int) -> list[StallData]:
    """``count`` distinct, valid stalls: zones A…, 1,000 stalls a zone."""
    stalls = []
    for i in range(count):
        zone = chr(ord("A") + i // 1000 % 26) + ("" if i < 26_000 else "Z")
        qr = i % 10 < 7
        stalls.append(
            validate_stall(
                StallIn(
                    code=f"{zone}-{i % 1000 + 1:03d}",
                    category=_CATEGORIES[i % len(_CATEGORIES)],
                    area_m2=3 + (i % 20) / 2,
                    holder=HolderIn(full_name=f"Nguyễn Thị Đào {i}", phone=f"09{i:08d}"),
                    accounts=[AccountIn(bank=_BANKS[i % len(_BANKS)], account_number=f"10{i:010d}")],
                    onboarding=OnboardingIn(
                        qr_issued_on="2024-10-08" if qr else None,
                        qr_displayed=qr,
                        no_cashless_reason=None if qr else "small_irregular",
                    ),
                )
            )
        )
    return stalls


def csv_bytes(stalls: list[StallData]) -> bytes:
    """The stalls as the Vietnamese export writes them (what the office would re-import)."""
    buffer = io.StringIO()
    write_csv(buffer, stalls, lang="vi", delimiter=";")
    return ("\ufeff" + buffer.getvalue()).encode()


@contextmanager
def fresh_database(postgres_admin: str | None) -> Iterator[Settings]:
    """A migrated, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if postgres_admin is None:
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings({}, database_url=f"sqlite:///{Path(folder) / 'bench.db'}")
            migrate(settings)
            yield settings
        return
    admin = sa.create_engine(
        sa.make_url(postgres_admin).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    name = f"market_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        settings = load_settings(
            {}, database_url=sa.make_url(postgres_admin).set(database=name).render_as_string(False)
        )
        migrate(settings)
        yield settings
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run_import(settings: Settings, data: bytes) -> ImportReport:
    """One import as the CLI does it: one connection, one transaction."""
    engine = create_sync_engine_for(settings)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                report = import_csv(conn, data, "bench")
    finally:
        engine.dispose()
    if not report.ok:
        raise RuntimeError(f"benchmark file rejected: {report.errors[:3]}")
    return report


def run_baseline(settings: Settings, stalls: list[StallData]) -> None:
    """The same stalls registered one per transaction through the API's service call."""
    engine = create_sync_engine_for(settings)
    try:
        for data in stalls:
            with engine.connect() as conn:
                conn = conn.execution_options(sqlite_immediate=True)
                with conn.begin():
                    create_stall(conn, to_input(data), "bench")
    finally:
        engine.dispose()


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(rows: int, postgres_admin: str | None) -> dict[str, float]:
    """Rows per second for bulk import, no-op re-import and the one-by-one baseline."""
    stalls = make_stalls(rows)
    data = csv_bytes(stalls)
    with fresh_database(postgres_admin) as settings:
        bulk = _timed(lambda: run_import(settings, data))
        again = _timed(lambda: run_import(settings, data))
    base_rows = min(BASELINE_ROWS, rows)
    with fresh_database(postgres_admin) as settings:
        baseline = _timed(lambda: run_baseline(settings, stalls[:base_rows]))
    return {
        "bulk_seconds": bulk,
        "bulk_rows_per_s": rows / bulk,
        "reimport_rows_per_s": rows / again,
        "baseline_rows_per_s": base_rows / baseline,
    }


def test_bench_merchants_import_10k(benchmark: Any) -> None:
    """pytest-benchmark: the 10,000-row bulk import on SQLite; the baseline ratio in extra_info."""
    stalls = make_stalls(ROWS)
    data = csv_bytes(stalls)
    databases: list[Any] = []

    def setup() -> tuple[tuple[Settings, bytes], dict[str, Any]]:
        manager = fresh_database(None)
        databases.append(manager)
        return (manager.__enter__(), data), {}

    try:
        benchmark.pedantic(run_import, setup=setup, rounds=3, iterations=1)
    finally:
        for manager in databases:
            manager.__exit__(None, None, None)
    with fresh_database(None) as settings:
        baseline = _timed(lambda: run_baseline(settings, stalls[:BASELINE_ROWS])) / BASELINE_ROWS
    per_row = benchmark.stats.stats.min / ROWS
    benchmark.extra_info["rows_per_s"] = round(1 / per_row)
    benchmark.extra_info["baseline_rows_per_s"] = round(1 / baseline)
    benchmark.extra_info["speedup_vs_one_by_one"] = round(baseline / per_row, 1)
    print(
        f"\n{ROWS} rows: {1 / per_row:,.0f} rows/s bulk vs {1 / baseline:,.0f} rows/s one stall per transaction "
        f"({baseline / per_row:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--postgres", default=None, help="admin URL, e.g. postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for label, admin in (("sqlite", None), ("postgresql", args.postgres)):
        if label == "postgresql" and admin is None:
            continue
        result = measure(args.rows, admin)
        print(
            f"{label:10} {args.rows} rows: bulk {result['bulk_seconds']:.2f} s "
            f"= {result['bulk_rows_per_s']:,.0f} rows/s; "
            f"re-import (no change) {result['reimport_rows_per_s']:,.0f} rows/s; "
            f"one stall per transaction {result['baseline_rows_per_s']:,.0f} rows/s; "
            f"bulk is {result['bulk_rows_per_s'] / result['baseline_rows_per_s']:.1f}x the baseline",
            file=sys.stdout,
        )


if __name__ == "__main__":
    main()
