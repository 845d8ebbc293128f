"""Who a request comes from: the session cookie (pages) or ``Authorization: Bearer`` (API).

Built on Litestar's ``AbstractAuthenticationMiddleware``: it sets ``scope["user"]`` to the
:class:`~market.access.roles.Principal` or ``None`` (anonymous), and ``scope["auth"]`` to how
(``"session"`` or ``"token"``). Provider routes (``/webhooks/*``, ``/vietqr/*``) are excluded by
path before anything else, so a webhook never pays for a lookup. A request with neither cookie
nor header costs no database call either.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from market.access.roles import Principal
from market.access.sessions import SessionPolicy, resolve_session
from market.access.tokens import resolve_token
from market.db import utcnow

__all__ = ["SESSION_COOKIE", "PrincipalMiddleware", "principal_middleware", "still_signed_in"]

log = logging.getLogger(__name__)
SESSION_COOKIE: Final = "market_session"
_ANONYMOUS: Final = AuthenticationResult(user=None, auth=None)
# Anchored: Litestar's exclude patterns match anywhere in the path otherwise.
_EXCLUDED: Final = [r"^/webhooks/", r"^/vietqr/"]


def _bearer(header: str) -> str:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _resolve(conn: Connection, *, token: str, cookie: str, policy: SessionPolicy) -> Principal | None:
    now = utcnow()
    if token:
        return resolve_token(conn, token, now=now)
    return resolve_session(conn, cookie, policy, now=now)


class PrincipalMiddleware(AbstractAuthenticationMiddleware):
    """Resolve the principal of each request (``None`` when anonymous; refusing is the guard's job)."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = _bearer(connection.headers.get("authorization", ""))
        cookie = connection.cookies.get(SESSION_COOKIE, "")
        if not token and not cookie:
            return _ANONYMOUS
        state = connection.app.state
        engine: AsyncEngine = state["engine"]
        policy: SessionPolicy = state["session_policy"]
        principal = await _lookup(engine, token=token, cookie=cookie, policy=policy)
        if principal is None:
            return _ANONYMOUS
        return AuthenticationResult(user=principal, auth="token" if token else "session")


async def _lookup(engine: AsyncEngine, *, token: str, cookie: str, policy: SessionPolicy) -> Principal | None:
    """The lookup and its occasional last-seen write, committed; the write is retried once with the
    SQLite write lock taken up front, for when another writer moved the database under our read."""
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(lambda c: _resolve(c, token=token, cookie=cookie, policy=policy))
    except OperationalError as exc:
        log.info("session lookup retried: %s", exc.orig)
    async with engine.connect() as conn:
        await conn.execution_options(sqlite_immediate=True)
        async with conn.begin():
            return await conn.run_sync(lambda c: _resolve(c, token=token, cookie=cookie, policy=policy))


def still_signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> Callable[[], Awaitable[bool]]:
    """A check, for a long answer (a stream), that the request's session or token still holds.

    Revoking a stall's link, signing out or disabling a user then ends the open streams too.
    """
    token = _bearer(connection.headers.get("authorization", ""))
    cookie = connection.cookies.get(SESSION_COOKIE, "")
    state = connection.app.state
    engine: AsyncEngine = state["engine"]
    policy: SessionPolicy = state["session_policy"]

    async def check() -> bool:
        if not token and not cookie:
            return True  # nothing to lose: the guard let an anonymous caller in
        return await _lookup(engine, token=token, cookie=cookie, policy=policy) is not None

    return check


def principal_middleware() -> DefineMiddleware:
    """The middleware as the app installs it: provider routes excluded, OPTIONS left alone."""
    return DefineMiddleware(PrincipalMiddleware, exclude=_EXCLUDED)
