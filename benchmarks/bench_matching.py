"""Matching core throughput, one core, against a one-SQL-query-per-notification baseline.

Run:
    .venv/bin/python benchmarks/bench_matching.py                  # figures
    .venv/bin/python benchmarks/bench_matching.py --profile        # plus a cProfile of the core

The book holds 100,000 open intents over 120 stalls. The notifications are a market's mix, every
memo but one shape in eight wrapped the way a real bank wraps it (Vietcombank, BIDV, nested
BIDV+Vietcombank, MB, SePay ``CT DEN``, ACB, NAPAS ``IBFT``):

* 45 % static-QR sales (money into a stall's own account, the payer's name and words, no code);
* 40 % dynamic-QR payments carrying the code, of which 40 % mangled (20 % lower-cased, 10 % split
  in two, 10 % glued to the payer's name); 3 % of them pay an intent again (duplicates, second halves),
  5 % pay half (partial); expiries make some late;
* 4 % structural keys (per-intent virtual account or payOS order code);
* 3 % a typo in the code (the guarded fuzzy step), 2 % money into an account we do not know (review);
* 3 % provider retries and 1 % the same credit through a second provider (repeats);
* 2 % refunds (money out); half the transfers name the payer's account (receipts a refund may reverse).

The baseline does what Blnk does per external record: a SQL query to fetch the candidate internal
record. It is the same core making the same decisions (the run checks that), with the intents in
SQLite instead of the in-memory book: an indexed SELECT per lookup (the most favourable query:
SQLite in memory, by primary key) and one UPDATE transaction per batch. Both run in the same
process, on the same notifications, in the same run. Rates are per
CPU-second of this process (``time.process_time``), so a busy machine skews them less than wall
time would; the core's figure includes folding each batch's result into the book. The ``floor``
line is the work no matching core can skip (see :func:`run_floor`), measured the same way.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import pstats
import random
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Callable

from market.reconcile.matching import memo, references
from market.reconcile.matching.book import Book, Intent, VirtualAccount
from market.reconcile.matching.core import match_batch
from market.reconcile.matching.decisions import BatchResult, Decision
from market.reconcile.notification import Notification

NOW = dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC)
NAMES = ["NGUYEN VAN AN", "TRAN THI BICH", "LE HOANG TUAN", "PHAM THI NGOC BICH", "VO MINH CHIEN", "DANG THU HA"]
WORDS = ["mua rau", "tra tien ca", "thanh toan", "ck", "", "tien hang", "mua gao"]
PRICES = [5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 45_000, 50_000, 60_000, 75_000, 100_000, 150_000]


def wrap(rng: random.Random, text: str, name: str) -> str:
    """Wrap the payer's text the way one of the banks in memo-patterns.md §1 does."""
    n = rng.randrange
    shapes: list[Callable[[], str]] = [
        lambda: f"MBVCB.{n(10**10)}.{n(10**6):06d}.{text}.CT tu {n(10**12)} {name} toi {n(10**9)} CHO THOAI GIANG",
        lambda: f"TKThe :{n(10**13)}, tai Vietcombank. {text} -CTLNHIDI{n(10**15):015d}-1/1-CRE-002",
        lambda: f"{text} FT{n(10**14):014d} Ma giao dich Trace{n(10**6):06d} Trace {n(10**6):06d}",
        lambda: f"CT DEN:{n(10**12)} {text}",
        lambda: f"{text} GD {n(10**6):06d}-010326 10:{n(60):02d}:{n(60):02d}",
        lambda: f"IBFT {text}",
        lambda: (
            f"TKThe :{n(10**10)}, tai Vietcombank. MBVCB.{n(10**11)}.{n(10**6):06d}.{text}.CT tu {n(10**10)} {name}"
            f" toi {n(10**10)} X tai BIDV -CTLNHIDI{n(10**15):015d}-1/1-CRE-002"
        ),
        lambda: text,
    ]
    return rng.choice(shapes)()


def mangle(rng: random.Random, code: str) -> str:
    """What payers and banks do to a code: case, a split, glued to the name (§2)."""
    choice = rng.random()
    if choice < 0.2:
        return code.lower()
    if choice < 0.3:
        return f"{code[:4]} {code[4:]}"
    if choice < 0.4:
        return f"{rng.choice(NAMES).replace(' ', '')}{code}"
    return code


