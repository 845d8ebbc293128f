"""Payments as they are matched, live: ``GET /api/stream/{stall}`` (Server-Sent Events).

Each receipt the ledger attributes to the stall is sent once as an event ``payment`` whose
``id`` is the receipt id and whose data is JSON ``{"receipt_id", "amount", "occurred_at" (ISO
UTC), "payer", "memo", "kind"}``. This is what makes a faked transfer screenshot useless at the
stall (design.md, "Who uses it"), so the stream is built to be resumed rather than trusted:

- It starts from "now" (receipts after the newest one at connect time) unless the client says
  where it stopped: the ``Last-Event-ID`` header (sent by every browser ``EventSource`` on its own
  reconnect) or ``?since=<receipt id>``. Nothing is lost between two connections.
- The receipts table is polled every second for ids above the last one sent (looking back a
  little, since commits can land out of id order), each poll on a connection borrowed for that
  query only: a hundred open phone screens must not hold a hundred pooled connections.
- Every 15 s an event ``ping`` (with a keep-alive comment) keeps proxies from closing an idle
  connection and lets the page notice a connection that died silently (3G hand-overs leave
  half-open sockets that never report an error; comments alone are invisible to page scripts).
- The stream ends when the client goes away: Litestar cancels the generator on
  ``http.disconnect``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Final

import anyio
import msgspec
import sqlalchemy as sa
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from market.db import utcnow
from market.errors import NotFoundError
from market.merchants.stall_codes import normalize_stall_code
from market.merchants.store import stalls
from market.reconcile.ingest.models import JournalEntry
from market.reconcile.ledger.models import Receipt

__all__ = [
    "KEEPALIVE_SECONDS",
    "POLL_SECONDS",
    "ROUTES",
    "Payment",
    "day_total",
    "latest_receipt_id",
    "receipts_after",
    "recent_receipts",
    "stall_row_id",
]

log = logging.getLogger(__name__)

POLL_SECONDS: Final = 1.0
KEEPALIVE_SECONDS: Final = 15.0
# How long a browser waits before reconnecting after the connection drops.
RETRY_MS: Final = 3000
_BATCH: Final = 100
# Receipt ids are global to the market: a window of the last 1000 covers any commit reordering.
_LOOKBACK: Final = 1000

_receipts = Receipt.__table__
_journal = JournalEntry.__table__
_ENCODER = msgspec.json.Encoder()


class Payment(msgspec.Struct, frozen=True, kw_only=True):
    """One receipt as the stall's screen shows it (``occurred_at`` is encoded as ISO UTC, ``Z``)."""

    receipt_id: int
    amount: int
    occurred_at: dt.datetime
    payer: str | None
    memo: str
    kind: str


def stall_row_id(conn: Connection, code: str) -> tuple[int, str]:
    """The row id and canonical code of the stall spelt ``code``.

    Raises:
        NotFoundError: no such stall.
    """
    try:
        canonical = normalize_stall_code(code)
    except ValueError:
        canonical = None
    row = conn.execute(sa.select(stalls.c.id).where(stalls.c.code == canonical)).first() if canonical else None
    if row is None:
        raise NotFoundError(f"Không có sạp {code!r} trong sổ / no stall {code!r} in the registry")
    return int(row.id), str(canonical)


def latest_receipt_id(conn: Connection, stall_id: int) -> int:
    """The stall's newest receipt id, 0 when it has none: where a stream "from now" starts."""
    found = conn.execute(sa.select(sa.func.max(_receipts.c.id)).where(_receipts.c.stall_id == stall_id)).scalar()
    return int(found or 0)


def _payments_query() -> sa.Select[int, int, dt.datetime, str | None, str, str]:
    return sa.select(
        _receipts.c.id,
        _receipts.c.amount,
        _receipts.c.occurred_at,
        _journal.c.counterparty_name,
        _journal.c.memo,
        _receipts.c.kind,
    ).join(_journal, _journal.c.id == _receipts.c.journal_id)


def _payments(rows: sa.Result[int, int, dt.datetime, str | None, str, str]) -> list[Payment]:
    return [
        Payment(receipt_id=rid, amount=amount, occurred_at=at, payer=payer, memo=memo, kind=kind)
        for rid, amount, at, payer, memo, kind in rows
    ]


