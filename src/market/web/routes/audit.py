"""``GET /api/audit``: the audit log for the head of the market office (``admin``)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncEngine

from market.access import audit
from market.access.audit import AuditAction, AuditEntry
from market.access.roles import Permission
from market.web.auth.rules import needs

__all__ = ["ROUTES"]

MAX_EVENTS = 500


@get("/api/audit", tags=["access"], summary="The audit log, newest first", opt=needs(Permission.AUDIT_READ))
async def audit_log(
    engine: NamedDependency[AsyncEngine],
    action: Annotated[AuditAction | None, QueryParameter(description="Only events of this kind")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_EVENTS, description="How many")] = 100,
    offset: Annotated[int, QueryParameter(ge=0, le=2**31, description="Skip this many")] = 0,
) -> list[AuditEntry]:
    """Sign-ins (and failed or refused ones), sign-outs, users, role and password changes, tokens and
    stall links: who, what, on what, when. Never a password, a token or a national ID."""
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: audit.list_events(c, action=action, limit=limit, offset=offset))


ROUTES = [audit_log]
