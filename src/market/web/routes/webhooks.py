"""Provider webhooks: ``POST /webhooks/{payos,sepay,casso,generic}``.

Each handler reads the raw body itself (signatures cover the raw bytes), lets the
provider's adapter verify and decode it, journals it through the group-commit writer, and answers
2xx only after the COMMIT. Forged or stale → 401, malformed → 400,
over ``MARKET_WEBHOOK_MAX_BODY_BYTES`` → 413, provider not configured or database down → 503
(providers retry on non-2xx). Authentic but unusable deliveries (outgoing transfers...) are
stored for review and answered 2xx, or the provider would retry them forever.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, post
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec

from market.config import Settings
from market.db import create_sync_engine_for, utcnow
from market.reconcile.ingest.adapters import PARSERS, MalformedRequestError, NotConfiguredError, Parser, RejectionError
from market.reconcile.ingest.adapters.base import HEADERS_KEPT
from market.reconcile.ingest.journal import JournalWriter, Stored
from market.web.auth.rules import PROVIDER

__all__ = [
    "LIFESPAN",
    "ROUTES",
    "header_dict",
    "journal_delivery",
    "log_rejection",
    "read_webhook_body",
    "rejection_status",
]

log = logging.getLogger(__name__)

# payOS's docs sample, SePay's required answer, and any 2xx for Casso.
_SUCCESS = b'{"success":true}'


@asynccontextmanager
async def journal_writer(app: Litestar) -> AsyncGenerator[None, None]:
    """Run the process's group-commit writer for as long as the app runs."""
    engine = create_sync_engine_for(app.state.settings)
    writer = JournalWriter(engine)
    await writer.start()
    app.state.journal = writer
    try:
        yield
    finally:
        await writer.stop()
        engine.dispose()


def journal_of(request: Request[Any, Any, Any]) -> JournalWriter:
    """The app's journal writer."""
    # Item access: State.__getattr__ is several times slower, and this runs on every delivery.
    writer: JournalWriter = request.app.state["journal"]
    return writer


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status_code=413, detail=f"A webhook body may be at most {limit} bytes.")


# The names providers send, decoded once: a dict hit is cheaper than decoding every request's
# header names. Fixed, so a sender of made-up header names cannot grow it.
_KNOWN_NAMES = {
    name.encode(): name
    for name in (
        *HEADERS_KEPT,
        "host",
        "content-length",
        "accept",
        "accept-encoding",
        "authorization",
        "connection",
        "x-real-ip",
        "x-forwarded-proto",
    )
}


