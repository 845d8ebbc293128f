"""The web pages, rendered on the server: Vietnamese first, English with ``?lang=en``.

- ``/``: the market, a short adoption summary, the three areas.
- ``/sap/{stall}``: a stall holder's page (QR, card, receiving account);
  ``/sap/{stall}/nhan-tien``: the live "payment received" screen, which speaks each payment.
- ``/quan-ly/sap``, ``/quan-ly/sap/{stall}``: the registry for market management;
  ``/quan-ly/doi-soat``: payments waiting for a person.
- ``/bao-cao``: adoption figures and the commune's downloads.

Pages answer HTML, errors included (a friendly 404 for an unknown stall); the JSON API keeps
Pages are small and script-light for cheap phones on 3G: no framework, nothing from a CDN.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from market import formats
from market.access.roles import Permission, allowed
from market.adoption import metrics
from market.config import Settings
from market.errors import InvalidInputError, NotFoundError
from market.merchants import service
from market.merchants.schemas import StallOut
from market.merchants.stall_codes import normalize_stall_code
from market.merchants.stall_ops import stall_row_id
from market.reconcile.ledger import review_queue as review
from market.reconcile.ledger.receipts import day_total, latest_receipt_id, recent_receipts
from market.web.auth.rules import PUBLIC, StallFrom, needs, principal_of
from market.web.page_context import Page
from market.web.redaction import stalls_for

__all__ = ["ROUTES"]

log = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_SIZE: Final = 50
_REVIEW_LIMIT = 100
# What the live screen's script says and shows by itself (i18n keys).
_LIVE_STRINGS = (
    "live.state.connecting",
    "live.state.open",
    "live.state.lost",
    "live.sound.on",
    "live.payer.unknown",
    "live.reversal",
    "live.say",
    "live.say.reversal",
    "live.count",
)


async def _read(engine: AsyncEngine, call: Callable[[Connection], T]) -> T:
    async with engine.connect() as conn:
        return await conn.run_sync(call)


# --- home ---------------------------------------------------------------------------------


def _summary(conn: Connection, settings: Settings) -> Any:
    return metrics.adoption(
        conn, as_of=formats.local_today(settings.timezone), window=30, timezone=settings.timezone, trend=False
    )


@get("/", include_in_schema=False, opt=PUBLIC)
async def home(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], engine: NamedDependency[AsyncEngine]
) -> Template:
    """The market's front page; its figures only for a principal who may read them."""
    page = Page(request, settings)
    figures = None
    may_see_figures = allowed(principal_of(request), Permission.ADOPTION_READ)
    if may_see_figures:
        figures = await _read(engine, lambda c: _summary(c, settings))
    names = _figure_names(figures, page.t.lang)
    return page.render("home.html.j2", figures=figures, names=names, may_see_figures=may_see_figures)


# --- stall holder ---------------------------------------------------------------------------


# Public: it only turns a typed code into the stall page's address, which is guarded itself.
@get("/sap", include_in_schema=False, opt=PUBLIC)
async def find_stall(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], ma: FromQuery[str] = ""
) -> Redirect | Template:
    """The "open my stall" form: on to the stall's page, whatever spelling was typed ("sạp a12")."""
    typed = ma.strip()
    if not typed:
        return Redirect("/")
    try:
        code = normalize_stall_code(typed)
    except ValueError:
        return Page(request, settings).not_found(typed)
    return Redirect(f"/sap/{code}")


async def _stall_view(
    request: Request[Any, Any, Any],
    settings: Settings,
    engine: AsyncEngine,
    stall: str,
    load: Callable[[Connection], T],
    show: Callable[[Page, T], Template],
) -> Template:
    """A page about one stall: ``load`` reads it, ``show`` renders it; the friendly 404 for no such stall."""
    page = Page(request, settings)
    try:
        found = await _read(engine, load)
    except NotFoundError:
        return page.not_found(stall)
    return show(page, found)


def _default_account(stall: StallOut) -> Any | None:
    return next((a for a in stall.accounts if a.is_default), stall.accounts[0] if stall.accounts else None)


@get("/sap/{stall:str}", include_in_schema=False, opt=needs(Permission.STALL_CARD, stall=StallFrom.PATH))
async def stall_page(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    engine: NamedDependency[AsyncEngine],
    stall: FromPath[str],
) -> Template:
    """A stall holder's page: QR, card, receiving account, and the way to the live screen."""

    def show(page: Page, found: StallOut) -> Template:
        return page.render("stall.html.j2", stall=found, account=_default_account(found))

    return await _stall_view(request, settings, engine, stall, lambda c: service.get_stall(c, stall), show)


@get(
    "/sap/{stall:str}/nhan-tien",
    include_in_schema=False,
    opt=needs(Permission.STALL_TAKINGS, stall=StallFrom.PATH),
)
async def live_page(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    engine: NamedDependency[AsyncEngine],
    stall: FromPath[str],
) -> Template:
    """The live "payment received" screen: today's payments, then each new one shown and spoken."""
    today = formats.local_today(settings.timezone)

    def load(conn: Connection) -> tuple[str, int, list[Any], tuple[int, int]]:
        stall_id, code = stall_row_id(conn, stall)
        since = latest_receipt_id(conn, stall_id)
        return code, since, recent_receipts(conn, stall_id, day=today), day_total(conn, stall_id, today)

    def show(page: Page, found: tuple[str, int, list[Any], tuple[int, int]]) -> Template:
        code, since, payments, (count, total) = found
        strings = {key.removeprefix("live."): page.t(key) for key in _LIVE_STRINGS}
        return page.render(
            "live.html.j2",
            code=code,
            since=since,
            payments=payments,
            count=count,
            total=total,
            strings=strings,
            timezone=settings.timezone,
        )

    return await _stall_view(request, settings, engine, stall, load, show)


