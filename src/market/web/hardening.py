"""Browser hardening headers on every answer but the providers' and the API documentation's.

- ``Content-Security-Policy``: scripts, styles and images from this site only (no inline script:
  the pages' data travels in ``<script type="application/json">`` blocks, which run nothing),
  ``frame-ancestors 'none'`` (no framing, no clickjacking), forms post only here.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``, ``X-Frame-Options: DENY``
  for browsers that predate ``frame-ancestors``.

``/schema`` is left out: Swagger UI starts itself with an inline script. Provider routes are
left out too: nobody renders them, and they are the hot path.
"""

from __future__ import annotations

from typing import Final

from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SECURITY_HEADERS", "SecurityHeadersMiddleware", "security_headers_middleware"]

_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = {
    "content-security-policy": _CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
_RAW: Final = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
_SKIPPED: Final = ("/webhooks/", "/vietqr/", "/schema")


class SecurityHeadersMiddleware:
    """A pure ASGI middleware: adds the headers to the response start of every HTTP answer it sees."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"].startswith(_SKIPPED):
            await self.app(scope, receive, send)
            return

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in _RAW if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_hardened)


def security_headers_middleware() -> DefineMiddleware:
    """The middleware as the app installs it."""
    return DefineMiddleware(SecurityHeadersMiddleware)
