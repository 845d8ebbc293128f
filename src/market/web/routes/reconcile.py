"""Reconciliation inside the server: the matching loop's lifespan, and the review queue over HTTP.

``LIFESPAN`` runs the matching loop (:class:`market.reconcile.ledger.matcher_service.MatcherService`)
for as long as the app runs, unless ``MARKET_RUN_MATCHER`` is off.

``GET /api/reconcile/unmatched`` lists the review queue; ``POST .../{id}/resolve`` records a
person's decision (who: the signed-in principal; a ``by`` in the body is ignored) and waits briefly for the
matcher to apply it, so the answer usually shows the resulting receipt's outcome.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from market.access.roles import Permission
from market.reconcile.ledger.matcher_service import MatcherService
from market.reconcile.ledger.review_queue import (
    ResolveIn,
    UnmatchedItem,
    UnmatchedPage,
    cast_state,
    get_item,
    list_unmatched,
    resolve_item,
)
from market.web.auth.rules import needs, principal_of, require
from market.web.review_labels import labelled_item, labelled_page

__all__ = ["LIFESPAN", "ROUTES"]

APPLY_WAIT_SECONDS = 3.0
_TAGS = ["reconcile"]
_ACCESS = needs(Permission.REVIEW_QUEUE)


@asynccontextmanager
async def matching_loop(app: Litestar) -> AsyncGenerator[None, None]:
    """Run the matching loop for as long as the app runs (unless ``MARKET_RUN_MATCHER`` is off)."""
    if not app.state.settings.run_matcher:
        yield
        return
    running = MatcherService(app.state.settings)
    running.start()
    app.state.matcher = running
    try:
        yield
    finally:
        await running.stop()


@get("/api/reconcile/unmatched", tags=_TAGS, summary="The review queue, with ranked suggestions", opt=_ACCESS)
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
        page = await conn.run_sync(lambda c: list_unmatched(c, state=wanted, limit=limit, offset=offset))
    return labelled_page(page)


async def _wait_applied(request: Request[Any, Any, Any], engine: AsyncEngine, item_id: int) -> UnmatchedItem:
    running: MatcherService | None = getattr(request.app.state, "matcher", None)
    if running is not None:
        running.wake()
    deadline = time.monotonic() + APPLY_WAIT_SECONDS
    while True:
        async with engine.connect() as conn:
            item = await conn.run_sync(lambda c: get_item(c, item_id))
        if item.resolution is None or item.resolution.applied or time.monotonic() > deadline:
            return labelled_item(item)
        await asyncio.sleep(0.05)


@post(
    "/api/reconcile/unmatched/{item_id:int}/resolve",
    tags=_TAGS,
    summary="Decide a review item",
    status_code=200,
    opt=_ACCESS,
)
async def resolve_unmatched(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    engine: NamedDependency[AsyncEngine],
    item_id: FromPath[int],
    data: JSONBody[ResolveIn],
) -> UnmatchedItem:
    """Credit an intent or a stall, or mark the money not ours, with who and why. 409 if the item was
    already decided (decisions are final); ``resolution.applied`` tells whether the ledger has it yet."""
    actor = require(principal_of(request), Permission.REVIEW_QUEUE).actor
    # ``by`` stays in the JSON contract, but who decides is who is signed in, never what the body says.
    decision = msgspec.structs.replace(data, by=None)
    conn = await db_session.connection(execution_options={"sqlite_immediate": True})
    await conn.run_sync(lambda c: resolve_item(c, item_id, decision, actor))
    await db_session.commit()
    return await _wait_applied(request, engine, item_id)


ROUTES = [unmatched, resolve_unmatched]
LIFESPAN = [matching_loop]
