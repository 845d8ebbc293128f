"""A month of payments for the demo market (``market demo``), matched into the ledger.

Runs after ``market.devtools.seed_registry`` registered the stalls. For the stalls that display a QR (about
70 %, the seed article's figure) it simulates 30 days of cashless sales up to yesterday:

* static-QR sales into the stall's own account, 10.000–500.000 ₫ by trade (a bunch of greens is
  cheap, a shirt is not), within market hours in local time (the morning market 05:00–11:00, a
  smaller afternoon one), more on market days ("phiên chợ", every fifth day here) and weekends;
* dynamic intents (a QR for one sale) paid with the code first, the memo wrapped the way real
  banks wrap it, some in two parts, some paid twice (one copy refunded
  later: a reversal), some overpaid, some paid after expiry, some never paid;
* the same bank credit reported by a second provider (ingest marks it a duplicate);
* a few transfers nobody can attribute (into an account no stall owns, a mistyped code), for the
  review queue.

Everything is journalled as ingest would, then the matching driver runs, so receipts, intents,
the review queue and ``stall_days`` are filled. The same seed gives the same month (relative to
today, so the adoption windows always have data).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.config import Settings
from market.db import create_sync_engine_for, utcnow
from market.merchants.store import accounts_table, stalls
from market.reconcile.ingest.journal import Incoming, write_batch
from market.reconcile.ledger.driver import Driver
from market.reconcile.ledger.intents import IntentIn, create_intent
from market.reconcile.notification import Notification, Provider
from market.reconcile.reasons import OUTGOING_TRANSFER

__all__ = ["DAYS", "SEED", "populate", "populate_month"]

SEED = 20241008
DAYS = 30
# Sales a QR stall takes on an ordinary day, and its price list in đồng, by trade.
_TRADE: dict[str, tuple[tuple[int, int], tuple[int, ...]]] = {
    "fresh_food": ((3, 9), (10_000, 15_000, 20_000, 25_000, 30_000, 45_000, 50_000, 60_000, 85_000, 120_000, 150_000)),
    "dry_goods": ((2, 6), (10_000, 18_000, 25_000, 32_000, 50_000, 75_000, 100_000, 160_000, 240_000)),
    "clothing": ((1, 3), (60_000, 90_000, 120_000, 150_000, 180_000, 250_000, 350_000, 500_000)),
    "food_stall": ((4, 12), (10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000)),
    "services": ((1, 3), (20_000, 30_000, 50_000, 80_000, 100_000)),
    "other": ((1, 4), (10_000, 20_000, 50_000, 100_000, 200_000)),
}
_PAYERS = ("NGUYEN VAN AN", "TRAN THI BICH", "LE HOANG TUAN", "PHAM THI NGOC BICH", "VO MINH CHIEN", "DANG THU HA",
           "HUYNH THI MAI", "BUI VAN LOC", "NGO THI KIM LOAN", "TRUONG QUOC KHANH")  # fmt: skip
_WORDS = ("chuyen tien", "thanh toan", "tra tien ca", "tien rau", "mua hang", "CK", "mua gao", "")
# Who reports a stall's credits: mostly SePay (which names no payer), then Casso and direct bank feeds.
_PROVIDERS: tuple[Provider, ...] = ("sepay", "sepay", "casso", "generic")
_UNKNOWN_ACCOUNT = "1903999888777"  # the market office's own account: no stall's
_MARKET_DAY_EVERY = 5


def _wrappers(rng: random.Random) -> list[Callable[[str, str], str]]:
    """Bank renderings of the payer's text."""
    n = rng.randrange
    return [
        lambda t, name: t,
        lambda t, name: f"MBVCB.{n(10**10)}.{n(10**6):06d}.{t}.CT tu {n(10**12)} {name} toi {n(10**9)}",  # 1
        lambda t, name: f"{t} GD {n(10**6):06d}-{n(28) + 1:02d}0326 0{n(9)}:{n(60):02d}:{n(60):02d}",  # 2
        lambda t, name: f"{t} FT{n(10**14):014d} Ma giao dich Trace{n(10**6):06d} Trace {n(10**6):06d}",  # 3
        lambda t, name: f"IBFT {t} Ma giao dich Trace{n(10**6):06d}",  # 3
        lambda t, name: f"CT DEN:{n(10**12)} {t}",  # 5
        lambda t, name: f"TKThe :{n(10**13)}, tai Agribank. {t} -CTLNHIDI{n(10**15):015d}-1/1-CRE-002",  # 6
        lambda t, name: f"{t} (by TPBank ChatPay)",  # 8
    ]


class _Stall(NamedTuple):
    code: str
    category: str
    account: str
    bank_bin: str


