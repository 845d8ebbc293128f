"""The waiters of a batch: each delivery verified by its provider's adapter, and each request answered.

A flush verifies the waiting deliveries together, in one loop on the event loop (their adapters'
code and data stay warm): :func:`verify` turns each into its journal row, or answers its request
at once (refused, or a provider's test event). Once the batch's transaction is over, :func:`answer`
gives every request still waiting its outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from market.errors import UnavailableError
from market.reconcile.ingest.adapters import RejectionError
from market.reconcile.ingest.journal.rows import Delivery, Incoming, Stored

# One delivery waiting for its commit: the row (or the request still to verify), the request's
# future, and when it stops waiting.
Waiter = tuple[Incoming | Delivery, "asyncio.Future[Stored | None]", float]
Outcome = Stored | UnavailableError


def verify(delivery: Delivery, future: asyncio.Future[Stored | None]) -> Incoming | None:
    """The delivery's journal row; ``None`` once its future is answered (refused, or a test event)."""
    verdict = _verdict(delivery)
    if isinstance(verdict, Incoming):
        return verdict
    if verdict is None:
        future.set_result(None)
    elif isinstance(verdict, RejectionError):
        # Without its traceback: the rejection is logged without one, and the traceback's frames
        # would keep this batch alive in a reference cycle, left to the (rarely run) cyclic GC.
        future.set_exception(verdict.with_traceback(None))
    else:
        future.set_exception(verdict)
    return None


def _verdict(delivery: Delivery) -> Incoming | Exception | None:
    """The delivery's row, ``None`` for a test event, or what its adapter raised.

    An adapter's bug (any other exception) fails its own request, as it would have in the
    request's handler (a 500 with its traceback), never the batch. Caught in a frame of its own
    that holds no future nor batch, so that the traceback ties neither to the exception.
    """
    try:
        return delivery.verified()
    except StopIteration as exc:  # a future cannot hold a StopIteration
        return RuntimeError(f"adapter {delivery.parse.__qualname__} raised StopIteration: {exc!r}")
    except Exception as exc:  # noqa: BLE001 - see above
        return exc


def answer(batch: list[Waiter], outcomes: Sequence[Outcome]) -> None:
    """Wake each waiter of ``batch`` with its outcome: its stored row, or the error its request answers."""
    # On the event loop, once per batch. A future already done was answered 503 or its request gave up.
    for (_, future, _), outcome in zip(batch, outcomes, strict=True):
        if future.done():
            continue
        if isinstance(outcome, Stored):
            future.set_result(outcome)
        else:
            future.set_exception(outcome)