def typo(rng: random.Random, code: str) -> str:
    position = rng.randrange(1, len(code))
    other = rng.choice([s for s in references.ALPHABET if s != code[position]])
    return code[:position] + other + code[position + 1 :]


def build(
    intent_count: int, notification_count: int, seed: int
) -> tuple[Callable[[], Book], list[Notification], list[Intent]]:
    """A fresh-book factory (the core's runs fold results into their book), the notifications, the intents."""
    rng = random.Random(seed)
    stalls = [f"{row}-{number:02d}" for row in "ABCDEF" for number in range(1, 21)]
    accounts = {f"0{100_000_000 + i * 7919}": stall for i, stall in enumerate(stalls)}
    stall_account = {stall: account for account, stall in accounts.items()}
    taken: set[str] = set()
    intents = []
    for _ in range(intent_count):
        code = references.new_code(taken, rng.randrange)
        taken.add(code)
        expires = NOW + dt.timedelta(minutes=rng.choice([-30, 15, 60, 60, 600, 600, 600, 600]))
        intents.append(Intent(code=code, stall=rng.choice(stalls), amount=rng.choice(PRICES), expires_at=expires))
    vas = {f"VA{i:06d}": VirtualAccount(stall=intents[i].stall, intent=intents[i].code) for i in range(2000)}
    orders = {str(900_000 + i): intents[2000 + i].code for i in range(2000)}

    def fresh_book() -> Book:
        return Book(intents=intents, accounts=accounts, virtual_accounts=vas, order_codes=orders)

    va_of = {target.intent: va for va, target in vas.items()}
    order_of = {code: order for order, code in orders.items()}

    # Each dynamic QR is paid once, in random order; duplicates and halves are drawn explicitly below.
    unpaid = intents[4000:]
    rng.shuffle(unpaid)
    notifications: list[Notification] = []
    next_unpaid = 0
    for i in range(notification_count):
        roll = rng.random()
        provider = rng.choice(["payos", "sepay", "casso", "vietqr"])
        name = rng.choice(NAMES)
        at = NOW + dt.timedelta(milliseconds=10 * i)  # 100 notifications/s of market time
        fields: dict[str, object] = {
            "provider": provider,
            "provider_txn_id": f"{provider}-{i}",
            "transferred_at": at,
            "received_at": at,
            "bank_reference": f"FT{seed}{i:012d}",
            "counterparty_account": f"9{rng.randrange(10**9)}" if rng.random() < 0.5 else None,
        }
        if notifications and roll < 0.03:  # a provider retry: the very same notification again
            notifications.append(rng.choice(notifications[-50:]))
            continue
        if roll < 0.48:  # static-QR sale
            stall = rng.choice(stalls)
            memo = wrap(rng, f"{name} chuyen tien {rng.choice(WORDS)}".strip(), name)
            fields |= {"amount": rng.choice(PRICES), "account_number": stall_account[stall], "memo": memo}
        elif roll < 0.88:  # a dynamic QR paid with its code (some partial, duplicate, late by the book's state)
            if rng.random() < 0.97:
                intent, next_unpaid = unpaid[next_unpaid % len(unpaid)], next_unpaid + 1
            else:  # paid again: a duplicate (or the second half of a partial payment)
                intent = unpaid[rng.randrange(max(next_unpaid, 1)) % len(unpaid)]
            amount = intent.amount if rng.random() < 0.95 else intent.amount // 2
            memo = wrap(rng, f"{mangle(rng, intent.code)} {rng.choice(WORDS)}".strip(), name)
            fields |= {"amount": amount, "account_number": stall_account[intent.stall], "memo": memo}
        elif roll < 0.92:  # structural keys: per-intent VA or provider order code
            intent = intents[rng.randrange(4000)]
            memo = wrap(rng, rng.choice(WORDS) or "thanh toan", name)
            key = (
                {"virtual_account": va_of[intent.code]}
                if intent.code in va_of
                else {"order_code": order_of[intent.code]}
            )
            fields |= {"amount": intent.amount, "account_number": stall_account[intent.stall], "memo": memo, **key}
        elif roll < 0.95:  # a typo in the code
            intent = unpaid[-1 - next_unpaid % len(unpaid)]
            memo = wrap(rng, f"{typo(rng, intent.code)} {rng.choice(WORDS)}", name)
            fields |= {"amount": intent.amount, "account_number": stall_account[intent.stall], "memo": memo}
        elif roll < 0.97:  # money into an account we do not know
            fields |= {"amount": rng.choice(PRICES), "account_number": "0999999999", "memo": wrap(rng, name, name)}
        elif roll < 0.98 and notifications:  # the same bank credit through a second provider
            first = rng.choice(notifications[-50:])
            notifications.append(
                Notification(**{**{f: getattr(first, f) for f in first.__struct_fields__}, "provider": "generic"})
            )
            continue
        else:  # a refund (money out) to a payer
            stall = rng.choice(stalls)
            fields |= {
                "amount": -rng.choice(PRICES),
                "direction": "out",
                "account_number": stall_account[stall],
                "memo": f"hoan tien {name}",
            }
        fields.setdefault("direction", "in")
        notifications.append(Notification(**fields))  # type: ignore[arg-type]
    return fresh_book, notifications, intents