class _Month:
    """The month being built: notifications in time order, intents to create, counters for ids."""

    def __init__(self, rng: random.Random, zone: ZoneInfo) -> None:
        self.rng = rng
        self.zone = zone
        self.notes: list[Notification] = []
        self.serial = 0
        self.wrap = _wrappers(rng)
        # Regular customers: each stall sees the same few payer accounts again (the review queue uses them).
        self.regulars: dict[str, list[tuple[str, str]]] = {}

    def payer(self, stall: str) -> tuple[str, str]:
        pool = self.regulars.setdefault(
            stall, [(self.rng.choice(_PAYERS), f"{self.rng.randrange(10**9, 10**10)}") for _ in range(6)]
        )
        if self.rng.random() < 0.6:
            return self.rng.choice(pool)
        return self.rng.choice(_PAYERS), f"{self.rng.randrange(10**9, 10**10)}"

    def memo(self, text: str, name: str) -> str:
        return self.rng.choice(self.wrap)(text, name)

    def add(self, *, account: str, amount: int, memo: str, at: dt.datetime, payer: tuple[str, str] | None,
            provider: Provider | None = None, reference: str | None = None) -> Notification:  # fmt: skip
        self.serial += 1
        source = provider if provider is not None else self.rng.choice(_PROVIDERS)
        named = payer if source != "sepay" else None  # SePay's payload carries no payer
        note = Notification(
            provider=source,
            provider_txn_id=f"demo-{self.serial:06d}",
            amount=amount,
            direction="in" if amount > 0 else "out",
            memo=memo,
            transferred_at=at,
            received_at=at + dt.timedelta(seconds=self.rng.randrange(1, 20)),
            bank_reference=reference or f"FT{self.serial:014d}",
            account_number=account,
            counterparty_name=named[0] if named else None,
            counterparty_account=named[1] if named else None,
        )
        self.notes.append(note)
        return note

    def moment(self, day: dt.date) -> dt.datetime:
        """A time in market hours: mostly the morning market, some in the afternoon."""
        if self.rng.random() < 0.8:
            minute = self.rng.randrange(5 * 60, 11 * 60)
        else:
            minute = self.rng.randrange(15 * 60, 18 * 60)
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60, self.rng.randrange(60)), self.zone)
        return local.astimezone(dt.UTC)


def _qr_stalls(conn: Connection) -> list[_Stall]:
    query = (
        sa.select(stalls.c.code, stalls.c.category, accounts_table.c.account_number, accounts_table.c.bank_bin)
        .join(accounts_table, sa.and_(accounts_table.c.stall_id == stalls.c.id, accounts_table.c.is_default))
        .where(stalls.c.qr_displayed.is_(True), stalls.c.status == "active")
        .order_by(stalls.c.code)
    )
    return [_Stall(*row) for row in conn.execute(query)]


def _static_sales(month: _Month, stall: _Stall, day: dt.date, busy: float) -> None:
    (low, high), prices = _TRADE.get(stall.category, _TRADE["other"])
    for _ in range(round(month.rng.randint(low, high) * busy)):
        name, _ = payer = month.payer(stall.code)
        month.add(
            account=stall.account,
            amount=month.rng.choice(prices),
            memo=month.memo(month.rng.choice(_WORDS) or f"{name} chuyen tien", name),
            at=month.moment(day),
            payer=payer,
        )


def _intent_sale(conn: Connection, month: _Month, stall: _Stall, day: dt.date) -> None:
    """One dynamic-QR sale and what the payer did with it."""
    rng = month.rng
    _, prices = _TRADE.get(stall.category, _TRADE["other"])
    amount = rng.choice(prices)
    created = month.moment(day)
    code = create_intent(conn, IntentIn(stall=stall.code, amount=amount, expires_in=900), now=created).code
    payer = month.payer(stall.code)
    text = f"{code} {rng.choice(_WORDS)}".strip() if rng.random() < 0.7 else f"{payer[0]} {code.lower()}"
    paid_at = created + dt.timedelta(seconds=rng.randrange(20, 240))
    fate = rng.random()
    if fate < 0.06:
        return  # never paid: expires unpaid
    if fate < 0.14:  # paid in two transfers
        first = amount // 2 // 1000 * 1000
        month.add(account=stall.account, amount=first, memo=month.memo(text, payer[0]), at=paid_at, payer=payer)
        later = paid_at + dt.timedelta(minutes=rng.randrange(1, 10))
        month.add(account=stall.account, amount=amount - first, memo=month.memo(text, payer[0]), at=later, payer=payer)
        return
    if fate < 0.18:  # paid after the QR expired
        late = created + dt.timedelta(minutes=rng.randrange(20, 120))
        month.add(account=stall.account, amount=amount, memo=month.memo(text, payer[0]), at=late, payer=payer)
        return
    extra = 5_000 if fate < 0.21 else 0  # rounded up: overpaid
    note = month.add(
        account=stall.account, amount=amount + extra, memo=month.memo(text, payer[0]), at=paid_at, payer=payer
    )
    if fate > 0.97:  # the same credit, reported again by a second provider
        other: Provider = "casso" if note.provider != "casso" else "sepay"
        month.add(account=stall.account, amount=note.amount, memo=note.memo, at=paid_at, payer=payer,
                  provider=other, reference=note.bank_reference)  # fmt: skip


