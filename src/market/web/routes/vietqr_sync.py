"""VietQR.vn's callbacks into us: ``POST /vietqr/api/token_generate`` and ``/vietqr/bank/api/transaction-sync``.

The sync endpoint answers in VietQR.vn's shape:
``{"error": false, "errorReason": "000", "toastMessage": "...", "object": {"reftransactionid": "<journal id>"}}``.
On failure ``error`` is true and ``errorReason`` one of our partner codes, given to VietQR.vn at
onboarding: ``E401`` bad or expired token, ``E400`` malformed transaction, ``E503`` not configured
or database down. Declare ``E503`` retryable: VietQR.vn only retries the codes in that list.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response, post
from litestar.exceptions import HTTPException

from market.config import Settings
from market.db import utcnow
from market.errors import UnavailableError
from market.reconcile.ingest.adapters import NotConfiguredError, RejectionError
from market.reconcile.ingest.adapters import vietqr_vn as adapter
from market.web.auth.rules import PROVIDER
from market.web.routes.webhooks import header_dict, journal_delivery, log_rejection, read_webhook_body, rejection_status

__all__ = ["ROUTES"]


class SyncObject(msgspec.Struct, frozen=True):
    reftransactionid: str


class SyncAnswer(msgspec.Struct, frozen=True, omit_defaults=False):
    """The answer VietQR.vn reads from transaction-sync."""

    error: bool
    errorReason: str  # noqa: N815 - VietQR.vn's field name
    toastMessage: str  # noqa: N815 - VietQR.vn's field name
    object: SyncObject | None


def _failure(status: int, message: str) -> Response[SyncAnswer]:
    answer = SyncAnswer(error=True, errorReason=f"E{status}", toastMessage=message, object=None)
    return Response(answer, status_code=status, media_type=MediaType.JSON)


@post(
    "/vietqr/api/token_generate",
    tags=["webhooks"],
    summary="VietQR.vn: Basic credentials for a 300 s bearer token",
    status_code=200,
    opt=PROVIDER,
)
async def token_generate(request: Request[Any, Any, Any]) -> adapter.Token:
    """Trade ``Authorization: Basic`` (``MARKET_VIETQR_USERNAME``/``PASSWORD``) for a bearer token."""
    settings: Settings = request.app.state["settings"]
    try:
        return adapter.issue_token(request.headers.get("authorization", ""), settings, utcnow())
    except RejectionError as rejection:
        status = 503 if isinstance(rejection, NotConfiguredError) else 401
        raise HTTPException(status_code=status, detail=str(rejection)) from None


@post(
    "/vietqr/bank/api/transaction-sync",
    tags=["webhooks"],
    summary="VietQR.vn: one transaction (Bearer token)",
    status_code=200,
    opt=PROVIDER,
)
async def transaction_sync(request: Request[Any, Any, Any]) -> Response[SyncAnswer]:
    """Verify the bearer token, journal the transaction, answer with our journal id as ``reftransactionid``."""
    settings: Settings = request.app.state["settings"]
    headers = header_dict(request)
    body = await read_webhook_body(request, headers, settings.webhook_max_body_bytes)
    try:
        stored = await journal_delivery(request, adapter.parse, body, headers, settings)
    except RejectionError as rejection:
        log_rejection("vietqr", body, rejection)
        return _failure(rejection_status(rejection), str(rejection))
    except UnavailableError as exc:
        return _failure(503, exc.detail)
    reference = str(stored.id) if stored else ""
    message = "Đã ghi nhận giao dịch / Transaction recorded"
    answer = SyncAnswer(error=False, errorReason="000", toastMessage=message, object=SyncObject(reference))
    return Response(answer, media_type=MediaType.JSON)


ROUTES = [token_generate, transaction_sync]
