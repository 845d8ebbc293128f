"""Signing in and out: ``GET/POST /dang-nhap``, ``POST /dang-xuat``, and a stall's link ``GET /s/{token}``.

Passwords are checked with Argon2id, which takes tens of milliseconds of CPU: the check runs in
a worker thread on a blocking engine, never on the event loop. A wrong password is answered
after the throttle's delay; too many are refused with 429 and ``Retry-After``. Each sign-in
starts a new session and ends the one the browser came with (the id changes at sign-in). The
domain (:mod:`market.access.signin`) records sign-ins, failures, refusals and link use in the
audit log; sign-out is recorded here.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Final

import anyio
import anyio.to_thread
import msgspec
from litestar import Litestar, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from market.access import audit
from market.access.audit import AuditAction
from market.access.roles import Principal, Role
from market.access.sessions import SessionPolicy, end_session
from market.access.signin import Outcome, SignInResult, sign_in, sign_in_by_link
from market.config import Settings
from market.db import create_sync_engine_for, utcnow
from market.web.auth.answers import SIGN_IN_PATH, safe_next
from market.web.auth.middleware import SESSION_COOKIE
from market.web.auth.rules import PUBLIC, principal_of
from market.web.page_context import Page

__all__ = ["LIFESPAN", "ROUTES", "home_of"]

_FORM: Final = Body(media_type=RequestEncodingType.URL_ENCODED)
_HOMES: Final = {
    Role.ADMIN: "/quan-ly/sap",
    Role.OFFICE: "/quan-ly/sap",
    Role.COMMUNE: "/bao-cao",
    Role.TEAM: "/quan-ly/sap",
}


class SignInForm(msgspec.Struct, kw_only=True):
    """The sign-in form's fields (``csrf`` is checked by the guard before the handler runs)."""

    username: str = ""
    password: str = ""
    next: str = ""
    csrf: str = ""


@asynccontextmanager
async def password_engine(app: Litestar) -> AsyncGenerator[None, None]:
    """A small blocking engine for the password checks that run in worker threads."""
    engine = create_sync_engine_for(app.state.settings)
    app.state.signin_engine = engine
    try:
        yield
    finally:
        engine.dispose()


async def _hold(seconds: float) -> None:
    """Wait before answering a wrong password (the throttle's delay); tests replace it."""
    await anyio.sleep(seconds)


def home_of(principal: Principal) -> str:
    """Where a principal lands after signing in when no page was asked for."""
    if principal.is_holder:
        return f"/sap/{principal.stall_code}/nhan-tien"
    return _HOMES[principal.role]


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _session_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def _form(page: Page, *, next_path: str, status: int = 200, error: str | None = None, username: str = "") -> Template:
    return page.render("signin.html.j2", status=status, next_path=next_path, error=error, username=username)


@get(SIGN_IN_PATH, include_in_schema=False, opt=PUBLIC)
async def sign_in_page(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], next: FromQuery[str] = ""
) -> Template:
    """The sign-in form, Vietnamese first."""
    return _form(Page(request, settings), next_path=safe_next(next, ""))


def _check(engine: Engine, form: SignInForm, *, address: str, policy: SessionPolicy, replacing: str | None) -> Any:
    with engine.begin() as conn:
        return sign_in(
            conn, form.username, form.password, address=address, policy=policy, now=utcnow(), replacing=replacing
        )


@post(SIGN_IN_PATH, include_in_schema=False, opt=PUBLIC, status_code=303)
async def sign_in_submit(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    data: Annotated[SignInForm, _FORM],
) -> Template | Redirect:
    """Check the password; on success a new session and on to ``next`` or the principal's home."""
    page = Page(request, settings)
    next_path = safe_next(data.next, "")
    policy: SessionPolicy = request.app.state["session_policy"]
    engine: Engine = request.app.state["signin_engine"]
    replacing = request.cookies.get(SESSION_COOKIE) or None
    address = _address(request)
    result: SignInResult = await anyio.to_thread.run_sync(
        lambda: _check(engine, data, address=address, policy=policy, replacing=replacing)
    )
    if result.outcome is Outcome.REFUSED:
        wait = max(1, math.ceil(result.retry_after))
        answer = _form(page, next_path=next_path, status=429, error=page.t("signin.refused"), username=data.username)
        answer.headers["Retry-After"] = str(wait)
        return answer
    if result.outcome is Outcome.WRONG or result.principal is None or result.cookie is None:
        await _hold(result.delay)
        return _form(page, next_path=next_path, status=401, error=page.t("signin.wrong"), username=data.username)
    cookie = _session_cookie(settings, result.cookie, int(policy.max_age.total_seconds()))
    return Redirect(next_path or home_of(result.principal), status_code=303, cookies=[cookie])


@post("/dang-xuat", include_in_schema=False, opt=PUBLIC, status_code=303)
async def sign_out(request: Request[Any, Any, Any], engine: NamedDependency[AsyncEngine]) -> Redirect:
    """End this browser's session (the form carries the CSRF token), then the sign-in page."""
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = principal_of(request)
    if cookie:
        async with engine.begin() as conn:
            ended = await conn.run_sync(lambda c: end_session(c, cookie))
            if ended and principal is not None:
                actor = principal.actor
                await conn.run_sync(
                    lambda c: audit.record(c, AuditAction.SIGN_OUT, actor=actor, subject=actor, now=utcnow())
                )
    answer = Redirect(SIGN_IN_PATH, status_code=303)
    answer.delete_cookie(SESSION_COOKIE, path="/")
    return answer


@get("/s/{token:str}", include_in_schema=False, opt=PUBLIC)
async def link_sign_in(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    engine: NamedDependency[AsyncEngine],
    token: FromPath[str],
) -> Template | Redirect:
    """A stall holder's link: this phone is signed in to that stall, on to its live screen."""
    policy: SessionPolicy = request.app.state["session_policy"]
    replacing = request.cookies.get(SESSION_COOKIE) or None
    address = _address(request)
    async with engine.connect() as conn:
        await conn.execution_options(sqlite_immediate=True)
        async with conn.begin():
            found = await conn.run_sync(
                lambda c: sign_in_by_link(c, token, address=address, policy=policy, now=utcnow(), replacing=replacing)
            )
    if found is None:
        return Page(request, settings).render("link_invalid.html.j2", status=410)
    principal, value = found
    cookie = _session_cookie(settings, value, int(policy.link_age.total_seconds()))
    return Redirect(home_of(principal), status_code=303, cookies=[cookie])


ROUTES = [sign_in_page, sign_in_submit, sign_out, link_sign_in]
LIFESPAN = [password_engine]
