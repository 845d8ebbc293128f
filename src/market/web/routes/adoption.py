"""Adoption figures and reports over HTTP (public contract).

- ``GET /api/adoption?window=30&by=zone|category&as_of=YYYY-MM-DD``: the figures, JSON.
- ``GET /api/reports/commune?period=YYYY-MM&format=json|csv|xlsx|pdf``: the "Xã hội số" report.
- ``GET /api/reports/visits?format=csv|pdf``: the community digital team's visit list.
- ``GET /api/reports/surveys``, ``PUT /api/reports/surveys/{key}``: survey indicators entered by hand.

Queries run on the request's connection through ``run_sync``: the same SQL as the CLI.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import quote

import msgspec
from litestar import Request, Response, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from market.access.roles import Permission
from market.adoption.commune import (
    SurveyIn,
    SurveyOut,
    SurveyResult,
    commune_report,
    list_surveys,
    parse_period,
    save_survey,
)
from market.adoption.export.render import Rendered, render
from market.adoption.figures import Adoption
from market.adoption.metrics import MAX_WINDOW_DAYS, adoption, parse_as_of
from market.adoption.visits import visit_list
from market.config import Settings
from market.formats import local_today
from market.web.auth.rules import needs, principal_of, require

__all__ = ["ROUTES"]

_TAGS = ["adoption"]
_ADOPTION = needs(Permission.ADOPTION_READ)


def _file(rendered: Rendered) -> Response[bytes]:
    # RFC 6266: an ASCII fallback name plus the UTF-8 one (our names are ASCII, both given for old clients).
    disposition = "inline" if rendered.media_type.startswith("application/json") else "attachment"
    header = f"{disposition}; filename=\"{rendered.filename}\"; filename*=UTF-8''{quote(rendered.filename)}"
    return Response(rendered.content, media_type=rendered.media_type, headers={"Content-Disposition": header})


@get("/api/adoption", tags=_TAGS, summary="Adoption figures (numerator / denominator)", opt=_ADOPTION)
async def get_adoption(
    db_session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    window: Annotated[int, QueryParameter(ge=1, le=MAX_WINDOW_DAYS, description="Days of the main window.")] = 30,
    by: Annotated[Literal["zone", "category"] | None, QueryParameter(description="Split by zone or category.")] = None,
    as_of: Annotated[str | None, QueryParameter(description="Data cut-off day, YYYY-MM-DD (default today).")] = None,
    trend: Annotated[bool, QueryParameter(description="Include the 12-month trend (from the monthly rollup).")] = True,
) -> Adoption:
    """Every adoption figure as of ``as_of``, with its definition; see ``definitions`` and ``rules``."""
    day = parse_as_of(as_of, settings.timezone)
    conn = await db_session.connection()
    return await conn.run_sync(
        lambda sync: adoption(sync, as_of=day, window=window, by=by, timezone=settings.timezone, trend=trend)
    )


@get("/api/reports/commune", tags=_TAGS, summary="The commune's Xã hội số report", opt=_ADOPTION)
async def get_commune_report(
    db_session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    period: Annotated[str, QueryParameter(description="Reporting month, YYYY-MM.")],
    format: Annotated[Literal["json", "csv", "xlsx", "pdf"], QueryParameter(description="File format.")] = "json",
    issued_on: Annotated[dt.date | None, QueryParameter(description="Date in the header (default today).")] = None,
) -> Response[bytes]:
    """The indicator table for ``period``, as JSON, CSV (UTF-8 BOM), XLSX or PDF (A4)."""
    today = local_today(settings.timezone)
    month = parse_period(period, today)
    conn = await db_session.connection()
    report = await conn.run_sync(
        lambda sync: commune_report(
            sync, month, market_name=settings.market_name, issued_on=issued_on or today, timezone=settings.timezone
        )
    )
    return _file(render(report, format))


@get(
    "/api/reports/visits",
    tags=_TAGS,
    summary="Stalls for the community digital team to visit",
    opt=needs(Permission.VISITS_READ),
)
async def get_visits(
    db_session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    format: Annotated[Literal["csv", "pdf", "json"], QueryParameter(description="File format.")] = "csv",
    as_of: Annotated[str | None, QueryParameter(description="Day of the round, YYYY-MM-DD (default today).")] = None,
) -> Response[bytes]:
    """The visit list in walking order (zone, row, stall number)."""
    day = parse_as_of(as_of, settings.timezone)
    conn = await db_session.connection()
    visits = await conn.run_sync(lambda sync: visit_list(sync, as_of=day, timezone=settings.timezone))
    return _file(render(visits, format, market_name=settings.market_name))


@get("/api/reports/surveys", tags=_TAGS, summary="Survey indicators entered by hand", opt=_ADOPTION)
async def get_surveys(db_session: NamedDependency[AsyncSession]) -> list[SurveyOut]:
    """Every stored survey result, by indicator then date."""
    conn = await db_session.connection()
    return await conn.run_sync(lambda sync: list_surveys(sync))


class SurveyBody(SurveyResult, frozen=True, kw_only=True):
    """A survey result: ``numerator`` of ``denominator`` on ``surveyed_on``."""

    # Part of the JSON contract, but its value is ignored: the signed-in principal is recorded.
    recorded_by: str = "api"


@put(
    "/api/reports/surveys/{key:str}",
    tags=_TAGS,
    summary="Enter or correct a survey indicator",
    opt=needs(Permission.SURVEY_WRITE),
)
async def put_survey(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    key: FromPath[str],
    data: JSONBody[SurveyBody],
) -> SurveyOut:
    """Store ``key``'s survey result for that date (the same key and date replace the earlier one)."""
    fields: dict[str, Any] = msgspec.structs.asdict(data)
    fields.pop("recorded_by")
    actor = require(principal_of(request), Permission.SURVEY_WRITE).actor
    entry = SurveyIn(key=key, **fields)
    today = local_today(settings.timezone)
    conn = await db_session.connection()
    stored = await conn.run_sync(lambda sync: save_survey(sync, entry, actor, today))
    await db_session.commit()
    return stored


ROUTES = [get_adoption, get_commune_report, get_visits, get_surveys, put_survey]
