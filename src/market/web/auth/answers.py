"""How a refusal is answered: problem+json for the API, pages for a browser.

- 401 on a page: 303 to ``/dang-nhap?next=<the page>``; on the API (and anything not a page):
  problem+json with ``WWW-Authenticate: Bearer``.
- 403 on a page: a page saying so (Vietnamese, English with ``?lang=en``); on the API: problem+json.

Pages are the GET routes outside ``/api/``, ``/schema``, ``/healthz`` and the provider routes.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from market.config import Settings
from market.web.auth.rules import is_api_path, is_provider_path
from market.web.page_context import Page
from market.web.problems import problem

__all__ = ["SIGN_IN_PATH", "refusal_handlers", "safe_next", "sign_in_url"]

SIGN_IN_PATH: Final = "/dang-nhap"
_NOT_PAGES: Final = ("/schema", "/healthz", "/static/")


def _is_page(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return not (is_api_path(path) or is_provider_path(path) or path.startswith(_NOT_PAGES))


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path of this site, else ``default``: never an open redirect.

    ``//host`` and ``/\\host`` are refused (browsers read both as another host), and so is any
    scheme or control character.
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch in value for ch in "\\\r\n\t") or any(ord(ch) < 0x20 for ch in value):
        return default
    return value


def sign_in_url(next_path: str) -> str:
    """The sign-in page that leads back to ``next_path`` afterwards."""
    return f"{SIGN_IN_PATH}?{urlencode({'next': next_path})}"


def _here(request: Request[Any, Any, Any]) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _unauthorized(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if _is_page(request) and request.method in ("GET", "HEAD"):
        return Redirect(sign_in_url(_here(request)), status_code=303)
    headers = dict(exc.headers or {})
    if not is_provider_path(request.url.path):  # providers are answered as they always were
        headers.setdefault("WWW-Authenticate", "Bearer")
    return problem(401, str(exc.detail or "Sign in first."), headers=headers)


def _forbidden(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if not _is_page(request):
        return problem(403, str(exc.detail or "Forbidden."), headers=dict(exc.headers or {}) or None)
    settings: Settings = request.app.state["settings"]
    page = Page(request, settings)
    template: Template = page.render("forbidden.html.j2", status=403, next_path=_here(request))
    return template


refusal_handlers: dict[type[Exception] | int, Any] = {401: _unauthorized, 403: _forbidden}
