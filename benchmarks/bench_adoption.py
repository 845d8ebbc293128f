"""Adoption figures over a province's year: 100 markets x 200 stalls, ~10 M receipts (issue 8).

Builds (once, then reuses) a database per engine with 20,000 stalls, a year of receipts and the
``stall_days`` / ``stall_months`` rollups made from them, then times, in the same run:

- ``snapshot only``: :func:`market.adoption.metrics.adoption` as ``GET /api/adoption`` computes it
  by default (every indicator, the funnel, the gap), reading ``stall_days``;
- ``snapshot + trend``: with the 12-month trend (``trend=true``), which reads ``stall_months``;
- ``snapshot by zone + trend``: with the zone breakdown as well; also as of a day inside a month
  (``MID_MONTH``, as on most days of the year), whose month the trend reads from ``stall_days``;
- ``naive``: what a first version would run: the snapshot's per-stall activity computed from
  ``receipts`` directly (``COUNT(DISTINCT local_day)`` over the windows, reversals filtered).

The naive figures are checked equal to the rollup's, so the rollup is known to agree with the
receipts it summarises. The notification journal is not generated (adoption never reads it);
receipts are inserted with foreign keys off, so their ``journal_id`` points nowhere.

    .venv/bin/python benchmarks/bench_adoption.py                 # both databases, full size
    .venv/bin/python benchmarks/bench_adoption.py --db sqlite --stalls 2000   # quicker, smaller

SQLite lives in ``/tmp/market_bench_adoption_<stalls>.db``; PostgreSQL in the database
``market_bench_adoption_<stalls>`` on ``MARKET_TEST_POSTGRES_URL``'s server. Both are kept and
reused; ``--rebuild`` starts over. Statistics are refreshed before timing (``ANALYZE``; on
PostgreSQL ``VACUUM ANALYZE``, which also lets index-only scans skip the heap), as autovacuum
would after a bulk load or a migration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from market.adoption.figures import TrendMonth
from market.adoption.metrics import adoption, registered_before, status_on, window_start
from market.config import load_settings
from market.db import create_sync_engine_for, migrate
from market.merchants.models import Stall

AS_OF = dt.date(2025, 10, 31)
MID_MONTH = dt.date(2025, 10, 20)
FIRST_DAY = AS_OF - dt.timedelta(days=364)
STALLS_PER_MARKET = 200
TZ = "Asia/Ho_Chi_Minh"

# Deterministic pseudo-random numbers in SQL (same data on both databases): h(stall, day) in 0..999.
_H = "(({s} * 7919 + {d} * 104729 + ({s} * {d}) % 997) % 1000)"


def _stall_rows(stalls: int) -> list[dict[str, Any]]:
    created = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    rows = []
    for i in range(1, stalls + 1):
        market, n = divmod(i - 1, STALLS_PER_MARKET)
        h = (i * 7919) % 100
        status = "left" if h < 2 else "paused" if h < 5 else "active"
        since = FIRST_DAY + dt.timedelta(days=(i * 37) % 365) if status != "active" else None
        rows.append(
            {
                "id": i,
                "code": f"M{market:03d}-{n:03d}",
                "zone": f"{market:03d}{'ABCD'[n % 4]}",
                "row": str(n // 20 + 1),
                "category": ("fresh_food", "dry_goods", "clothing", "food_stall", "services", "other")[i % 6],
                "status": status,
                "status_since": since,
                "has_bank_account": h < 92,
                "has_payment_app": h < 88,
                "qr_issued_on": FIRST_DAY if h < 82 else None,
                "qr_displayed": h < 72,
                "search_text": f"m{market:03d}-{n:03d}",
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def _receipts_sql(dialect: str, stalls: int) -> str:
    """One INSERT ... SELECT making a year of receipts, 1-4 a trading day.

    70 % of stalls trade on 95 % of days, 10 % on 30 %, 8 % on 5 %, 12 % never: ~5 M stall-days.
    """
    h = _H.format(s="s.id", d="d.i")
    day = "date(:first, '+' || d.i || ' days')" if dialect == "sqlite" else "(CAST(:first AS date) + d.i)"
    at = f"{day} || ' 02:00:00.000000'" if dialect == "sqlite" else f"({day} + time '02:00') AT TIME ZONE 'UTC'"
    days = "bench_days" if dialect == "sqlite" else "(SELECT generate_series(0, 364) AS i)"
    bool_t = "1" if dialect == "sqlite" else "true"
    bool_f = "0" if dialect == "sqlite" else "false"
    return f"""
        INSERT INTO receipts (journal_id, stall_id, amount, kind, rule, occurred_at, local_day, is_reversed, created_at)
        SELECT s.id * 2000 + d.i * 4 + k.j, s.id, 20000 + {h} * 1000,
               CASE WHEN ({h} + k.j) % 211 = 0 THEN 'duplicate' ELSE 'sale' END, 'static',
               {at}, {day},
               CASE WHEN ({h} + k.j) % 307 = 0 THEN {bool_t} ELSE {bool_f} END, {at}
        FROM stalls s CROSS JOIN {days} d
             CROSS JOIN (SELECT 1 AS j UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) k
        WHERE {h} < CASE WHEN (s.id * 13) % 100 < 70 THEN 950 WHEN (s.id * 13) % 100 < 80 THEN 300
                         WHEN (s.id * 13) % 100 < 88 THEN 50 ELSE 0 END
          AND k.j <= 1 + ({h} % 2 = 0)::int + ({h} % 3 = 0)::int + ({h} % 7 = 0)::int
    """.replace("::int", "" if dialect == "sqlite" else "::int")


_REVERSALS_SQL = """
    INSERT INTO receipts (journal_id, stall_id, amount, kind, rule, occurred_at, local_day, reverses_id,
                          is_reversed, created_at)
    SELECT journal_id + 1000000000, stall_id, -amount, 'reversal', 'static', occurred_at, local_day, id,
           {false}, created_at
    FROM receipts WHERE is_reversed
