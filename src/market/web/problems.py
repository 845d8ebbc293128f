"""Every error leaves the app as ``application/problem+json`` (RFC 9457) with a readable ``detail``."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from sqlalchemy.exc import DBAPIError, OperationalError

from market.errors import ConflictError, InvalidInputError, MarketError, NotFoundError, UnavailableError

__all__ = ["PROBLEM_JSON", "exception_handlers", "problem"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_ENCODER = msgspec.json.Encoder()
# Litestar's stock texts, rewritten as sentences a user can act on.
_PLAIN_DETAILS = {
    (404, "Not Found"): "No such resource or route.",
    (405, "Method Not Allowed"): "This route does not accept that HTTP method.",
    (413, "Request Entity Too Large"): "The request body is larger than this endpoint accepts.",
}


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    """A problem+json response; ``extra`` members (e.g. ``errors``) are added to the document."""
    body: dict[str, Any] = {"type": "about:blank", "title": title or _TITLES.get(status, "Error"), "status": status}
    body["detail"] = detail
    if extra:
        body.update(extra)
    return Response(_ENCODER.encode(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_detail(exc: ValidationException) -> tuple[str, dict[str, Any] | None]:
    errors: list[dict[str, str]] = []
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                key = str(item.get("key") or item.get("source") or "body")
                errors.append({"field": key, "message": str(item.get("message", ""))})
    if errors:
        return "; ".join(f"{e['field']}: {e['message']}" for e in errors), {"errors": errors}
    return str(exc.detail), None


def _http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        detail, extra = _validation_detail(exc)
        # A body we could not decode (bad JSON, wrong shape) is a 400; Litestar already chose that.
        return problem(status, detail, extra=extra, headers=headers or None)
    detail = str(exc.detail) if exc.detail else _TITLES.get(status, "Error")
    detail = _PLAIN_DETAILS.get((status, detail), detail)
    return problem(status, detail, headers=headers or None)


def _market_error(_: Request[Any, Any, Any], exc: MarketError) -> Response[bytes]:
    status = 400
    if isinstance(exc, NotFoundError):
        status = HTTP_404_NOT_FOUND
    elif isinstance(exc, ConflictError):
        status = HTTP_409_CONFLICT
    elif isinstance(exc, InvalidInputError):
        status = HTTP_422_UNPROCESSABLE_ENTITY
    elif isinstance(exc, UnavailableError):
        status = HTTP_503_SERVICE_UNAVAILABLE
    return problem(status, exc.detail, title=exc.title, extra=exc.extra or None)


def _database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[bytes]:
    # A connection that cannot be made or was lost is the database being down: 503 makes
    # providers retry. Anything else from the database is our bug.
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem(HTTP_503_SERVICE_UNAVAILABLE, "The database is unavailable; retry later.")
    return _internal_error(request, exc)


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "An unexpected error occurred; it has been logged.")


exception_handlers: dict[type[Exception] | int, Any] = {
    HTTPException: _http_exception,
    MarketError: _market_error,
    DBAPIError: _database_error,
    Exception: _internal_error,
}
