"""Payment intents over HTTP: ``POST /api/intents``, ``GET /api/intents/{ref}`` and its QR image.

A stall's till (or phone) asks for a dynamic QR for one sale and then watches the intent's
state; rules live in :mod:`market.reconcile.ledger.intents`. All three need ``STALL_INTENTS``
on the intent's stall: staff for any stall, a stall's holder for their own (checked here, once the
stall is known from the body or the intent).
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from market.access.roles import Permission
from market.payments.render import qr_png
from market.reconcile.ledger.intents import IntentIn, IntentOut, create_intent, find_intent_row, get_intent
from market.web.auth.rules import StallFrom, needs, principal_of, require_stall

__all__ = ["ROUTES"]

_TAGS = ["intents"]
PNG = "image/png"
_ACCESS = needs(Permission.STALL_INTENTS, stall=StallFrom.HANDLER)


def _check(request: Request[Any, Any, Any], stall: str) -> None:
    require_stall(principal_of(request), Permission.STALL_INTENTS, stall)


@post("/api/intents", tags=_TAGS, summary="Issue a dynamic QR for one sale", status_code=201, opt=_ACCESS)
async def post_intent(
    request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], data: JSONBody[IntentIn]
) -> IntentOut:
    """A reference code, the VietQR payload (the code first in the transfer content), the image URL and
    the expiry; 404 for an unknown stall, 409 when the stall has no usable default account, 422 per bad field."""
    _check(request, data.stall)
    conn = await db_session.connection(execution_options={"sqlite_immediate": True})
    created = await conn.run_sync(lambda c: create_intent(c, data))
    await db_session.commit()
    return created


@get("/api/intents/{ref:str}", tags=_TAGS, summary="An intent's state and the payments applied", opt=_ACCESS)
async def read_intent(
    request: Request[Any, Any, Any], engine: NamedDependency[AsyncEngine], ref: FromPath[str]
) -> IntentOut:
    """``open``, ``partial``, ``paid``, ``overpaid`` or ``expired``, with every transfer credited to it."""
    async with engine.connect() as conn:
        found = await conn.run_sync(lambda c: get_intent(c, ref))
    _check(request, found.stall)
    return found


@get("/api/intents/{ref:str}/qr.png", tags=_TAGS, summary="The intent's VietQR as PNG", media_type=PNG, opt=_ACCESS)
async def intent_qr(
    request: Request[Any, Any, Any], engine: NamedDependency[AsyncEngine], ref: FromPath[str]
) -> Response[bytes]:
    """The dynamic QR to show the payer (immutable: the payload never changes)."""
    async with engine.connect() as conn:
        row = await conn.run_sync(lambda c: find_intent_row(c, ref))
    _check(request, row.stall)
    payload: str = row.payload
    body = await anyio.to_thread.run_sync(lambda: qr_png(payload))
    return Response(body, media_type=PNG, headers={"Cache-Control": "public, max-age=86400, immutable"})


ROUTES = [post_intent, read_intent, intent_qr]