"""

_ROLLUP_SQL = """
    INSERT INTO stall_days (stall_id, day, receipts, value)
    SELECT stall_id, local_day, SUM(CASE WHEN is_reversed THEN 0 ELSE 1 END),
           SUM(CASE WHEN is_reversed THEN 0 ELSE amount END)
    FROM receipts WHERE kind <> 'reversal' GROUP BY stall_id, local_day
"""

_MONTHS_SQL = """
    INSERT INTO stall_months (stall_id, month, receipts, value)
    SELECT stall_id, {month}, SUM(receipts), SUM(value) FROM stall_days GROUP BY stall_id, {month}
"""
_MONTH_OF_DAY = {"sqlite": "date(day, 'start of month')", "postgresql": "CAST(date_trunc('month', day) AS date)"}


def _build(engine: Engine, stalls: int) -> None:
    dialect = engine.dialect.name
    started = time.perf_counter()
    with engine.connect() as conn:
        # Receipts point at journal rows we do not generate: foreign keys off for this load only.
        # SQLite ignores the pragma inside a transaction, so it goes straight to the driver first.
        if dialect == "sqlite":
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        else:
            conn.exec_driver_sql("SET session_replication_role = replica")
        for table in ("stall_months", "stall_days", "receipts", "merchants", "stall_accounts", "stalls"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
        conn.execute(sa.insert(Stall.__table__), _stall_rows(stalls))
        if dialect == "sqlite":
            # A real table of day numbers: SQLite re-runs a recursive CTE for every row of a cross join.
            conn.exec_driver_sql("CREATE TEMP TABLE bench_days (i INTEGER PRIMARY KEY)")
            conn.exec_driver_sql(
                "INSERT INTO bench_days WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < 364) "
                "SELECT i FROM d"
            )
        conn.execute(sa.text(_receipts_sql(dialect, stalls)), {"first": FIRST_DAY.isoformat()})
        conn.exec_driver_sql(_REVERSALS_SQL.format(false="0" if dialect == "sqlite" else "false"))
        conn.exec_driver_sql(_ROLLUP_SQL)
        conn.exec_driver_sql(_MONTHS_SQL.format(month=_MONTH_OF_DAY[dialect]))
        conn.commit()
    engine.dispose()  # the SQLite connection without foreign keys must not be reused
    print(f"  built in {time.perf_counter() - started:.0f} s")


def _analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE")


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())


def naive_snapshot(conn: Connection, as_of: dt.date) -> dict[str, int]:
    """A first version: the per-stall activity straight from ``receipts``, windows by COUNT(DISTINCT day)."""
    r = sa.table("receipts", *(sa.column(c) for c in ("stall_id", "local_day", "amount", "kind", "is_reversed")))
    counted = sa.and_(r.c.kind != "reversal", r.c.is_reversed.is_(False))

    def days_since(start: dt.date) -> Any:
        return sa.func.count(sa.distinct(sa.case((r.c.local_day >= start, r.c.local_day))))

    w30, w90 = window_start(as_of, 30), window_start(as_of, 90)
    activity = (
        sa.select(
            r.c.stall_id,
            days_since(w30).label("d30"),
            days_since(w90).label("d90"),
            sa.func.sum(sa.case((r.c.local_day >= w30, 1), else_=0)).label("receipts"),
            sa.func.sum(sa.case((r.c.local_day >= w30, r.c.amount), else_=0)).label("value"),
        )
        .where(counted, r.c.local_day.between(w90, as_of))
        .group_by(r.c.stall_id)
        .subquery()
    )
    s = Stall.__table__
    active = status_on(as_of) == "active"
    query = (
        sa.select(
            sa.func.sum(sa.case((sa.and_(active, activity.c.d30 > 0), 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(active, activity.c.d90 > 0), 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(active, activity.c.d30 >= 8), 1), else_=0)),
            sa.func.sum(sa.case((active, activity.c.receipts), else_=0)),
            sa.func.sum(sa.case((active, activity.c.value), else_=0)),
        )
        .select_from(s.join(activity, activity.c.stall_id == s.c.id))
        .where(s.c.created_at < registered_before(as_of, TZ))
    )
    row = conn.execute(query).one()
    keys = ("transacting_30d", "transacting_90d", "regular", "receipts", "value")
    return {k: int(v or 0) for k, v in zip(keys, row, strict=True)}


def naive_trend(conn: Connection, trend: list[TrendMonth]) -> list[tuple[int, int]]:
    """``trend``'s months counted from ``receipts``: (stalls with a counted receipt, stalls trading)."""
    r = sa.table("receipts", *(sa.column(c) for c in ("stall_id", "local_day", "kind", "is_reversed")))
    s = Stall.__table__
    counted = sa.and_(r.c.kind != "reversal", r.c.is_reversed.is_(False))
    months: list[tuple[int, int]] = []
    for month in trend:
        first = dt.date.fromisoformat(f"{month.month}-01")
        trading = sa.and_(status_on(month.cutoff) == "active", s.c.created_at < registered_before(month.cutoff, TZ))
        received = sa.exists().where(r.c.stall_id == s.c.id, r.c.local_day.between(first, month.cutoff), counted)
        row = conn.execute(
            sa.select(
                sa.func.sum(sa.case((sa.and_(trading, received), 1), else_=0)),
                sa.func.sum(sa.case((trading, 1), else_=0)),
            )
        ).one()
        months.append((int(row[0] or 0), int(row[1] or 0)))
    return months


