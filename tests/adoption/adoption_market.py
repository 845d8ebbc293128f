"""A small market with known receipts, written straight into the tables (the matching driver is not needed).

As of 31/03/2026 (``AS_OF``), by hand:

| stall | zone/row | on 31/03          | bank | app | QR    | shown | counted receipt days (local)                   |
|-------|----------|-------------------|------|-----|-------|-------|------------------------------------------------|
| A-01  | A / 1    | active            | yes  | yes | 10/01 | yes   | 15/01; 02,05,09,12,16,19,23,26/03 (9 on 8 days) |
| A-02  | A / 1    | active            | yes  | yes | 10/01 | yes   | 01/03 only: exactly 30 days old                |
| A-04  | A / 2    | active            | yes  | no  | -     | -     | none (reason: no smartphone)                   |
| A-10  | A / 10   | active            | yes  | no  | 10/01 | yes   | 20/03 sale, reversed (row left at 0)           |
| B-01  | B / 1    | active            | yes  | yes | 10/01 | no    | 15/03: sale delivered twice + paid twice = 2   |
| B-02  | B / 1    | active            | no   | no  | -     | -     | none (reason: small, irregular)                |
| B-03  | B / 2    | left since 15/02  | yes  | yes | 10/01 | yes   | 20/01, 01/02, 10/03                            |
| C-01  | C / 1    | paused since 20/03| yes  | no  | 10/01 | yes   | 05/03                                          |
| A-03  | A / 1    | registered 05/04  | yes  | yes | -     | -     | -                                              |
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from market.merchants.models import Merchant, Stall
from market.reconcile.ingest.models import JournalEntry
from market.reconcile.ledger.models import Receipt, StallDay, StallMonth

AS_OF = dt.date(2026, 3, 31)
REGISTERED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
QR_DAY = dt.date(2026, 1, 10)
SALE = 50_000
TWICE = 100_000

_ids = itertools.count(1)


@dataclass
class Market:
    engine: Engine
    stall_ids: dict[str, int] = field(default_factory=dict)

    def stall(
        self,
        code: str,
        row: str,
        category: str,
        *,
        status: str = "active",
        since: dt.date | None = None,
        bank: bool = True,
        app: bool = True,
        qr: bool = True,
        displayed: bool = True,
        reason: str | None = None,
        note: str | None = None,
        created: dt.datetime = REGISTERED,
    ) -> None:
        with self.engine.begin() as conn:
            stall_id = conn.execute(
                sa.insert(Stall).returning(Stall.id),
                {
                    "code": code,
                    "zone": code.split("-")[0],
                    "row": row,
                    "category": category,
                    "status": status,
                    "status_since": since,
                    "has_bank_account": bank,
                    "has_payment_app": app,
                    "qr_issued_on": QR_DAY if qr else None,
                    "qr_displayed": qr and displayed,
                    "no_cashless_reason": reason,
                    "no_cashless_note": note,
                    "search_text": code.lower(),
                    "created_at": created,
                    "updated_at": created,
                },
            ).scalar_one()
            conn.execute(
                sa.insert(Merchant),
                {
                    "stall_id": stall_id,
                    "full_name": f"Nguyễn Thị {code}",
                    "phone": f"09{stall_id:08d}",
                    "trading_frequency": "daily",
                },
            )
        self.stall_ids[code] = stall_id

    def journal(self, amount: int, at: dt.datetime, *, status: str = "pending", duplicate_of: int | None = None) -> int:
        number = next(_ids)
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    sa.insert(JournalEntry).returning(JournalEntry.id),
                    {
                        "provider": "generic",
                        "provider_txn_id": f"T{number}",
                        "status": status,
                        "duplicate_of": duplicate_of,
                        "amount": amount,
                        "direction": "in" if amount > 0 else "out",
                        "memo": "thanh toan",
                        "transferred_at": at,
                        "received_at": at,
                        "auth": "hmac-sha256",
                        "raw_body": b"{}",
                        "raw_headers": {},
                    },
                ).scalar_one()
            )

    def receipt(
        self,
        code: str,
        local_day: dt.date,
        amount: int = SALE,
        *,
        kind: str = "sale",
        reversed_: bool = False,
        reverses: int | None = None,
        journal_id: int | None = None,
        utc_hour: int = 2,
    ) -> int:
        # 02:00 UTC is 09:00 in Ho Chi Minh City: the same local day.
        at = dt.datetime.combine(local_day, dt.time(utc_hour), dt.UTC)
        if utc_hour >= 17:  # 17:00 UTC or later is already the next local day
            at -= dt.timedelta(days=1)
        journal_id = journal_id or self.journal(amount, at)
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    sa.insert(Receipt).returning(Receipt.id),
                    {
                        "journal_id": journal_id,
                        "stall_id": self.stall_ids[code],
                        "amount": amount,
                        "kind": kind,
                        "rule": "static",
                        "occurred_at": at,
                        "local_day": local_day,
                        "reverses_id": reverses,
                        "is_reversed": reversed_,
                        "flag": "refund" if kind == "duplicate" else None,
                    },
                ).scalar_one()
            )

    def day(self, code: str, day: dt.date, receipts: int, value: int) -> None:
        """The rollups the matching driver keeps for these receipts (by hand): the day's row, added into its month's."""
        stall_id, month = self.stall_ids[code], day.replace(day=1)
        with self.engine.begin() as conn:
            conn.execute(sa.insert(StallDay), {"stall_id": stall_id, "day": day, "receipts": receipts, "value": value})
            this_month = sa.and_(StallMonth.stall_id == stall_id, StallMonth.month == month)
            if conn.execute(sa.select(StallMonth.stall_id).where(this_month)).first() is None:
                conn.execute(sa.insert(StallMonth), {"stall_id": stall_id, "month": month, "receipts": 0, "value": 0})
            conn.execute(
                sa.update(StallMonth)
                .where(this_month)
                .values(receipts=StallMonth.receipts + receipts, value=StallMonth.value + value)
            )


def march(day: int) -> dt.date:
    return dt.date(2026, 3, day)


A01_MARCH_DAYS = (2, 5, 9, 12, 16, 19, 23, 26)


def build(engine: Engine) -> Market:
    """The market of the module docstring."""
    market = Market(engine)
    market.stall("A-01", "1", "fresh_food")
    market.stall("A-02", "1", "dry_goods")
    market.stall("A-04", "2", "fresh_food", app=False, qr=False, reason="no_smartphone")
    market.stall("A-10", "10", "clothing", app=False)
    market.stall("B-01", "1", "food_stall", displayed=False)
    market.stall("B-02", "1", "other", bank=False, app=False, qr=False, reason="small_irregular", note="Chỉ bán sáng")
    market.stall("B-03", "2", "fresh_food", status="left", since=dt.date(2026, 2, 15))
    market.stall("C-01", "1", "services", status="paused", since=dt.date(2026, 3, 20), app=False)
    market.stall("A-03", "1", "fresh_food", qr=False, created=dt.datetime(2026, 4, 5, tzinfo=dt.UTC))

    # regular. The 02/03 receipt arrives at 00:30 local (17:30 UTC on 01/03): local day 02/03,
    # 29 days before 31/03, inside the window.
    market.receipt("A-01", dt.date(2026, 1, 15))
    market.day("A-01", dt.date(2026, 1, 15), 1, SALE)
    for day in A01_MARCH_DAYS:
        market.receipt("A-01", march(day), utc_hour=17 if day == 2 else 2)
    market.receipt("A-01", march(26))
    for day in A01_MARCH_DAYS:
        count = 2 if day == 26 else 1
        market.day("A-01", march(day), count, count * SALE)

    # one receipt exactly 30 days before 31/03.
    market.receipt("A-02", march(1))
    market.day("A-02", march(1), 1, SALE)

    # a sale reversed by the bank; the driver decremented the day back to zero.
    sale = market.receipt("A-10", march(20), reversed_=True)
    market.receipt("A-10", march(20), -SALE, kind="reversal", reverses=sale)
    market.day("A-10", march(20), 0, 0)

    # B-01: one sale delivered twice (a provider retry through a second provider: one journal row
    # marked duplicate, never a second receipt), then the customer paid the same amount again.
    first = market.journal(TWICE, dt.datetime(2026, 3, 15, 3, tzinfo=dt.UTC))
    market.journal(TWICE, dt.datetime(2026, 3, 15, 3, tzinfo=dt.UTC), status="duplicate", duplicate_of=first)
    market.receipt("B-01", march(15), TWICE, journal_id=first)
    market.receipt("B-01", march(15), TWICE, kind="duplicate")
    market.day("B-01", march(15), 2, 2 * TWICE)

    # B-03 left on 15/02; C-01 paused on 20/03: their receipts count only while they traded.
    for day in (dt.date(2026, 1, 20), dt.date(2026, 2, 1), march(10)):
        market.receipt("B-03", day)
        market.day("B-03", day, 1, SALE)
    market.receipt("C-01", march(5))
    market.day("C-01", march(5), 1, SALE)
    return market
