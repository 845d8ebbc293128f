"""Answer only requests whose ``Host`` is one of ours (``MARKET_ALLOWED_HOSTS`` and the defaults).

A forged Host header would otherwise reach the pages, which build links from it. Litestar's
``AllowedHostsConfig`` is not used: it compares the whole header, port included, so a server on
any port but 80/443 would need every ``host:port`` listed, and the port ``market serve --port``
was given is not among the settings the app sees. Here the port is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Receive, Scope, Send

from market.web.problems import PROBLEM_JSON

__all__ = ["AllowedHostsMiddleware", "allowed_hosts_middleware", "host_name"]

_REFUSED = (
    b'{"type":"about:blank","title":"Bad request","status":400,"detail":"This server does not answer that host name."}'
)


def host_name(header: str) -> str:
    """The name of a Host header without its port: ``[::1]:8000`` is ``[::1]``, ``Cho.VN:80`` is ``cho.vn``."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class AllowedHostsMiddleware:
    """A pure ASGI middleware: 400 problem+json for a Host header not in the list."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(host_name(host) for host in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind: str = scope["type"]  # the app's middleware also sees the lifespan scope
        if kind not in (ScopeType.HTTP, ScopeType.WEBSOCKET):
            await self.app(scope, receive, send)
            return
        host = next((value for name, value in scope.get("headers", []) if name == b"host"), b"")
        if host_name(host.decode("latin-1")) in self.hosts:
            await self.app(scope, receive, send)
            return
        if kind == ScopeType.HTTP:
            await ASGIResponse(body=_REFUSED, status_code=400, media_type=PROBLEM_JSON)(scope, receive, send)
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": "host"})


def allowed_hosts_middleware(hosts: Iterable[str]) -> DefineMiddleware:
    """The middleware as the app installs it, for ``hosts``."""
    return DefineMiddleware(AllowedHostsMiddleware, hosts=list(hosts))