def run_core(book: Book, notifications: list[Notification], batch: int) -> tuple[list[BatchResult], float]:
    """Match the notifications batch by batch, folding each result into the book, as the driver does.

    Returns the results and the CPU seconds spent in :func:`match_batch` itself (the core alone,
    without ``Book.apply``, the bookkeeping the driver does between batches).
    """
    results = []
    matching = 0.0
    clock = time.process_time
    for start in range(0, len(notifications), batch):
        part = notifications[start : start + batch]
        started = clock()
        result = match_batch(book, part)
        matching += clock() - started
        book.apply(result)
        results.append(result)
    return results, matching


def count_outcomes(results: list[BatchResult]) -> Counter[str]:
    """How many decisions of each outcome (outside the timed region: it is the benchmark's own work)."""
    return Counter(decision.outcome for result in results for decision in result.decisions)


def run_floor(notifications: list[Notification], batch: int) -> None:
    """What no core can skip, for scale: per notification the idempotency checks and one Decision.

    Plus the batch memo scan (:func:`memo.scan_batch`) and folding the keys into the next batch's
    view. Every notification is taken for a static sale: no receipts, intents or rules.
    """
    applied: set[tuple[str, str]] = set()
    known: dict[tuple[str | None, str | None], tuple[str, str]] = {}
    for start in range(0, len(notifications), batch):
        part = notifications[start : start + batch]
        seen: set[tuple[str, str]] = set()
        references: dict[tuple[str | None, str | None], tuple[str, str]] = {}
        decisions: list[Decision] = []
        memo.scan_batch([notification.memo for notification in part])
        for notification in part:
            key = (notification.provider, notification.provider_txn_id)
            if key in applied or key in seen:
                continue
            seen.add(key)
            reference = (notification.account_number, notification.bank_reference)
            if reference in known or reference in references:
                continue
            references[reference] = key
            decisions.append(Decision(key=key, outcome="sale", rule="static", amount=notification.amount, stall="A"))
        applied.update(seen)
        known.update(references)


class SqlIntents:
    """The book's intents kept in SQLite instead of a dict: every lookup is one indexed SELECT.

    This is the Blnk way (a database query per external record to fetch its candidate), with
    everything else equal: the same core makes the same decisions on top of it, and each batch's
    credited intents are written back in one transaction.
    """

    def __init__(self, intents: list[Intent]) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE TABLE intents (code TEXT PRIMARY KEY, stall TEXT, amount INTEGER, expires_at TEXT, paid INTEGER)"
        )
        rows = [(i.code, i.stall, i.amount, i.expires_at.isoformat(), i.paid) for i in intents]
        self.db.executemany("INSERT INTO intents VALUES (?, ?, ?, ?, ?)", rows)
        self.db.commit()
        self.queries = 0

    def get(self, code: str) -> Intent | None:
        self.queries += 1
        row = self.db.execute(
            "SELECT code, stall, amount, expires_at, paid FROM intents WHERE code = ?", (code,)
        ).fetchone()
        if row is None:
            return None
        return Intent(
            code=row[0], stall=row[1], amount=row[2], expires_at=dt.datetime.fromisoformat(row[3]), paid=row[4]
        )

    def __getitem__(self, code: str) -> Intent:
        intent = self.get(code)
        if intent is None:
            raise KeyError(code)
        return intent

    def keys(self) -> SqlCodes:
        return SqlCodes(self)

    def update(self, changed: dict[str, Intent]) -> None:
        self.db.executemany("UPDATE intents SET paid = ? WHERE code = ?", [(i.paid, c) for c, i in changed.items()])
        self.db.commit()