# --- management -----------------------------------------------------------------------------


@get("/quan-ly/sap", include_in_schema=False, opt=needs(Permission.REGISTRY_READ))
async def manage_stalls(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    engine: NamedDependency[AsyncEngine],
    q: FromQuery[str] = "",
    zone: FromQuery[str] = "",
    category: FromQuery[str] = "",
    status: FromQuery[str] = "",
    onboarding: FromQuery[str] = "",
    page_number: FromQuery[int] = 1,
) -> Template:
    """The registry: search without diacritics ("nguyen" finds "Nguyễn"), filters, pages of 50."""
    page = Page(request, settings)
    number = max(page_number, 1)
    filters = service.StallFilter(
        zone=zone or None,
        category=category or None,
        status=status or None,
        onboarding=onboarding or None,
        q=q or None,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    chosen = {"q": q, "zone": zone, "category": category, "status": status, "onboarding": onboarding}
    zones = await _read(engine, service.zones)
    try:
        result = stalls_for(page.principal, await _read(engine, lambda c: service.list_stalls(c, filters)))
    except InvalidInputError as exc:
        return page.render("manage_list.html.j2", status=422, errors=exc.errors, chosen=chosen, zones=zones)
    pages = max(1, math.ceil(result.total / PAGE_SIZE))
    kept = {k: v for k, v in chosen.items() if v}
    if page.t.lang != "vi":
        kept["lang"] = page.t.lang

    def page_url(n: int) -> str:
        return f"{page.path}?{urlencode({**kept, 'page_number': n})}"

    return page.render(
        "manage_list.html.j2",
        result=result,
        chosen=chosen,
        zones=zones,
        page_number=number,
        pages=pages,
        prev_url=page_url(number - 1) if number > 1 else None,
        next_url=page_url(number + 1) if number < pages else None,
    )


# The office's view of one stall shows its accounts and history: registry writers only.
@get("/quan-ly/sap/{stall:str}", include_in_schema=False, opt=needs(Permission.REGISTRY_WRITE))
async def manage_stall(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    engine: NamedDependency[AsyncEngine],
    stall: FromPath[str],
) -> Template:
    """One stall for the office: holder, accounts, onboarding, recent payments, history, card links."""

    def load(conn: Connection) -> tuple[StallOut, Any, list[Any]]:
        found = service.get_stall(conn, stall)
        stall_id, _ = stall_row_id(conn, found.code)
        return found, service.stall_history(conn, found.code, limit=50), recent_receipts(conn, stall_id, limit=20)

    def show(page: Page, loaded: tuple[StallOut, Any, list[Any]]) -> Template:
        found, history, payments = loaded
        return page.render("manage_stall.html.j2", stall=found, history=history, payments=payments)

    return await _stall_view(request, settings, engine, stall, load, show)


def _review_queue(conn: Connection) -> Any:
    return review.list_unmatched(conn, state="open", limit=_REVIEW_LIMIT)


@get("/quan-ly/doi-soat", include_in_schema=False, opt=needs(Permission.REVIEW_QUEUE))
async def review_queue(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], engine: NamedDependency[AsyncEngine]
) -> Template:
    """Payments automation would not attribute, with ranked suggestions and a form to decide each."""
    page = Page(request, settings)
    queue = await _read(engine, _review_queue)
    strings = {key.removeprefix("review."): page.t(key) for key in ("review.done", "review.failed")}
    return page.render("review.html.j2", queue=queue, strings=strings)


# --- commune --------------------------------------------------------------------------------


def _figure_names(figures: Any | None, lang: str) -> dict[str, str]:
    """Indicator key → name in the page language (the figures carry their own definitions)."""
    if figures is None:
        return {}
    return {d.key: (d.name_en if lang == "en" else d.name) for d in figures.definitions}


def _report_figures(conn: Connection, settings: Settings) -> tuple[Any, Any]:
    today, tz = formats.local_today(settings.timezone), settings.timezone
    by_zone = metrics.adoption(conn, as_of=today, window=30, by="zone", timezone=tz, trend=False)
    by_category = metrics.adoption(conn, as_of=today, window=30, by="category", timezone=tz, trend=False)
    return by_zone, by_category


@get("/bao-cao", include_in_schema=False, opt=needs(Permission.ADOPTION_READ))
async def report_page(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], engine: NamedDependency[AsyncEngine]
) -> Template:
    """Adoption figures (numerator / denominator) by zone and category, and the commune's downloads."""
    page = Page(request, settings)
    by_zone, by_category = await _read(engine, lambda c: _report_figures(c, settings))
    return page.render(
        "report.html.j2",
        figures=by_zone,
        by_category=by_category,
        names=_figure_names(by_zone, page.t.lang),
        period=formats.local_today(settings.timezone).strftime("%Y-%m"),
    )


ROUTES = [home, find_stall, stall_page, live_page, manage_stalls, manage_stall, review_queue, report_page]
