"""A stall's QR and card as images, and the print sheet: ``/api/merchants/{stall}/qr.png``, ``qr.svg``,
``card.png``, ``card.pdf`` and ``/api/cards.pdf``.

Each image carries a strong ETag computed from what it is drawn from (the payload, the card's
text, the renderer's own fingerprint), so a phone that asks again with ``If-None-Match`` gets a
304 before anything is drawn. Drawing is CPU-bound Pillow work: it runs in a worker thread so the
event loop keeps answering webhooks meanwhile.

Every route here is a GET and changes nothing: downloading a card or printing a sheet does not
record "QR issued" (a crawler or a link preview would change the commune's indicator); the office
records it by an explicit POST (:mod:`market.web.routes.card_issue`). A stall's images need
``STALL_CARD`` on that stall (staff, or the stall's own holder); the print sheet
``REGISTRY_WRITE`` (the office).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import anyio.to_thread
import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.status_codes import HTTP_304_NOT_MODIFIED
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from market.access.roles import Permission
from market.config import Settings
from market.payments.cards import StallCard, renderer_fingerprint, select_cards, stall_card
from market.payments.render import CardData, card_pdf, card_png, qr_png, qr_svg, write_sheet
from market.web.auth.rules import StallFrom, needs

__all__ = ["ROUTES"]

T = TypeVar("T")
_TAGS = ["cards"]
# Short: revalidation costs one 304, while a stale card after an account change would be printed
# with the old account and send the stall's payments elsewhere.
_CACHE_CONTROL = "private, max-age=60"
PNG, SVG, PDF = "image/png", "image/svg+xml", "application/pdf"

Amount = Annotated[
    int | None, QueryParameter(name="amount", required=False, description="Fixed amount in đồng (a one-payment QR)")
]
Content = Annotated[
    str | None,
    QueryParameter(name="content", required=False, description="Fixed transfer content, at most 25 characters"),
]
IfNoneMatch = Annotated[str | None, HeaderParameter(name="If-None-Match", required=False)]


async def _read(engine: AsyncEngine, call: Callable[[Connection], T]) -> T:
    async with engine.connect() as conn:
        return await conn.run_sync(call)


def _etag(kind: str, drawn_from: bytes) -> str:
    digest = hashlib.sha256(f"{kind}\0{renderer_fingerprint()}\0".encode())
    digest.update(drawn_from)
    return f'"{digest.hexdigest()[:32]}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison, a list of tags, or ``*``."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _headers(etag: str, filename: str | None = None) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": _CACHE_CONTROL}
    if filename is not None:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return headers


def _not_modified(etag: str) -> Response[bytes]:
    return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=_headers(etag))


async def _load(
    engine: AsyncEngine, settings: Settings, stall: str, amount: int | None, content: str | None
) -> StallCard:
    name = settings.market_name
    return await _read(engine, lambda c: stall_card(c, stall, market_name=name, amount=amount, content=content))


def _suffix(card: CardData) -> str:
    # A card with a fixed amount is another file than the stall's plain card.
    return f"-{card.amount}" if card.amount is not None else ""


async def _qr(
    engine: AsyncEngine,
    settings: Settings,
    stall: str,
    amount: int | None,
    content: str | None,
    if_none_match: str | None,
    *,
    svg: bool,
) -> Response[bytes]:
    found = await _load(engine, settings, stall, amount, content)
    payload = found.card.payload
    etag = _etag("qr.svg" if svg else "qr.png", payload.encode())
    if _matches(if_none_match, etag):
        return _not_modified(etag)
    filename = f"qr-{found.card.stall_code}{_suffix(found.card)}.{'svg' if svg else 'png'}"
    if svg:
        body = (await anyio.to_thread.run_sync(lambda: qr_svg(payload))).encode()
    else:
        body = await anyio.to_thread.run_sync(lambda: qr_png(payload))
    return Response(body, media_type=SVG if svg else PNG, headers=_headers(etag, filename))


async def _card(
    engine: AsyncEngine,
    settings: Settings,
    stall: str,
    amount: int | None,
    content: str | None,
    if_none_match: str | None,
    *,
    pdf: bool,
) -> Response[bytes]:
    found = await _load(engine, settings, stall, amount, content)
    card = found.card
    etag = _etag("card.pdf" if pdf else "card.png", msgspec.json.encode(card))
    if _matches(if_none_match, etag):
        return _not_modified(etag)
    body = await anyio.to_thread.run_sync(lambda: card_pdf(card) if pdf else card_png(card))
    filename = f"the-{card.stall_code}{_suffix(card)}.{'pdf' if pdf else 'png'}"
    return Response(body, media_type=PDF if pdf else PNG, headers=_headers(etag, filename))


def _sheet_name(zone: str | None) -> str:
    # "cho" (chợ, the market) for the whole market; only letters and digits of a zone reach the header.
    label = re.sub(r"[^A-Z0-9]", "", (zone or "").upper()) or "cho"
    return f"the-vietqr-{label}.pdf"


def _qr_route(ext: str, media_type: str, summary: str, doc: str) -> HTTPRouteHandler:
    """The handler of ``qr.<ext>``: the QR alone, which records nothing."""

    async def handler(
        engine: NamedDependency[AsyncEngine],
        settings: NamedDependency[Settings],
        stall: FromPath[str],
        amount: Amount = None,
        content: Content = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[bytes]:
        return await _qr(engine, settings, stall, amount, content, if_none_match, svg=ext == "svg")

    return _route(handler, f"qr.{ext}", summary, media_type, doc)


def _card_route(ext: str, media_type: str, summary: str, doc: str) -> HTTPRouteHandler:
    """The handler of ``card.<ext>``: the card, which records nothing."""

    async def handler(
        engine: NamedDependency[AsyncEngine],
        settings: NamedDependency[Settings],
        stall: FromPath[str],
        amount: Amount = None,
        content: Content = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[bytes]:
        return await _card(engine, settings, stall, amount, content, if_none_match, pdf=ext == "pdf")

    return _route(handler, f"card.{ext}", summary, media_type, doc)


def _route(
    handler: Callable[..., Awaitable[Response[bytes]]], file: str, summary: str, media_type: str, doc: str
) -> HTTPRouteHandler:
    # The name and docstring a module-level handler would have (``stall_card_pdf``): logs, help().
    handler.__name__ = handler.__qualname__ = "stall_" + file.replace(".", "_")
    handler.__doc__ = doc
    path = f"/api/merchants/{{stall:str}}/{file}"
    access = needs(Permission.STALL_CARD, stall=StallFrom.PATH)
    return get(path, tags=_TAGS, summary=summary, media_type=media_type, opt=access)(handler)


stall_qr_png = _qr_route(
    "png",
    PNG,
    "The stall's VietQR as PNG",
    """The VietQR of the stall's default account, 300 dpi PNG (0.85 mm modules).

    Any spelling of the stall code; 404 for no such stall, 409 for a stall that has left or has
    no account, 422 for a bad fixed amount or content. ``If-None-Match`` with the ETag: 304.
    """,
)
stall_qr_svg = _qr_route(
    "svg",
    SVG,
    "The stall's VietQR as SVG",
    "The VietQR of the stall's default account as one vector path, sized in millimetres.",
)
stall_card_png = _card_route(
    "png", PNG, "The stall's card as PNG", "The stall's A6 card, 300 dpi PNG (records nothing)."
)
stall_card_pdf = _card_route(
    "pdf",
    PDF,
    "The stall's card as PDF",
    "The stall's A6 card as a one-page PDF (records nothing).",
)


@get(
    "/api/cards.pdf",
    tags=_TAGS,
    summary="Print sheet of stall cards",
    media_type=PDF,
    opt=needs(Permission.REGISTRY_WRITE),
)
async def print_sheet(
    engine: NamedDependency[AsyncEngine],
    settings: NamedDependency[Settings],
    zone: Annotated[str | None, QueryParameter(required=False, description="A zone, e.g. B")] = None,
    stall: Annotated[list[str] | None, QueryParameter(required=False, description="Stall codes (repeat)")] = None,
) -> Response[bytes]:
    """Four A6 cards per A4 page with crop marks, in walking order (zone, row, stall): the whole
    market (stalls that have left excepted), a zone, listed stalls, or a zone plus listed stalls.

    Stalls of the zone or market without an account are left out and listed in the
    ``X-Skipped-Stalls`` header. Nothing is recorded: ``POST /api/cards/issued`` records the
    sheet's stalls as issued once they are handed out.
    """
    name, codes = settings.market_name, stall or []
    selection = await _read(engine, lambda c: select_cards(c, market_name=name, zone=zone, codes=codes))

    def draw() -> bytes:
        out = io.BytesIO()
        write_sheet(selection.cards, out)
        return out.getvalue()

    body = await anyio.to_thread.run_sync(draw)
    headers = {"Cache-Control": "no-store", "Content-Disposition": f'inline; filename="{_sheet_name(zone)}"'}
    if selection.without_account:
        headers["X-Skipped-Stalls"] = ", ".join(selection.without_account)
    return Response(body, media_type=PDF, headers=headers)


ROUTES = [stall_qr_png, stall_qr_svg, stall_card_png, stall_card_pdf, print_sheet]
