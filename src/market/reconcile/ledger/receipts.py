"""The receipts' read queries for a stall's screens: the newest, those after an id, a day's total."""

from __future__ import annotations

import datetime as dt

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.reconcile.ledger.tables import journal_table, receipts_table

__all__ = ["Payment", "day_total", "latest_receipt_id", "receipts_after", "recent_receipts"]


class Payment(msgspec.Struct, frozen=True, kw_only=True):
    """One receipt as the stall's screen shows it (``occurred_at`` is encoded as ISO UTC, ``Z``)."""

    receipt_id: int
    amount: int
    occurred_at: dt.datetime
    payer: str | None
    memo: str
    kind: str


def latest_receipt_id(conn: Connection, stall_id: int) -> int:
    """The stall's newest receipt id, 0 when it has none: where a stream "from now" starts."""
    r = receipts_table.c
    found = conn.execute(sa.select(sa.func.max(r.id)).where(r.stall_id == stall_id)).scalar()
    return int(found or 0)


def _payments_query() -> sa.Select[int, int, dt.datetime, str | None, str, str]:
    r, j = receipts_table.c, journal_table.c
    return sa.select(r.id, r.amount, r.occurred_at, j.counterparty_name, j.memo, r.kind).join(
        journal_table, j.id == r.journal_id
    )


def _payments(rows: sa.Result[int, int, dt.datetime, str | None, str, str]) -> list[Payment]:
    return [
        Payment(receipt_id=rid, amount=amount, occurred_at=at, payer=payer, memo=memo, kind=kind)
        for rid, amount, at, payer, memo, kind in rows
    ]


def receipts_after(conn: Connection, stall_id: int, after_id: int, *, limit: int) -> list[Payment]:
    """The stall's receipts with an id above ``after_id``, oldest first, at most ``limit``."""
    r = receipts_table.c
    query = _payments_query().where(r.stall_id == stall_id, r.id > after_id).order_by(r.id).limit(limit)
    return _payments(conn.execute(query))


def recent_receipts(conn: Connection, stall_id: int, *, day: dt.date | None = None, limit: int = 50) -> list[Payment]:
    """The stall's newest receipts (of the local ``day`` when given), newest first, at most ``limit``."""
    r = receipts_table.c
    query = _payments_query().where(r.stall_id == stall_id)
    if day is not None:
        query = query.where(r.local_day == day)
    return _payments(conn.execute(query.order_by(r.id.desc()).limit(limit)))


def day_total(conn: Connection, stall_id: int, day: dt.date) -> tuple[int, int]:
    """``(payments received, net đồng)`` of the stall on the local ``day``; refunds are subtracted."""
    r = receipts_table.c
    query = sa.select(sa.func.count().filter(r.amount > 0), sa.func.coalesce(sa.func.sum(r.amount), 0)).where(
        r.stall_id == stall_id, r.local_day == day
    )
    count, total = conn.execute(query).one()
    return int(count), int(total)
