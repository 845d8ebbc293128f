"""The office's buttons for a stall holder's sign-in link: make one (shown once, with its QR) or
revoke them all (which signs the holder's phones out). ``POST /quan-ly/sap/{stall}/lien-ket`` and
``POST /quan-ly/sap/{stall}/lien-ket/thu-hoi``: page forms, CSRF-checked by the guard, for
``STALL_LINKS_MANAGE`` (office and admin). The same as ``market merchants link STALL [--revoke]``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from market.access.links import create_link, link_path, revoke_links
from market.access.roles import Permission
from market.config import Settings
from market.errors import NotFoundError
from market.merchants.stall_codes import normalize_stall_code
from market.payments.render import qr_svg
from market.web.auth.rules import needs, principal_of, require
from market.web.page_context import Page

__all__ = ["ROUTES"]

_ACCESS = needs(Permission.STALL_LINKS_MANAGE)
T = TypeVar("T")


async def _write(engine: AsyncEngine, call: Callable[[Connection], T]) -> T:
    """``call`` in one write transaction (on SQLite taking the write lock at BEGIN)."""
    async with engine.connect() as conn:
        await conn.execution_options(sqlite_immediate=True)
        async with conn.begin():
            return await conn.run_sync(call)


def _base_url(request: Request[Any, Any, Any], settings: Settings) -> str:
    return settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")


@post("/quan-ly/sap/{stall:str}/lien-ket", include_in_schema=False, opt=_ACCESS, status_code=200)
async def make_link(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    engine: NamedDependency[AsyncEngine],
    stall: FromPath[str],
) -> Template:
    """A new sign-in link for the stall's holder, shown once as text and as a QR to scan."""
    actor = require(principal_of(request), Permission.STALL_LINKS_MANAGE).actor
    page = Page(request, settings)
    try:
        info, token = await _write(engine, lambda c: create_link(c, stall, actor=actor))
    except NotFoundError:
        return page.not_found(stall)
    url = _base_url(request, settings) + link_path(token)
    svg = await anyio.to_thread.run_sync(lambda: qr_svg(url))
    qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    answer = page.render("stall_link.html.j2", code=info.stall_code, url=url, qr=qr)
    answer.headers["Cache-Control"] = "no-store"
    return answer


@post("/quan-ly/sap/{stall:str}/lien-ket/thu-hoi", include_in_schema=False, opt=_ACCESS, status_code=200)
async def revoke_link(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    engine: NamedDependency[AsyncEngine],
    stall: FromPath[str],
) -> Template:
    """Revoke every link of the stall: the phones they signed in are signed out."""
    actor = require(principal_of(request), Permission.STALL_LINKS_MANAGE).actor
    page = Page(request, settings)
    try:
        count = await _write(engine, lambda c: revoke_links(c, stall, actor=actor))
    except NotFoundError:
        return page.not_found(stall)
    return page.render("stall_link.html.j2", code=normalize_stall_code(stall), revoked=count)


ROUTES = [make_link, revoke_link]
