"""The stall registry over HTTP: ``/api/merchants`` (list, register), ``/api/merchants/{stall}`` (read,
change) and ``/api/merchants/{stall}/history``.

The stall path parameter takes any spelling of the code ("a12" finds ``A-12``). Changes are
attributed to the signed-in principal (``principal.actor``). Reading needs ``REGISTRY_READ``
(phones blanked without ``PHONES_READ``, national IDs only with ``NATIONAL_ID_READ``); writing
``REGISTRY_WRITE``. Rules live in
``market.merchants.service``; this module only translates HTTP to calls and back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from litestar import Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from market.access.roles import Permission, Principal
from market.config import Settings
from market.errors import FieldError, InvalidInputError
from market.merchants import service
from market.merchants.schemas import HistoryPage, StallIn, StallOut, StallPage, StallPatch, StallUpdate
from market.web.auth.rules import needs, principal_of, require
from market.web.redaction import history_for, stall_for, stalls_for

__all__ = ["ROUTES"]

T = TypeVar("T")
_TAGS = ["merchants"]
_READ = needs(Permission.REGISTRY_READ)
_WRITE = needs(Permission.REGISTRY_WRITE)
Include = Annotated[
    str | None,
    QueryParameter(name="include", required=False, description="`national_id` to include the holder's national ID"),
]


def _include_national_id(include: str | None, principal: Principal | None) -> bool:
    wanted = {part.strip() for part in (include or "").split(",") if part.strip()}
    unknown = wanted - {"national_id"}
    if unknown:
        raise InvalidInputError([FieldError("include", f"unknown value(s) {sorted(unknown)}; allowed: national_id")])
    if "national_id" in wanted:
        require(principal, Permission.NATIONAL_ID_READ)
        return True
    return False


def _actor(request: Request[Any, Any, Any]) -> str:
    # The guard let the request in only signed in: the principal is there.
    return require(principal_of(request), Permission.REGISTRY_WRITE).actor


async def _read(db_session: AsyncSession, call: Callable[[Connection], T]) -> T:
    conn = await db_session.connection()
    return await conn.run_sync(call)


async def _write(db_session: AsyncSession, call: Callable[[Connection], T]) -> T:
    # Read-then-write: on SQLite take the write lock at BEGIN so that two writers queue instead of
    # failing on lock upgrade (db.py ``_on_begin``); commit before answering.
    conn = await db_session.connection(execution_options={"sqlite_immediate": True})
    result = await conn.run_sync(call)
    await db_session.commit()
    return result


@get("/api/merchants", tags=_TAGS, summary="List and search stalls", opt=_READ)
async def list_merchants(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    zone: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    onboarding: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    limit: FromQuery[int] = 50,
    offset: FromQuery[int] = 0,
    include: Include = None,
) -> StallPage:
    """Stalls filtered by zone, category, status and onboarding state; ``q`` searches code, name and
    phone without diacritics ("nguyen" finds "Nguyễn"). ``total`` counts all matches."""
    filters = service.StallFilter(
        zone=zone, category=category, status=status, onboarding=onboarding, q=q, limit=limit, offset=offset
    )
    principal = principal_of(request)
    with_id = _include_national_id(include, principal)
    page = await _read(db_session, lambda c: service.list_stalls(c, filters, include_national_id=with_id))
    return stalls_for(principal, page)


@post("/api/merchants", tags=_TAGS, summary="Register a stall", opt=_WRITE)
async def create_merchant(
    request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], data: JSONBody[StallIn]
) -> StallOut:
    """Register a stall with its holder, accounts and onboarding state: 201, 409 for a code or an
    account already registered, 422 naming each bad field."""
    actor = _actor(request)
    return await _write(db_session, lambda c: service.create_stall(c, data, actor))


@get("/api/merchants/{stall:str}", tags=_TAGS, summary="One stall", opt=_READ)
async def get_merchant(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    stall: FromPath[str],
    include: Include = None,
) -> StallOut:
    """The stall, by any spelling of its code; 404 when there is none."""
    principal = principal_of(request)
    with_id = _include_national_id(include, principal)
    found = await _read(db_session, lambda c: service.get_stall(c, stall, include_national_id=with_id))
    return stall_for(principal, found)


@patch(
    "/api/merchants/{stall:str}",
    tags=_TAGS,
    summary="Change a stall",
    opt=_WRITE,
    responses={
        HTTP_202_ACCEPTED: ResponseSpec(
            StallUpdate, description="The other fields applied; the new accounts wait for a second person"
        )
    },
)
async def patch_merchant(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
    stall: FromPath[str],
    data: JSONBody[StallPatch],
) -> Response[StallOut | StallUpdate]:
    """Change the fields given (``accounts`` replaces the list); each change goes to the history.

    A change of the accounts waits for a second person's approval (``/api/account-changes``): the
    answer is then 202 with the pending change and the stall, its other fields applied, its
    accounts as before. With ``MARKET_ACCOUNT_CHANGE_APPROVAL=off`` it applies at once (200)."""
    actor = _actor(request)
    approval = settings.account_changes_need_approval
    done = await _write(db_session, lambda c: service.update_stall(c, stall, data, actor, approval=approval))
    if done.pending_change is not None:
        return Response(done, status_code=HTTP_202_ACCEPTED)
    return Response(done.stall, status_code=HTTP_200_OK)


@get("/api/merchants/{stall:str}/history", tags=_TAGS, summary="A stall's change history", opt=_READ)
async def merchant_history(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    stall: FromPath[str],
    limit: FromQuery[int] = 100,
    offset: FromQuery[int] = 0,
) -> HistoryPage:
    """Who changed what and when, newest first."""
    page = await _read(db_session, lambda c: service.stall_history(c, stall, limit=limit, offset=offset))
    return history_for(principal_of(request), page)


ROUTES = [list_merchants, create_merchant, get_merchant, patch_merchant, merchant_history]
