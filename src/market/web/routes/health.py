"""Liveness with database reachability: 200 when the database answers, 503 when it does not."""

from __future__ import annotations

import msgspec
from litestar import MediaType, Response, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncEngine

import market
from market.db import database_reachable
from market.web.auth.rules import PUBLIC
from market.web.problems import problem

__all__ = ["ROUTES"]


class Health(msgspec.Struct, frozen=True):
    status: str
    database: str
    version: str


@get("/healthz", media_type=MediaType.JSON, tags=["system"], summary="Liveness and database reachability", opt=PUBLIC)
async def healthz(engine: NamedDependency[AsyncEngine]) -> Response[Health] | Response[bytes]:
    """Answer 200 when the database answers ``SELECT 1``, else a 503 problem document."""
    if await database_reachable(engine):
        return Response(Health(status="ok", database="ok", version=market.__version__))
    return problem(503, "The database cannot be reached.", extra={"database": "unreachable"})


ROUTES = [healthz]