class SqlCodes:
    """``intents.keys() & candidates`` (the fuzzy step) as one query for the candidates."""

    def __init__(self, intents: SqlIntents) -> None:
        self.intents = intents

    def __and__(self, candidates: list[str]) -> set[str]:
        self.intents.queries += 1
        marks = ", ".join("?" * len(candidates))
        rows = self.intents.db.execute(f"SELECT code FROM intents WHERE code IN ({marks})", candidates)
        return {code for (code,) in rows}


def timed_run(
    fresh_book: Callable[[], Book], notifications: list[Notification], batch: int
) -> tuple[list[BatchResult], float, float]:
    """One measured run on a fresh book: results, CPU seconds in all, CPU seconds in match_batch."""
    _clean_heap()
    book = fresh_book()
    started = time.process_time()
    results, matching = run_core(book, notifications, batch)
    return results, time.process_time() - started, matching


def _clean_heap() -> None:
    """Collect what earlier runs left, so that no run pays for another's garbage (measured: ~8 %)."""
    gc.collect()


def run_baseline(
    fresh_book: Callable[[], Book], intents: list[Intent], notifications: list[Notification], batch: int
) -> tuple[float, list[Decision], float]:
    _clean_heap()
    book = fresh_book()
    sql = SqlIntents(intents)
    book.intents = sql  # type: ignore[assignment]
    started = time.process_time()
    results, _ = run_core(book, notifications, batch)
    rate = len(notifications) / (time.process_time() - started)
    sql.db.close()
    return rate, [d for result in results for d in result.decisions], sql.queries / len(notifications)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intents", type=int, default=100_000)
    parser.add_argument("--notifications", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    fresh_book, notifications, intents = build(args.intents, args.notifications, seed=1)
    rates, alone = [], []
    results: list[BatchResult] = []
    decisions: list[Decision] = []
    for _ in range(args.repeat):
        results = []  # each run starts from the same heap: the last run's book and results freed
        results, total, matching = timed_run(fresh_book, notifications, args.batch)
        rates.append(len(notifications) / total)
        alone.append(len(notifications) / matching)
        if not decisions:
            decisions = [d for result in results for d in result.decisions]
    outcomes = count_outcomes(results)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(run_core, fresh_book(), notifications, args.batch)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    floors = []
    for _ in range(args.repeat):
        started = time.process_time()
        run_floor(notifications, args.batch)
        floors.append(len(notifications) / (time.process_time() - started))
    baselines = [run_baseline(fresh_book, intents, notifications, args.batch) for _ in range(3)]
    baseline = statistics.median(rate for rate, _, _ in baselines)
    assert all(same == decisions for _, same, _ in baselines), "the baseline must decide exactly as the core"
    core = statistics.median(rates)
    print(f"open intents: {args.intents:,}  notifications: {args.notifications:,}  batch: {args.batch:,}")
    print("outcomes:", dict(sorted(outcomes.items())))
    print(
        f"core:     {statistics.median(alone):>12,.0f} notifications per CPU-second, match_batch alone "
        f"(median of {args.repeat}, best {max(alone):,.0f}; goal >= 500,000)"
    )
    print(
        f"  + book: {core:>12,.0f} notifications per CPU-second with Book.apply between batches "
        f"(best {max(rates):,.0f}): the figure the ratio uses"
    )
    print(
        f"baseline: {baseline:>12,.0f} notifications per CPU-second (same core, intents in SQLite: "
        f"{baselines[0][2]:.2f} indexed SELECTs per notification, one UPDATE transaction per batch)"
    )
    print(f"ratio:    {core / baseline:>12.1f}x")
    print(
        f"floor:    {statistics.median(floors):>12,.0f} notifications per CPU-second (idempotency checks, one "
        "Decision and the batch memo scan only: what any core in CPython pays)"
    )


if __name__ == "__main__":
    main()