def receipts_after(conn: Connection, stall_id: int, after_id: int, limit: int = _LOOKBACK + _BATCH) -> list[Payment]:
    """The stall's receipts with an id above ``after_id``, oldest first."""
    query = (
        _payments_query()
        .where(_receipts.c.stall_id == stall_id, _receipts.c.id > after_id)
        .order_by(_receipts.c.id)
        .limit(limit)
    )
    return _payments(conn.execute(query))


def recent_receipts(conn: Connection, stall_id: int, *, day: dt.date | None = None, limit: int = 50) -> list[Payment]:
    """The stall's newest receipts (of the local ``day`` when given), newest first, at most ``limit``."""
    query = _payments_query().where(_receipts.c.stall_id == stall_id)
    if day is not None:
        query = query.where(_receipts.c.local_day == day)
    return _payments(conn.execute(query.order_by(_receipts.c.id.desc()).limit(limit)))


def day_total(conn: Connection, stall_id: int, day: dt.date) -> tuple[int, int]:
    """``(payments received, net đồng)`` of the stall on the local ``day``; refunds are subtracted."""
    query = sa.select(
        sa.func.count().filter(_receipts.c.amount > 0), sa.func.coalesce(sa.func.sum(_receipts.c.amount), 0)
    ).where(_receipts.c.stall_id == stall_id, _receipts.c.local_day == day)
    count, total = conn.execute(query).one()
    return int(count), int(total)


def _resume_point(last_event_id: str | None, since: int | None) -> int | None:
    # The header wins: it is what the browser itself knows it has received.
    for value in (last_event_id, since):
        if value is None:
            continue
        try:
            number = int(value)
        except ValueError:
            continue
        if number >= 0:
            return number
    return None


async def _events(engine: AsyncEngine, stall_id: int, start: int) -> AsyncIterator[ServerSentEventMessage]:
    # A first comment sends the headers at once, so the page shows "connected" without waiting.
    yield ServerSentEventMessage(comment="ok", data=None, retry=RETRY_MS)
    cursor, sent = start, set[int]()
    last_ping = time.monotonic()
    while True:
        # Look back over the last _LOOKBACK ids: on PostgreSQL a receipt written by a slower
        # transaction (a manual resolution beside the matcher) can commit after a higher id.
        floor = max(start, cursor - _LOOKBACK)
        try:
            async with engine.connect() as conn:
                found = await conn.run_sync(receipts_after, stall_id, floor)
        except (sa.exc.OperationalError, OSError) as exc:
            # The database hiccuped: keep the stream and try again at the next tick.
            log.warning("payment stream for stall id %s: database unavailable: %s", stall_id, exc)
            found = []
        for payment in found:
            if payment.receipt_id in sent:
                continue
            sent.add(payment.receipt_id)
            cursor = max(cursor, payment.receipt_id)
            yield ServerSentEventMessage(data=_ENCODER.encode(payment).decode(), event="payment", id=payment.receipt_id)
        sent = {receipt_id for receipt_id in sent if receipt_id > cursor - _LOOKBACK}
        if time.monotonic() - last_ping >= KEEPALIVE_SECONDS:
            last_ping = time.monotonic()
            yield ServerSentEventMessage(comment="keep-alive", event="ping", data=utcnow().isoformat())
        await anyio.sleep(POLL_SECONDS)


@get("/api/stream/{stall:str}", tags=["stream"], summary="Live payments of a stall (Server-Sent Events)")
async def payment_stream(
    engine: NamedDependency[AsyncEngine],
    stall: FromPath[str],
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID", required=False)] = None,
    since: Annotated[
        int | None, QueryParameter(required=False, description="Resume after this receipt id (default: from now)")
    ] = None,
) -> ServerSentEvent:
    """Server-Sent Events ``payment`` for each receipt matched to the stall, from now on (or after
    ``Last-Event-ID`` / ``since``), with an event ``ping`` every 15 s; 404 for no such stall."""
    async with engine.connect() as conn:
        stall_id, _ = await conn.run_sync(lambda c: stall_row_id(c, stall))
        resume = _resume_point(last_event_id, since)
        cursor = resume if resume is not None else await conn.run_sync(lambda c: latest_receipt_id(c, stall_id))
    return ServerSentEvent(_events(engine, stall_id, cursor), headers={"Cache-Control": "no-store"})


ROUTES = [payment_stream]