def _paid_twice_and_refunded(conn: Connection, month: _Month, stall: _Stall, day: dt.date) -> None:
    """A payer scans twice; the stall holder refunds the second transfer the next morning (a reversal)."""
    created = month.moment(day)
    code = create_intent(conn, IntentIn(stall=stall.code, amount=50_000, expires_in=900), now=created).code
    payer = ("LE THI HONG", "0987654321")
    for minutes in (1, 2):
        at = created + dt.timedelta(minutes=minutes)
        month.add(account=stall.account, amount=50_000, memo=code, at=at, payer=payer, provider="generic")
    refund_at = created + dt.timedelta(hours=20)
    month.add(account=stall.account, amount=-50_000, memo="hoan tien", at=refund_at, payer=payer, provider="generic")


def _for_review(conn: Connection, month: _Month, qr: list[_Stall], day: dt.date) -> None:
    """Money nobody can attribute automatically: the review queue's demo."""
    rng = month.rng
    for _ in range(3):  # into the market office's account, no code
        name, _ = payer = month.payer(rng.choice(qr).code)
        amount, memo = rng.choice((20_000, 35_000, 70_000)), month.memo(f"{name} chuyen tien", name)
        month.add(
            account=_UNKNOWN_ACCOUNT, amount=amount, memo=memo, at=month.moment(day), payer=payer, provider="generic"
        )
    stall = rng.choice(qr)
    created = month.moment(day)
    code = create_intent(conn, IntentIn(stall=stall.code, amount=64_000, expires_in=900), now=created).code
    # Two different neighbouring symbols swapped (swapping equal ones would leave the code intact).
    i = next(i for i in range(1, len(code) - 1) if code[i] != code[i + 1])
    typo = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    month.add(account=_UNKNOWN_ACCOUNT, amount=64_000, memo=f"CT DEN:9704 {typo}", at=created + dt.timedelta(minutes=2),
              payer=month.payer(stall.code), provider="generic")  # fmt: skip


def _incoming(note: Notification) -> Incoming:
    body = {f: getattr(note, f) for f in ("provider_txn_id", "amount", "memo", "account_number", "bank_reference")}
    return Incoming(
        notification=note,
        raw_body=json.dumps(body, ensure_ascii=False).encode(),
        raw_headers={"user-agent": "market-demo"},
        auth="demo",
        review_reason=OUTGOING_TRANSFER if note.amount < 0 else None,
    )


def populate_month(
    settings: Settings, *, days: int = DAYS, seed: int = SEED, today: dt.date | None = None, match: bool = True
) -> int:
    """Simulate ``days`` days of payments up to yesterday and match them; returns the notifications journalled.

    With ``match=False`` the journal is left pending (the driver benchmark times the matching itself).
    """
    zone = ZoneInfo(settings.timezone)
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    today = today or utcnow().astimezone(zone).date()
    month = _Month(rng, zone)
    engine = create_sync_engine_for(settings)
    try:
        with engine.begin() as conn:
            qr = _qr_stalls(conn)
            if not qr:
                return 0
            for offset in range(days, 0, -1):
                day = today - dt.timedelta(days=offset)
                busy = (1.8 if day.toordinal() % _MARKET_DAY_EVERY == 0 else 1.0) * (1.3 if day.weekday() >= 5 else 1.0)
                for stall in qr:
                    if rng.random() < 0.12:
                        continue  # a day off
                    _static_sales(month, stall, day, busy)
                    if rng.random() < 0.25:
                        _intent_sale(conn, month, stall, day)
                if offset == days // 2:
                    _paid_twice_and_refunded(conn, month, rng.choice(qr), day)
                if offset in (1, days // 3):
                    _for_review(conn, month, qr, day)
            month.notes.sort(key=lambda note: note.received_at)
            write_batch(conn, [_incoming(note) for note in month.notes])
        if match:
            driver = Driver(engine, batch_size=2000, timezone=settings.timezone)
            try:
                driver.run()
            finally:
                driver.close()
    finally:
        engine.dispose()
    return len(month.notes)


def populate(settings: Settings) -> None:
    """``market demo``: a month of payments for the demo market, matched."""
    populate_month(settings)
