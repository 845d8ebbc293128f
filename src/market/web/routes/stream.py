"""Payments as they are matched, live: ``GET /api/stream/{stall}`` (Server-Sent Events).

Each receipt the ledger attributes to the stall is sent once as an event ``payment`` whose
``id`` is the receipt id and whose data is JSON ``{"receipt_id", "amount", "occurred_at" (ISO
UTC), "payer", "memo", "kind"}``. This is what makes a faked transfer screenshot useless at the
stall, so the stream is built to be resumed rather than trusted:

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
  ``http.disconnect``; and at a ping when the caller's session or token no longer holds (signed
  out, the stall's link revoked), so a revoked phone stops hearing payments within 15 s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, Final

import anyio
import msgspec
import sqlalchemy as sa
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from market.access.roles import Permission
from market.db import utcnow
from market.merchants.stall_ops import stall_row_id
from market.reconcile.ledger.receipts import latest_receipt_id, receipts_after
from market.web.auth.middleware import still_signed_in
from market.web.auth.rules import StallFrom, needs

__all__ = ["KEEPALIVE_SECONDS", "POLL_SECONDS", "ROUTES"]

log = logging.getLogger(__name__)

POLL_SECONDS: Final = 1.0
KEEPALIVE_SECONDS: Final = 15.0
# How long a browser waits before reconnecting after the connection drops.
RETRY_MS: Final = 3000
_BATCH: Final = 100
# Receipt ids are global to the market: a window of the last 1000 covers any commit reordering.
_LOOKBACK: Final = 1000

_ENCODER = msgspec.json.Encoder()


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


async def _events(
    engine: AsyncEngine, stall_id: int, start: int, still_allowed: Callable[[], Awaitable[bool]]
) -> AsyncIterator[ServerSentEventMessage]:
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
                found = await conn.run_sync(receipts_after, stall_id, floor, limit=_LOOKBACK + _BATCH)
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
            if not await still_allowed():
                # Signed out or the stall's link revoked: end the stream; the browser's reconnect is refused.
                return
            yield ServerSentEventMessage(comment="keep-alive", event="ping", data=utcnow().isoformat())
        await anyio.sleep(POLL_SECONDS)


@get(
    "/api/stream/{stall:str}",
    tags=["stream"],
    summary="Live payments of a stall (Server-Sent Events)",
    opt=needs(Permission.STALL_STREAM, stall=StallFrom.PATH),
)
async def payment_stream(
    request: Request[Any, Any, Any],
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
    events = _events(engine, stall_id, cursor, still_signed_in(request))
    return ServerSentEvent(events, headers={"Cache-Control": "no-store"})


ROUTES = [payment_stream]
