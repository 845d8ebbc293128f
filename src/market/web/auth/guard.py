"""The one app-level guard: every route's declared access rule, and the checks of unsafe methods.

- A route whose ``opt`` has no ``access`` key is refused (403) whoever calls it: declaring is
  not optional, so a new route cannot slip through.
- ``PUBLIC`` and ``PROVIDER`` routes let anyone in; the others need their permission
  (``require``), on the ``{stall}`` of the path when they say so.
- Unsafe methods: JSON API routes accept only a JSON body (415 otherwise), so that no cross-site
  form can post them; page forms must carry the CSRF token (403 otherwise). Provider routes read
  their raw bodies and are signed: neither check applies to them.
"""

from __future__ import annotations

from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from market.access.roles import Permission
from market.config import Settings
from market.web.auth import csrf
from market.web.auth.rules import (
    ACCESS,
    STALL_FROM,
    StallFrom,
    is_api_path,
    is_provider_path,
    is_public,
    principal_of,
    require,
    require_stall,
)

__all__ = ["CSRF_EXEMPT", "access_guard"]

# A route that takes no browser form and changes nothing a forged request could abuse may say so
# (the same key as Litestar's CSRF middleware).
CSRF_EXEMPT: Final = "exclude_from_csrf"
_SAFE: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


class UnsupportedMediaType(HTTPException):
    """415: a JSON endpoint was sent something other than JSON."""

    status_code = 415


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _has_body(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    headers = connection.headers
    return headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers


def _check_permission(connection: ASGIConnection[Any, Any, Any, Any], rule: Any, stall_from: Any) -> None:
    principal = principal_of(connection)
    permission = Permission(rule)
    if stall_from == StallFrom.PATH:
        require_stall(principal, permission, str(connection.path_params.get("stall", "")))
    elif stall_from == StallFrom.HANDLER and principal is not None and principal.is_holder:
        # The role may do it on its own stall; the handler checks the stall once it knows it.
        require(principal, permission, stall_id=principal.stall_id)
    else:
        require(principal, permission)


async def _check_unsafe(connection: ASGIConnection[Any, Any, Any, Any], opt: dict[str, Any]) -> None:
    content_type = connection.headers.get("content-type", "").lower()
    if is_api_path(connection.scope["path"]):
        if _has_body(connection) and not _is_json(content_type):
            raise UnsupportedMediaType(detail="This endpoint accepts only application/json bodies.")
        return
    if connection.scope.get("auth") == "token" or opt.get(CSRF_EXEMPT):
        return  # a bearer token is never sent by a browser on its own: nothing to forge
    submitted = None
    if content_type.startswith(_FORMS):
        form = await connection.form()  # type: ignore[attr-defined]
        value = form.get(csrf.FIELD)
        submitted = value if isinstance(value, str) else None
    settings: Settings = connection.app.state["settings"]
    if not csrf.valid(settings.secret_key, connection.cookies.get(csrf.COOKIE), submitted):
        raise PermissionDeniedException("The form's security token is missing or stale: reload the page.")


def _is_automatic_options(route_handler: BaseRouteHandler) -> bool:
    """The OPTIONS handler Litestar adds to every path by itself (it declares nothing, it shows nothing)."""
    fn = getattr(route_handler, "fn", None)
    return getattr(fn, "__name__", "") == "options_handler" and getattr(fn, "__module__", "") == "litestar.routes.http"


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler) -> None:
    """Let the request through to ``route_handler``, or raise 401 / 403 / 415."""
    opt = route_handler.opt
    rule = opt.get(ACCESS)
    if rule is None and _is_automatic_options(route_handler):
        return  # Litestar's own answer to OPTIONS: the Allow header, nothing of ours runs
    if rule is None:
        raise PermissionDeniedException("This route declares no access rule, so nobody may call it.")
    if not is_public(rule):
        _check_permission(connection, rule, opt.get(STALL_FROM))
    if connection.scope.get("method", "GET") not in _SAFE and not is_provider_path(connection.scope["path"]):
        await _check_unsafe(connection, opt)
