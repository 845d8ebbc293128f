"""The benchmark app with one endpoint per stage of a webhook delivery (``instructions_webhooks.py --stages``).

A webhook does what the no-op does (read the body, answer a constant) plus three things. Each
endpoint here stops after one of them, so the difference between two endpoints' instructions is
what that stage costs on the real request path:

* ``POST /webhooks/_read``: the webhooks' own reading: settings, ``header_dict``, ``read_webhook_body``.
* ``POST /webhooks/_suspend``: the no-op, then a wait for a "commit" that writes nothing. The
  waiters are released together, once the loop has gone round without a new one, as
  ``JournalWriter._flush`` does: this is the price (or the gain) of answering after a group commit.
* ``POST /webhooks/_verify_<provider>``: the reading, then that wait, whose flush runs the
  provider's adapter (signature, decoding, the canonical notification) for every waiting
  delivery in one loop, as ``JournalWriter._verify_waiting`` does.

So the adapter costs ``_verify`` minus ``_suspend`` minus what ``_read`` adds to the no-op, and
what the full webhook costs beyond ``_verify`` is the journal: its row, the INSERT and the
COMMIT. The production app never has these routes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import load_webhooks
from litestar import MediaType, Request, Response, post
from litestar.exceptions import HTTPException

from market.db import utcnow
from market.reconcile.ingest.adapters import PARSERS, RejectionError
from market.reconcile.ingest.journal import Delivery
from market.reconcile.ingest.journal.verify import verify
from market.web.auth.rules import PROVIDER
from market.web.routes.webhooks import header_dict, read_webhook_body, rejection_status

_OK = b'{"success":true}'


class _EmptyBatches:
    """Group commit without the commit: waiters wake together once a loop iteration adds nobody."""

    def __init__(self) -> None:
        self._waiting: list[asyncio.Future[None]] = []
        self._scheduled = False
        self._seen = 0

    def join(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiting.append(future)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        waiting = len(self._waiting)
        if self._seen < waiting:  # still arriving: one more iteration, as JournalWriter._flush
            self._seen = waiting
            asyncio.get_running_loop().call_soon(self._flush)
            return
        self._scheduled = False
        self._seen = 0
        batch, self._waiting = self._waiting, []
        for future in batch:
            if not future.done():
                future.set_result(None)


class _VerifyingBatches(_EmptyBatches):
    """:class:`_EmptyBatches` whose flush verifies every waiting delivery in one loop, as
    ``JournalWriter._verify_waiting`` does (the same :func:`~market.reconcile.ingest.journal.verify.verify`),
    before releasing them."""

    def __init__(self) -> None:
        super().__init__()
        self._deliveries: list[Delivery] = []

    def verify(self, delivery: Delivery) -> asyncio.Future[None]:
        self._deliveries.append(delivery)
        return self.join()

    def _flush(self) -> None:
        if self._seen < len(self._waiting):  # still arriving: _EmptyBatches waits one more iteration
            super()._flush()
            return
        deliveries, self._deliveries = self._deliveries, []
        for future, delivery in zip(self._waiting, deliveries, strict=True):
            if not future.done():
                # Refused (or a test event): answered there. A row would go on to the journal.
                verify(delivery, future)
        super()._flush()


def _verify_route(provider: str) -> Any:
    batches = _VerifyingBatches()

    @post(
        f"/webhooks/_verify_{provider}",
        status_code=200,
        media_type=MediaType.JSON,
        include_in_schema=False,
        opt=PROVIDER,
    )
    async def verify(request: Request[Any, Any, Any]) -> Response[bytes]:
        settings = request.app.state["settings"]
        headers = header_dict(request)
        body = await read_webhook_body(request, headers, settings.webhook_max_body_bytes)
        try:
            await batches.verify(Delivery(PARSERS[provider], body, headers, settings, utcnow()))
        except RejectionError as rejection:  # refused as the webhook would refuse it, never a 500
            raise HTTPException(status_code=rejection_status(rejection), detail=str(rejection)) from None
        return Response(_OK, media_type=MediaType.JSON)

    return verify


def stages_app(settings: Any = None) -> Any:
    """``load_webhooks.bench_app`` plus the stage endpoints (uvicorn factory; ``settings`` as there)."""
    batches = _EmptyBatches()

    @post("/webhooks/_read", status_code=200, media_type=MediaType.JSON, include_in_schema=False, opt=PROVIDER)
    async def read(request: Request[Any, Any, Any]) -> Response[bytes]:
        settings = request.app.state["settings"]
        headers = header_dict(request)
        await read_webhook_body(request, headers, settings.webhook_max_body_bytes)
        return Response(_OK, media_type=MediaType.JSON)

    @post("/webhooks/_suspend", status_code=200, media_type=MediaType.JSON, include_in_schema=False, opt=PROVIDER)
    async def suspend(request: Request[Any, Any, Any]) -> Response[bytes]:
        await request.body()
        await batches.join()
        return Response(_OK, media_type=MediaType.JSON)

    app = load_webhooks.bench_app(settings)
    for handler in (read, suspend, *(_verify_route(provider) for provider in PARSERS)):
        app.register(handler)
    return app