def header_dict(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The request's headers as a plain dict with lower-case names (ASGI gives them lower-cased).

    Cheaper than Litestar's case-insensitive ``Headers`` for the dozen lookups an ingest makes.
    """
    known = _KNOWN_NAMES
    return {
        known.get(name) or name.decode("latin-1"): value.decode("latin-1") for name, value in request.scope["headers"]
    }


def read_webhook_body(request: Request[Any, Any, Any], headers: Mapping[str, str], limit: int) -> Awaitable[bytes]:
    """The raw body (to await), refusing (413) anything over ``limit`` bytes without reading past it.

    A plain function handing back the framework's own read when the length is declared (every
    provider declares it): no coroutine of ours to create and resume on each delivery.
    """
    declared = headers.get("content-length", "")
    if declared.isdigit():
        if int(declared) > limit:
            raise _too_large(limit)
        # The server reads exactly Content-Length bytes, so the body cannot outgrow what was declared.
        return request.body()
    return _read_streamed(request, limit)


async def _read_streamed(request: Request[Any, Any, Any], limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def rejection_status(rejection: RejectionError) -> int:
    """The HTTP status of a rejection: 503 not configured, 400 malformed, 401 forged or stale."""
    if isinstance(rejection, NotConfiguredError):
        return 503
    if isinstance(rejection, MalformedRequestError):
        return 400
    return 401


def log_rejection(provider: str, body: bytes, rejection: RejectionError) -> None:
    """Log a refused delivery with a hash of its body (never the body: it may be forged junk)."""
    digest = hashlib.sha256(body).hexdigest()[:16]
    log.warning("%s webhook refused (%s, body sha256 %s): %s", provider, type(rejection).__name__, digest, rejection)


def journal_delivery(
    request: Request[Any, Any, Any], parse: Parser, body: bytes, headers: Mapping[str, str], settings: Settings
) -> Awaitable[Stored | None]:
    """Verify and journal a delivery: await it for the row, after COMMIT; ``None`` for a provider's test event.

    Raises (when awaited) the adapter's :class:`RejectionError`, or :class:`UnavailableError`. A plain
    function handing back the journal's own future (``JournalWriter.submit_delivery``): no
    coroutine of ours to create and resume on each delivery.
    """
    return journal_of(request).submit_delivery(parse, body, headers, settings, utcnow())


async def _ingest(request: Request[Any, Any, Any], provider: str) -> Stored | None:
    """Read, verify, journal; a refusal leaves as a problem+json via ``HTTPException``."""
    settings: Settings = request.app.state["settings"]
    headers = header_dict(request)
    body = await read_webhook_body(request, headers, settings.webhook_max_body_bytes)
    try:
        return await journal_delivery(request, PARSERS[provider], body, headers, settings)
    except RejectionError as rejection:
        log_rejection(provider, body, rejection)
        raise HTTPException(status_code=rejection_status(rejection), detail=str(rejection)) from None


_DOC: dict[str, Any] = {"tags": ["webhooks"], "media_type": MediaType.JSON, "status_code": 200}


@post("/webhooks/payos", summary="payOS payment notification", **_DOC, opt=PROVIDER)
async def payos_webhook(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Verify the payOS signature over ``data``, journal, answer ``{"success": true}`` (also to the test event)."""
    await _ingest(request, "payos")
    return Response(_SUCCESS, media_type=MediaType.JSON)


@post("/webhooks/sepay", summary="SePay transaction notification", **_DOC, opt=PROVIDER)
async def sepay_webhook(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Verify SePay's HMAC (or API key), journal, answer ``{"success": true}``."""
    await _ingest(request, "sepay")
    return Response(_SUCCESS, media_type=MediaType.JSON)


@post("/webhooks/casso", summary="Casso v2 transaction notification", **_DOC, opt=PROVIDER)
async def casso_webhook(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Verify ``X-Casso-Signature`` (HMAC-SHA512), journal, answer ``{"success": true}`` (also to the test call)."""
    await _ingest(request, "casso")
    return Response(_SUCCESS, media_type=MediaType.JSON)


class GenericAnswer(msgspec.Struct, frozen=True, gc=False):
    """Answer to a generic delivery: where it is in the journal."""

    success: bool
    id: int
    created: bool
    duplicate_of: int | None


_ANSWER = msgspec.json.Encoder()


@post(
    "/webhooks/generic",
    summary="Signed notification in our generic format",
    responses={200: ResponseSpec(GenericAnswer, description="Where the notification is in the journal")},
    **_DOC,
    opt=PROVIDER,
)
async def generic_webhook(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Verify ``X-Market-Signature``, journal, answer the journal id (format: ``ingest.adapters.generic``)."""
    stored = await _ingest(request, "generic")
    assert stored is not None  # the generic format has no test event
    # Encoded here, as the other webhooks' constant answers are: a returned Struct would go through
    # the framework's serialiser negotiation on every request.
    answer = GenericAnswer(success=True, id=stored.id, created=stored.created, duplicate_of=stored.duplicate_of)
    return Response(_ANSWER.encode(answer), media_type=MediaType.JSON)


ROUTES = [payos_webhook, sepay_webhook, casso_webhook, generic_webhook]
LIFESPAN = [journal_writer]
