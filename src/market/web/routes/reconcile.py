"""Reconciliation inside the server: the matching loop, and the review queue over HTTP.

``LIFESPAN`` runs the matching driver for as long as the app runs: it polls the journal every
200 ms (an index lookup; no write lock when idle), so a webhook's payment is in the ledger well
within a second. The driver runs in one dedicated thread on a blocking engine, like the journal
writer. With several workers on PostgreSQL, each tries the matcher's advisory lock; the one that
holds it matches, the others retry every few seconds and take over when it dies.

``GET /api/reconcile/unmatched`` lists the review queue; ``POST .../{id}/resolve`` records a
person's decision (who: body ``by`` or the ``X-Market-User`` header) and waits briefly for the
matcher to apply it, so the answer usually shows the resulting receipt's outcome.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Any

from litestar import Litestar, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from market.config import Settings
from market.db import create_sync_engine_for
from market.reconcile.ledger.driver import Driver, RunReport
from market.reconcile.ledger.review_queue import (
    ResolveIn,
    UnmatchedItem,
    UnmatchedPage,
    cast_state,
    get_item,
    list_unmatched,
)
from market.reconcile.ledger.review_queue import resolve_item as record_resolution

__all__ = ["LIFESPAN", "POLL_SECONDS", "ROUTES", "Matcher"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
STANDBY_SECONDS = 2.0  # another worker holds the lock: check now and then whether it still does
RETRY_SECONDS = 1.0  # after an error (database down): reconnect soon, without spinning
APPLY_WAIT_SECONDS = 3.0
_TAGS = ["reconcile"]

Actor = Annotated[str | None, HeaderParameter(name="X-Market-User", required=False, description="Who decides")]


class Matcher:
    """The server's matching loop around one :class:`Driver`."""

    def __init__(self, settings: Settings) -> None:
        self._engine = create_sync_engine_for(settings)
        self._driver = Driver(self._engine, timezone=settings.timezone)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher")
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling."""
        self._task = asyncio.create_task(self._loop(), name="matcher")

    def wake(self) -> None:
        """Look at the journal now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish the batch in hand, release the lock and the connection."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._driver.close)
        self._thread.shutdown(wait=True)
        self._engine.dispose()

    def _run(self) -> RunReport:
        return self._driver.run(should_stop=lambda: self._stopping)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            delay = POLL_SECONDS
            try:
                report = await loop.run_in_executor(self._thread, self._run)
                if report.locked_out:
                    delay = STANDBY_SECONDS
                elif report.changed:
                    log.debug("matched %d notifications, %d decisions", report.notifications, report.resolutions)
            except Exception:
                log.exception("matching failed; retrying in %s s", RETRY_SECONDS)
                await loop.run_in_executor(self._thread, self._driver.close)
                delay = RETRY_SECONDS
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)


@asynccontextmanager
async def matcher(app: Litestar) -> AsyncGenerator[None, None]:
    """Run the matching loop for as long as the app runs (unless ``MARKET_RUN_MATCHER`` is off)."""
    if not app.state.settings.run_matcher:
        yield
        return
    running = Matcher(app.state.settings)
    running.start()
    app.state.matcher = running
    try:
        yield
    finally:
        await running.stop()


@get("/api/reconcile/unmatched", tags=_TAGS, summary="The review queue, with ranked suggestions")
async def unmatched(
    engine: NamedDependency[AsyncEngine],
    show: Annotated[str, QueryParameter(name="state", description="open, resolved or all")] = "open",
    limit: FromQuery[int] = 50,
    offset: FromQuery[int] = 0,
) -> UnmatchedPage:
    """Notifications automation would not attribute (``state``: open, resolved, all), oldest first,
    each with the payer's own words and ranked suggestions saying why."""
    wanted = cast_state(show)
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: list_unmatched(c, state=wanted, limit=limit, offset=offset))


async def _wait_applied(request: Request[Any, Any, Any], engine: AsyncEngine, item_id: int) -> UnmatchedItem:
    running: Matcher | None = getattr(request.app.state, "matcher", None)
    if running is not None:
        running.wake()
    deadline = time.monotonic() + APPLY_WAIT_SECONDS
    while True:
        async with engine.connect() as conn:
            item = await conn.run_sync(lambda c: get_item(c, item_id))
        if item.resolution is None or item.resolution.applied or time.monotonic() > deadline:
            return item
        await asyncio.sleep(0.05)


@post("/api/reconcile/unmatched/{item_id:int}/resolve", tags=_TAGS, summary="Decide a review item", status_code=200)
async def resolve_unmatched(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    engine: NamedDependency[AsyncEngine],
    item_id: FromPath[int],
    data: JSONBody[ResolveIn],
    user: Actor = None,
) -> UnmatchedItem:
    """Credit an intent or a stall, or mark the money not ours, with who and why. 409 if the item was
    already decided (decisions are final); ``resolution.applied`` tells whether the ledger has it yet."""
    conn = await db_session.connection(execution_options={"sqlite_immediate": True})
    await conn.run_sync(lambda c: record_resolution(c, item_id, data, user or "system"))
    await db_session.commit()
    return await _wait_applied(request, engine, item_id)


ROUTES = [unmatched, resolve_unmatched]
LIFESPAN = [matcher]
