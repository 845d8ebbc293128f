"""Recording "QR issued": an explicit act of a signed-in office user, never a side effect of a GET.

- ``POST /api/merchants/{stall}/qr-issued``: one stall's card was handed out (JSON API).
- ``POST /api/cards/issued`` with ``{"stalls": [...]}``: the stalls of a printed sheet.
- ``POST /quan-ly/sap/{stall}/da-cap-qr``: the office stall page's "mark as issued" button (a page
  form, CSRF-checked by the guard), answered with a redirect back to the page.

Downloading a card or a print sheet is a GET and records nothing: a crawler, a link preview or a
curious visitor must not change the commune's indicator. The first date stays (a reprint writes
nothing) and any "card reprint needed" flag goes, as ``market cards`` does.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncEngine

from market.access.roles import Permission
from market.config import Settings
from market.errors import NotFoundError
from market.formats import local_today
from market.merchants.service import record_qr_issued
from market.merchants.stall_codes import normalize_stall_code
from market.web.auth.rules import needs, principal_of, require
from market.web.page_context import Page

__all__ = ["ROUTES"]

_ACCESS = needs(Permission.REGISTRY_WRITE)
_TAGS = ["cards"]


class IssuedStalls(msgspec.Struct, forbid_unknown_fields=True):
    """The stalls whose cards were handed out (any spelling of each code)."""

    stalls: list[str]


class IssuedOut(msgspec.Struct):
    """The codes newly recorded as issued today; a stall already issued keeps its first date."""

    recorded: list[str]


def _actor(request: Request[Any, Any, Any]) -> str:
    return require(principal_of(request), Permission.REGISTRY_WRITE).actor


async def _record(engine: AsyncEngine, settings: Settings, codes: Collection[str], actor: str) -> list[str]:
    # Read-then-write: on SQLite take the write lock at BEGIN so that two recorders queue instead
    # of failing on lock upgrade; committed before the answer.
    today = local_today(settings.timezone)
    async with engine.connect() as conn:
        await conn.execution_options(sqlite_immediate=True)
        async with conn.begin():
            return await conn.run_sync(lambda c: record_qr_issued(c, codes, actor, today))


@post(
    "/api/merchants/{stall:str}/qr-issued",
    tags=_TAGS,
    summary='Record "QR issued" for a stall',
    status_code=200,
    opt=_ACCESS,
)
async def stall_qr_issued(
    request: Request[Any, Any, Any],
    engine: NamedDependency[AsyncEngine],
    settings: NamedDependency[Settings],
    stall: FromPath[str],
) -> IssuedOut:
    """The stall's card was handed out: records today as its issue date unless one is recorded.

    No body. ``{"recorded": [code]}``, or ``[]`` when the stall was already issued; 404 unknown stall.
    """
    return IssuedOut(await _record(engine, settings, [stall], _actor(request)))


@post("/api/cards/issued", tags=_TAGS, summary='Record "QR issued" for printed cards', status_code=200, opt=_ACCESS)
async def cards_issued(
    request: Request[Any, Any, Any],
    engine: NamedDependency[AsyncEngine],
    settings: NamedDependency[Settings],
    data: JSONBody[IssuedStalls],
) -> IssuedOut:
    """The listed stalls' cards (a printed sheet) were handed out: all or nothing.

    ``{"recorded": [codes newly recorded]}``; 404 when a code names no stall (nothing recorded).
    """
    return IssuedOut(await _record(engine, settings, data.stalls, _actor(request)))


@post("/quan-ly/sap/{stall:str}/da-cap-qr", include_in_schema=False, opt=_ACCESS, status_code=303)
async def mark_issued(
    request: Request[Any, Any, Any],
    engine: NamedDependency[AsyncEngine],
    settings: NamedDependency[Settings],
    stall: FromPath[str],
) -> Redirect | Template:
    """The office stall page's "mark as issued" button: record, then back to the page."""
    try:
        await _record(engine, settings, [stall], _actor(request))
    except NotFoundError:
        return Page(request, settings).not_found(stall)
    return Redirect(f"/quan-ly/sap/{normalize_stall_code(stall)}", status_code=303)


ROUTES = [stall_qr_issued, cards_issued, mark_issued]
