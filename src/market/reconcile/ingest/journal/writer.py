"""The group-commit writer: concurrent deliveries wait on the event loop, one transaction takes them all.

A request is answered only after its row's COMMIT; a batch that fails answers each of its
requests 503 (or is written again row by row, when one row and not the database is at fault).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from sqlalchemy.engine import Engine

from market.config import Settings
from market.errors import UnavailableError
from market.reconcile.ingest.adapters import Parser
from market.reconcile.ingest.journal.batch import database_unreachable
from market.reconcile.ingest.journal.postgresql import PostgresqlConnection
from market.reconcile.ingest.journal.rows import Delivery, Incoming, Stored, sql_for
from market.reconcile.ingest.journal.sqlite import LockBusyError, SqliteConnection
from market.reconcile.ingest.journal.verify import Outcome, Waiter, answer, verify

log = logging.getLogger(__name__)

_Transaction = Callable[[list[Incoming]], list[Stored]]
# A busy SQLite write lock is tried again after 1 ms, then 2, 4... at most every 50 ms.
_BUSY_FIRST_WAIT, _BUSY_LONGEST_WAIT = 0.001, 0.05
# PostgreSQL transactions at once. Two (one inserting while the other commits) measured slower:
# the batches halved, and PostgreSQL and the writer spent more per row.
_POSTGRESQL_IN_FLIGHT = 1


class JournalWriter:
    """One per process: batches concurrent :meth:`append` calls into one transaction each.

    Deliveries wait in a list on the event loop; a flush takes them (up to ``max_batch``) into one
    transaction: on SQLite right there on the loop, on PostgreSQL as a task of the loop awaiting
    psycopg's asyncio connection, at most ``_POSTGRESQL_IN_FLIGHT`` batches at a time (the package's docstring).

    Args:
        engine: a blocking engine on the app's database (``create_sync_engine_for(settings)``).
        max_batch: most rows per transaction.
        wait_seconds: longest a request waits for its commit before it is told to retry (503);
            below payOS's 10 s timeout. The row may still be committed: the
            provider's retry then finds it and adds nothing.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 1000, wait_seconds: float = 8.0) -> None:
        self._engine = engine.execution_options(sqlite_immediate=True)
        self._dbapi = engine.dialect.loaded_dbapi
        self._sql = sql_for(engine.dialect)
        self._max_batch = max_batch
        self._wait_seconds = wait_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._accepting = False
        self._pending: list[Waiter] = []  # arrival order
        self._unverified_from = 0  # the waiters before this index in _pending are verified (or answered)
        self._in_flight: list[list[Waiter]] = []  # batches PostgreSQL transactions are writing
        self._scheduled = False  # a flush is waiting in the loop's queue (or for a busy lock)
        self._seen = 0  # how many were waiting when a scheduled flush last looked
        self._busy_wait = _BUSY_FIRST_WAIT
        self._drained: asyncio.Future[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._sqlite: SqliteConnection | None = None
        self._postgresql: PostgresqlConnection | None = None

    async def start(self) -> None:
        """Set up the connection of the database (opened by the first batch) and start the watchdog."""
        self._loop = asyncio.get_running_loop()
        if self._sql.sqlite is not None:
            self._sqlite = SqliteConnection(self._engine, self._sql)
        else:
            self._postgresql = PostgresqlConnection(self._engine, self._sql)
        self._accepting = True
        self._watchdog = asyncio.create_task(self._expire_overdue(), name="journal-watchdog")

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Write what is already waiting, then stop; new appends are refused from now on."""
        if not self._accepting or self._loop is None:
            return
        self._accepting = False
        if not self._drained_now():
            self._drained = self._loop.create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._drained), drain_seconds)
            except TimeoutError:
                log.warning("journal writer did not drain within %s s; waiting requests get 503", drain_seconds)
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._expire(float("inf"), "the journal is not accepting writes (the server is stopping); retry later")
        if self._postgresql is not None:
            # A transaction still in flight (its requests already answered 503) is cut off.
            await self._postgresql.close()
            self._postgresql = None
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None

    async def append(self, item: Incoming) -> Stored:
        """Journal one delivery; returns once it is committed.

        Raises:
            UnavailableError: the journal could not be written (database down, shutting down,
                or no commit within ``wait_seconds``); the provider should retry.
        """
        return await self.submit(item)

    def submit(self, item: Incoming) -> asyncio.Future[Stored]:
        """:meth:`append` for the request path: the future its commit resolves, awaited by the caller.

        A plain function: the webhook handlers await the future itself, one coroutine frame less
        per delivery than awaiting :meth:`append`.
        """
        # Only a Delivery's future can end with None (a test event): an Incoming's is a Stored.
        return cast("asyncio.Future[Stored]", self._enqueue(item))

    def submit_delivery(
        self, parse: Parser, body: bytes, headers: Mapping[str, str], settings: Settings, received_at: dt.datetime
    ) -> asyncio.Future[Stored | None]:
        """Verify a raw request with its provider's adapter, then journal it: the future of its outcome.

        The future ends with the stored row once committed, ``None`` for a provider's test event
        (nothing to store), or the adapter's :class:`RejectionError` (forged, stale, malformed, not
        configured), or :class:`UnavailableError`. The adapter runs when the writer flushes, for
        every waiting delivery in one loop: run between the framework's handling of each request,
        its code and data were cold every time, and it cost several times the CPU it takes in a
        batch (benchmarks/README.md, "Adapters in the batch").
        """
        return self._enqueue(Delivery(parse, body, headers, settings, received_at))

    def _enqueue(self, item: Incoming | Delivery) -> asyncio.Future[Stored | None]:
        loop = self._loop
        future: asyncio.Future[Stored | None]
        if not self._accepting or loop is None:
            future = asyncio.get_running_loop().create_future()
            future.set_exception(
                UnavailableError("the journal is not accepting writes (the server is stopping); retry later")
            )
            return future
        future = loop.create_future()
        self._pending.append((item, future, time.monotonic() + self._wait_seconds))
        if not self._scheduled:
            self._schedule()
        return future

    async def _expire_overdue(self) -> None:
        while True:
            await asyncio.sleep(min(0.5, self._wait_seconds / 4))
            self._expire(time.monotonic(), "the journal is busy; retry later")

    def _expire(self, now: float, reason: str) -> None:
        # The row may still commit after its request was answered 503; the retry then adds nothing.
        for waiters in (*self._in_flight, self._pending):
            for _, future, deadline in waiters:
                if deadline > now:
                    break
                if not future.done():
                    future.set_exception(UnavailableError(reason))

    # --- flushing, on the event loop ------------------------------------------------------------

    def _schedule(self, delay: float = 0.0) -> None:
        assert self._loop is not None
        if not self._scheduled:
            self._scheduled = True
            if delay:
                self._loop.call_later(delay, self._flush)
            else:
                self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        waiting = len(self._pending)
        if self._sqlite is not None and self._seen < waiting < self._max_batch:
            # Requests are still arriving: let the loop run one more iteration so that those ready
            # join this batch. It flushes once an iteration adds nobody, so the CPU never idles
            # waiting for a bigger batch (and a row costs less in a bigger one).
            self._seen = waiting
            self._schedule()
            return
        self._seen = 0
        # Refusals and test events need no database: answered now, even when no batch can leave.
        self._verify_waiting()
        if len(self._in_flight) >= _POSTGRESQL_IN_FLIGHT:
            return  # the next batch leaves when one of these is written (_written)
        batch = self._take()
        if not batch:
            self._after_batch()  # the next flush if deliveries still wait (refused ones took this one)
        elif self._sqlite is not None:
            self._flush_here(self._sqlite, batch)
        else:
            self._send_to_postgresql(batch)

    def _verify_waiting(self) -> None:
        """Verify up to ``max_batch`` waiting deliveries, in arrival order; more on the next iteration.

        A refused one and a test event are answered here; the others become their journal rows. At
        most ``max_batch`` adapters per loop iteration, refused or not: a flood of forged requests
        is verified a batch at a time, between the loop's other work.
        """
        pending = self._pending
        start = self._unverified_from
        end = min(len(pending), start + self._max_batch)
        for index in range(start, end):
            item, future, deadline = pending[index]
            if type(item) is Delivery and not future.done():
                verified = verify(item, future)
                if verified is not None:
                    pending[index] = (verified, future, deadline)
        self._unverified_from = end
        if end < len(pending):
            self._schedule()

    def _take(self) -> list[Waiter]:
        """The next batch: verified waiters whose request still waits (not answered, not gone), oldest first."""
        batch: list[Waiter] = []
        pending = self._pending
        taken = 0
        while taken < self._unverified_from:
            waiter = pending[taken]
            taken += 1
            if not waiter[1].done():
                batch.append(waiter)
                if len(batch) == self._max_batch:
                    break
        del pending[:taken]
        self._unverified_from -= taken
        return batch

    def _flush_here(self, sqlite: SqliteConnection, batch: list[Waiter]) -> None:
        try:
            outcomes = self._write(sqlite.transaction, _items(batch))
        except LockBusyError:
            # Someone else is writing (the matcher, a CLI import): keep the batch, and what arrives
            # meanwhile joins it.
            self._pending[:0] = batch
            self._unverified_from += len(batch)
            self._schedule(self._busy_wait)
            self._busy_wait = min(self._busy_wait * 2, _BUSY_LONGEST_WAIT)
            return
        self._busy_wait = _BUSY_FIRST_WAIT
        answer(batch, outcomes)
        self._after_batch()

    def _send_to_postgresql(self, batch: list[Waiter]) -> None:
        assert self._loop is not None
        self._in_flight.append(batch)
        items = _items(batch)
        done = self._loop.create_task(self._write_async(items), name="journal-batch")
        done.add_done_callback(functools.partial(self._written, batch))
        # While this one waits for PostgreSQL, the next batch collects (and leaves when it is written).
        self._after_batch()

    def _written(self, batch: list[Waiter], done: asyncio.Future[Sequence[Outcome]]) -> None:
        self._in_flight.remove(batch)
        if done.cancelled() or done.exception() is not None:
            failed = UnavailableError("the journal could not be written; retry later")
            answer(batch, [failed] * len(batch))
        else:
            answer(batch, done.result())
        self._after_batch()

    def _after_batch(self) -> None:
        if self._pending:
            self._schedule()
        else:
            self._drained_now()

    def _drained_now(self) -> bool:
        """Whether nothing waits or is being written; tells :meth:`stop` when so."""
        drained = not (self._pending or self._in_flight or self._scheduled)
        if drained and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        return drained

    # --- transactions ------------------------------------------------------------------------

    def _write(self, transaction: _Transaction, items: list[Incoming]) -> Sequence[Outcome]:
        """The whole transaction, COMMIT included; one outcome per item."""
        try:
            return transaction(items)
        except LockBusyError:
            raise
        except Exception as exc:  # noqa: BLE001 - logged by _failed; a provider gets a 503, never a 500
            failed = self._failed(exc, items)
            if failed is not None:
                return failed
            return [outcome for item in items for outcome in self._write(transaction, [item])]

    async def _write_async(self, items: list[Incoming]) -> Sequence[Outcome]:
        """:meth:`_write` for PostgreSQL's transactions, which run on the loop."""
        assert self._postgresql is not None
        try:
            return await self._postgresql.transaction(items)
        except Exception as exc:  # noqa: BLE001 - logged by _failed; a provider gets a 503, never a 500
            failed = self._failed(exc, items)
            if failed is not None:
                return failed
            return [outcome for item in items for outcome in await self._write_async([item])]

    def _failed(self, exc: Exception, items: list[Incoming]) -> list[Outcome] | None:
        """The outcomes of a failed transaction: 503 for each item, or ``None``: write them one by one.

        Not the database being down but something in one row of a batch: one by one, a single
        bad notification cannot turn every concurrent delivery into a 503.
        """
        unreachable = database_unreachable(exc, self._dbapi)
        if len(items) > 1 and not unreachable:
            log.warning("journal batch of %d failed (%s); retrying row by row", len(items), exc)
            return None
        if unreachable:
            log.warning("journal write failed, database unavailable: %s", exc)
        else:
            log.error("journal write failed for %s", items[0].notification.provider_txn_id, exc_info=exc)
        return [UnavailableError("the journal could not be written; retry later") for _ in items]


def _items(batch: list[Waiter]) -> list[Incoming]:
    """The rows of a batch (``_take`` takes verified waiters only)."""
    return cast("list[Incoming]", [item for item, _, _ in batch])
