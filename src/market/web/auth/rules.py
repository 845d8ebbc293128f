"""How a route declares who may call it: ``opt=needs(Permission.X)`` or ``opt=PUBLIC``.

One app-level guard (:mod:`market.web.auth.guard`) reads the declaration; a route without one is
refused, so a new route cannot be reachable by accident. Stall-scoped permissions name where the
stall comes from: the ``{stall}`` path parameter (checked by the guard) or the handler itself
(the stall is in the body or behind an intent's reference), which then calls ``require_stall``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from market.access.roles import STALL_SCOPED, Permission, Principal, allowed
from market.merchants.stall_codes import normalize_stall_code

__all__ = [
    "ACCESS",
    "PROVIDER",
    "PUBLIC",
    "STALL_FROM",
    "StallFrom",
    "is_api_path",
    "is_provider_path",
    "needs",
    "principal_of",
    "require",
    "require_stall",
    "stall_id_for",
]

ACCESS: Final = "access"
STALL_FROM: Final = "stall_from"
_PUBLIC_VALUE: Final = "public"
_PROVIDER_VALUE: Final = "provider"
# Anyone; the handler may still show more to a principal with a permission (the home page's figures).
PUBLIC: Final[dict[str, Any]] = {ACCESS: _PUBLIC_VALUE}
# A payment provider's call: public, authenticated by its own signature, never by a session.
PROVIDER: Final[dict[str, Any]] = {ACCESS: _PROVIDER_VALUE, "exclude_from_auth": True}
_PROVIDER_PREFIXES: Final = ("/webhooks/", "/vietqr/")


class StallFrom(StrEnum):
    """Where a stall-scoped route's stall is named."""

    PATH = "path"  # the ``{stall}`` path parameter: the guard checks it
    HANDLER = "handler"  # the body or a looked-up row: the handler calls ``require_stall``


def needs(permission: Permission, *, stall: StallFrom | None = None) -> dict[str, Any]:
    """The ``opt`` of a route that needs ``permission`` (for the stall named as ``stall`` says)."""
    if (permission in STALL_SCOPED) != (stall is not None):
        raise ValueError(f"{permission}: a stall-scoped permission needs stall=, and only those take it")
    return {ACCESS: permission, STALL_FROM: stall}


def is_public(rule: object) -> bool:
    """Whether a route's declaration lets anyone in."""
    return rule in (_PUBLIC_VALUE, _PROVIDER_VALUE)


def is_provider_path(path: str) -> bool:
    """A payment provider's route: signed by the provider, no session, no CSRF."""
    return path.startswith(_PROVIDER_PREFIXES)


def is_api_path(path: str) -> bool:
    """A JSON (or image) API route: answered with problem+json rather than pages."""
    return path.startswith("/api/")


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The request's principal, or ``None`` when anonymous (or not looked up: provider routes)."""
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None


def require(principal: Principal | None, permission: Permission, *, stall_id: int | None = None) -> Principal:
    """The principal, when ``allowed``; else 401 (nobody signed in) or 403.

    Raises:
        NotAuthorizedException: anonymous.
        PermissionDeniedException: signed in, but not allowed.
    """
    if principal is None:
        raise NotAuthorizedException("Sign in first: send a session cookie or an Authorization: Bearer token.")
    if not allowed(principal, permission, stall_id=stall_id):
        raise PermissionDeniedException(f"Your role ({principal.role}) may not do this ({permission}).")
    return principal


def stall_id_for(principal: Principal, code: str) -> int | None:
    """The stall id to check a stall-scoped permission against, for the stall ``code`` names.

    Staff need no stall (their permissions hold for every stall); a holder's own stall id when
    ``code`` is any spelling of their stall, else ``None`` (which ``allowed`` refuses).
    """
    if not principal.is_holder:
        return None
    try:
        normalized = normalize_stall_code(code)
    except ValueError:
        return None
    return principal.stall_id if normalized == principal.stall_code else None


def require_stall(principal: Principal | None, permission: Permission, code: str) -> Principal:
    """``require`` for the stall named ``code`` (a holder: only their own)."""
    if principal is None:
        return require(None, permission)
    return require(principal, permission, stall_id=stall_id_for(principal, code))
