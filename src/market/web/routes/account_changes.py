"""Changes of a stall's receiving accounts that wait for a second person, over HTTP and as a page.

- ``GET /api/account-changes?state=pending&stall=…``: the changes, newest first.
- ``GET /api/account-changes/{id}``: one change, old → new.
- ``POST /api/account-changes/{id}/approve``: apply it (someone other than the requester);
  ``POST …/reject`` with ``{"reason": …}``. 404 for an unknown change, 409 when it is no longer
  pending or the approver asked for it.
- ``GET /quan-ly/tai-khoan-cho-duyet``: the office's page of pending changes, old and new accounts
  side by side, with a form to approve or reject each (posting to the small form routes below).

A change is requested by ``PATCH /api/merchants/{stall}`` with ``accounts`` (answered 202). Rules
live in ``market.merchants.account_changes``; who acts comes from the same place as for the
registry's other routes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_303_SEE_OTHER,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from market.access.roles import Permission
from market.config import Settings
from market.errors import InvalidInputError, MarketError, NotFoundError
from market.merchants import account_changes
from market.merchants.schemas import AccountChangeOut, AccountChangePage
from market.web.auth.rules import needs, principal_of, require
from market.web.page_context import Page
from market.web.routes.merchants import _read, _write

__all__ = ["ROUTES"]

_TAGS = ["merchants"]
PAGE_PATH = "/quan-ly/tai-khoan-cho-duyet"
_APPROVE = needs(Permission.ACCOUNTS_APPROVE)
_READ = needs(Permission.REGISTRY_READ)


def _approver(request: Request[Any, Any, Any]) -> str:
    """Who decides: the signed-in principal (the guard let only those with the permission in)."""
    return require(principal_of(request), Permission.ACCOUNTS_APPROVE).actor


class RejectIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Why a change is refused (kept with it)."""

    reason: str


class RejectForm(msgspec.Struct, kw_only=True):
    """The page's reject form."""

    reason: str = ""


# ``state`` is a name Litestar reserves for the app state, hence ``show`` in Python.
StateQuery = Annotated[
    str, QueryParameter(name="state", description="pending (default), approved, rejected, superseded or all")
]


@get("/api/account-changes", tags=_TAGS, summary="Changes of stalls' accounts", opt=_APPROVE)
async def list_account_changes(
    db_session: NamedDependency[AsyncSession],
    show: StateQuery = "pending",
    stall: FromQuery[str | None] = None,
    limit: FromQuery[int] = 100,
    offset: FromQuery[int] = 0,
) -> AccountChangePage:
    """Changes of stalls' receiving accounts, newest first; pending ones unless ``state`` says."""
    return await _read(
        db_session, lambda c: account_changes.list_changes(c, state=show, stall=stall, limit=limit, offset=offset)
    )


@get("/api/account-changes/{change_id:int}", tags=_TAGS, summary="One change of a stall's accounts", opt=_READ)
async def get_account_change(db_session: NamedDependency[AsyncSession], change_id: FromPath[int]) -> AccountChangeOut:
    """The change, its old and new accounts, who asked and who decided; 404 when there is none."""
    return await _read(db_session, lambda c: account_changes.get_change(c, change_id))


@post(
    "/api/account-changes/{change_id:int}/approve",
    tags=_TAGS,
    summary="Approve a change of a stall's accounts",
    status_code=HTTP_200_OK,
    opt=_APPROVE,
)
async def approve_account_change(
    request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], change_id: FromPath[int]
) -> AccountChangeOut:
    """Apply a pending change as a second person: the stall's QR, card and new intents pay the new
    default account from now on, and its printed card is marked as needing a reprint. 409 when the
    change is no longer pending, or the approver requested it."""
    actor = _approver(request)
    return await _write(db_session, lambda c: account_changes.approve(c, change_id, actor=actor))


@post(
    "/api/account-changes/{change_id:int}/reject",
    tags=_TAGS,
    summary="Reject a change of a stall's accounts",
    status_code=HTTP_200_OK,
    opt=_APPROVE,
)
async def reject_account_change(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    change_id: FromPath[int],
    data: JSONBody[RejectIn],
) -> AccountChangeOut:
    """Refuse a pending change, with a reason; the stall keeps its accounts. 409 when it is no longer pending."""
    actor = _approver(request)
    return await _write(db_session, lambda c: account_changes.reject(c, change_id, actor=actor, reason=data.reason))


async def _render(
    request: Request[Any, Any, Any],
    settings: Settings,
    db_session: AsyncSession,
    *,
    status: int = HTTP_200_OK,
    failed: str | None = None,
) -> Template:
    page = Page(request, settings)
    pending = await _read(
        db_session, lambda c: account_changes.list_changes(c, state="pending", limit=account_changes.MAX_PAGE)
    )
    done = request.query_params.get("done")
    outcome = request.query_params.get("outcome")
    message = page.t(f"changes.done.{outcome}", id=done) if done and outcome in ("approved", "rejected") else None
    return page.render("account_changes.html.j2", status=status, pending=pending, message=message, failed=failed)


@get(PAGE_PATH, include_in_schema=False, opt=_APPROVE)
async def account_changes_page(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], db_session: NamedDependency[AsyncSession]
) -> Template:
    """Pending changes of stalls' accounts, old and new side by side, each with approve and reject."""
    return await _render(request, settings, db_session)


async def _decide_by_form(
    request: Request[Any, Any, Any],
    settings: Settings,
    db_session: AsyncSession,
    call: Callable[[Connection], AccountChangeOut],
    change_id: int,
    outcome: str,
) -> Redirect | Template:
    try:
        await _write(db_session, call)
    except MarketError as exc:
        await db_session.rollback()
        status = HTTP_409_CONFLICT
        if isinstance(exc, NotFoundError):
            status = HTTP_404_NOT_FOUND
        elif isinstance(exc, InvalidInputError):
            status = HTTP_422_UNPROCESSABLE_ENTITY
        return await _render(request, settings, db_session, status=status, failed=exc.detail)
    lang = "&lang=en" if request.query_params.get("lang") == "en" else ""
    return Redirect(f"{PAGE_PATH}?done={change_id}&outcome={outcome}{lang}", status_code=HTTP_303_SEE_OTHER)


@post(f"{PAGE_PATH}/{{change_id:int}}/duyet", include_in_schema=False, opt=_APPROVE)
async def approve_by_form(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    db_session: NamedDependency[AsyncSession],
    change_id: FromPath[int],
) -> Redirect | Template:
    """The page's approve button: back to the page, with what was done or why it could not be."""
    actor = _approver(request)

    def call(conn: Connection) -> AccountChangeOut:
        return account_changes.approve(conn, change_id, actor=actor)

    return await _decide_by_form(request, settings, db_session, call, change_id, "approved")


@post(f"{PAGE_PATH}/{{change_id:int}}/tu-choi", include_in_schema=False, opt=_APPROVE)
async def reject_by_form(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    db_session: NamedDependency[AsyncSession],
    change_id: FromPath[int],
    data: Annotated[RejectForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect | Template:
    """The page's reject form (a reason is required)."""
    actor = _approver(request)

    def call(conn: Connection) -> AccountChangeOut:
        return account_changes.reject(conn, change_id, actor=actor, reason=data.reason)

    return await _decide_by_form(request, settings, db_session, call, change_id, "rejected")


ROUTES = [
    list_account_changes,
    get_account_change,
    approve_account_change,
    reject_account_change,
    account_changes_page,
    approve_by_form,
    reject_by_form,
]