def _time(label: str, runs: int, call: Callable[[], Any]) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        timings.append(time.perf_counter() - started)
    best, median = min(timings), statistics.median(timings)
    print(f"  {label:<34} best {best * 1000:8.1f} ms   median {median * 1000:8.1f} ms   ({runs} runs)")
    return median, result


def _engine_for(kind: str, stalls: int, rebuild: bool) -> Engine:
    if kind == "sqlite":
        path = Path(f"/tmp/market_bench_adoption_{stalls}.db")  # noqa: S108 - a fixed place, kept between runs
        if rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin_url = make_url(os.environ.get("MARKET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
        name = f"market_bench_adoption_{stalls}"
        admin = sa.create_engine(admin_url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).first()
            if exists and rebuild:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            if not exists or rebuild:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = admin_url.set(database=name).render_as_string(hide_password=False)
    settings = load_settings({}, database_url=url)
    migrate(settings)
    return create_sync_engine_for(settings)


def run(kind: str, stalls: int, runs: int, rebuild: bool) -> None:
    engine = _engine_for(kind, stalls, rebuild)
    print(f"{kind}: {stalls} stalls")
    if _count(engine, "stalls") != stalls or _count(engine, "stall_days") == 0:
        print("  generating (kept for the next run) ...")
        _build(engine, stalls)
    _analyze(engine)
    receipts, days, months = (_count(engine, table) for table in ("receipts", "stall_days", "stall_months"))
    print(f"  receipts {receipts:,}   stall_days {days:,}   stall_months {months:,}")
    with engine.connect() as conn:
        _full, figures = _time(
            "rollup: snapshot by zone + trend", runs, lambda: adoption(conn, as_of=AS_OF, by="zone", trend=True)
        )
        _time(f"  same, as of {MID_MONTH:%d/%m}", runs, lambda: adoption(conn, as_of=MID_MONTH, by="zone", trend=True))
        _time("rollup: snapshot + trend", runs, lambda: adoption(conn, as_of=AS_OF, trend=True))
        snap, _ = _time("rollup: snapshot only", runs, lambda: adoption(conn, as_of=AS_OF))
        naive, expected = _time("naive: snapshot from receipts", max(1, runs // 3), lambda: naive_snapshot(conn, AS_OF))
    got = {
        "transacting_30d": figures.indicator("transacting_30d").numerator,
        "transacting_90d": figures.indicator("transacting_90d").numerator,
        "regular": figures.indicator("regular").numerator,
        "receipts": figures.averages[0].total,
        "value": figures.averages[1].total,
    }
    assert got == expected, (got, expected)
    print(f"  figures agree with the receipts: {got}")
    with engine.connect() as conn:
        for as_of in (AS_OF, MID_MONTH):
            trend = adoption(conn, as_of=as_of, trend=True).trend
            got_trend = [(m.transacting.numerator, m.transacting.denominator) for m in trend]
            assert got_trend == naive_trend(conn, trend), as_of
    print(f"  the trends as of {AS_OF:%d/%m} and {MID_MONTH:%d/%m} agree with the receipts")
    print(f"  speed-up of the rollup snapshot over the naive query: x{naive / snap:.1f}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--stalls", type=int, default=100 * STALLS_PER_MARKET)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    for kind in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        run(kind, args.stalls, args.runs, args.rebuild)


if __name__ == "__main__":
    main()
