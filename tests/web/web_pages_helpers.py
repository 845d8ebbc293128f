"""Helpers for the web page tests: stalls, matched receipts written straight into the ledger, and a
Server-Sent Events reader (the real server process comes from ``server_process``).

Not a test module (no ``test_`` prefix). Receipts are inserted with Core the way the matching
driver writes them (a journal row, then a receipt pointing at it), so the pages and the stream
see exactly what they would see in production.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from market.merchants import service
from market.merchants.schemas import AccountIn, HolderIn, StallIn
from market.reconcile.ingest.models import JournalEntry
from market.reconcile.ledger.models import Receipt, ReviewItem, StallDay

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_counter = itertools.count(1)


def add_stall(engine: Engine, code: str, name: str, *, n: int = 1, zone_row: str | None = None, **fields) -> None:
    """Register a stall with one Agribank account through the registry's service."""
    stall = StallIn(
        code=code,
        row=zone_row,
        holder=HolderIn(full_name=name, phone=f"09{n:08d}"),
        accounts=[AccountIn(bank="Agribank", account_number=f"60152944{n:05d}")],
        **fields,
    )
    with engine.begin() as conn:
        service.create_stall(conn, stall, "test")


def _stall_id(conn: sa.Connection, code: str) -> int:
    return int(conn.execute(sa.text("SELECT id FROM stalls WHERE code = :code"), {"code": code}).scalar_one())


def _journal_row(amount: int, payer: str | None, memo: str, at: dt.datetime) -> dict[str, object]:
    n = next(_counter)
    return {
        "provider": "generic",
        "provider_txn_id": f"web-test-{os.getpid()}-{n}-{time.time_ns()}",
        "status": "matched",
        "amount": amount,
        "direction": "in" if amount > 0 else "out",
        "memo": memo,
        "transferred_at": at,
        "received_at": at,
        "account_number": "6015294400001",
        "bank_bin": "970405",
        "counterparty_name": payer,
        "auth": "test",
        "raw_body": b"{}",
        "raw_headers": {},
    }


def add_receipt(
    engine: Engine,
    code: str,
    amount: int,
    *,
    payer: str | None = "NGUYEN VAN AN",
    memo: str = "thanh toan",
    kind: str = "sale",
    at: dt.datetime | None = None,
) -> int:
    """A journal entry and the receipt the matcher made of it for stall ``code``; the receipt id."""
    at = at or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        journal_id = conn.execute(
            sa.insert(JournalEntry.__table__).returning(JournalEntry.__table__.c.id),
            _journal_row(amount, payer, memo, at),
        ).scalar_one()
        return int(
            conn.execute(
                sa.insert(Receipt.__table__).returning(Receipt.__table__.c.id),
                {
                    "journal_id": journal_id,
                    "stall_id": _stall_id(conn, code),
                    "amount": amount,
                    "kind": kind,
                    "rule": "code",
                    "occurred_at": at,
                    "local_day": at.astimezone(VIETNAM).date(),
                },
            ).scalar_one()
        )


def add_stall_day(engine: Engine, code: str, day: dt.date, receipts: int, value: int) -> None:
    """The per-stall-day rollup the matching driver keeps beside the receipts (what adoption counts)."""
    with engine.begin() as conn:
        row = {"stall_id": _stall_id(conn, code), "day": day, "receipts": receipts, "value": value}
        conn.execute(sa.insert(StallDay.__table__), row)


def add_review_item(engine: Engine, amount: int, memo: str, reason: str, suggestions: list[dict[str, object]]) -> int:
    """A journal entry waiting in the review queue; the item id."""
    with engine.begin() as conn:
        row = _journal_row(amount, "TRAN VAN BINH", memo, dt.datetime.now(dt.UTC)) | {"status": "unmatched"}
        journal_id = conn.execute(
            sa.insert(JournalEntry.__table__).returning(JournalEntry.__table__.c.id), row
        ).scalar_one()
        return int(
            conn.execute(
                sa.insert(ReviewItem.__table__).returning(ReviewItem.__table__.c.id),
                {"journal_id": journal_id, "reason": reason, "suggestions": suggestions},
            ).scalar_one()
        )


# --- reading Server-Sent Events -----------------------------------------------------------------


def sse_events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Blocks of an event stream as dicts (``event``, ``id``, ``data``, ``retry``, ``comment``), per the
    HTML spec's parsing rules: ``field: value`` lines up to a blank line, ``:`` starts a comment."""
    block: dict[str, str] = {}
    for line in lines:
        if line == "":
            if block:
                yield block
            block = {}
            continue
        if line.startswith(":"):
            block["comment"] = line[1:].strip()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        block[name] = f"{block[name]}\n{value}" if name == "data" and name in block else value
