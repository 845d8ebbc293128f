"""The group-commit journal writer: many concurrent deliveries, one transaction, 2xx only after COMMIT.

Each request hands its row to :meth:`JournalWriter.append` and waits. One task per process drains
whatever is queued (up to ``max_batch`` rows) into ONE transaction, commits, and only then wakes
every waiter with its :class:`Stored` result; if the transaction fails, every waiter of that batch
gets :class:`~market.errors.UnavailableError` (the web layer answers 503, the provider retries).
A commit per request caps at ~1.1k/s on SQLite, a commit per batch reached ~6.7k/s (stack.md §3.2c2, §3.3).

The batch itself runs on a blocking engine in one dedicated thread: one thread hop per batch. Through
aiosqlite every statement is a hop, and each hop waits for the GIL while the event loop is busy
serving requests, which cut throughput by 4x under load (measured, see the issue's note).

Idempotency is the database's: ``INSERT ... ON CONFLICT (provider, provider_txn_id) DO NOTHING``
on both dialects, so several worker processes on PostgreSQL may ingest the same retry at once.
The same bank credit arriving through a second provider (same receiving account and bank
reference) is stored but marked ``duplicate`` of the first copy (webhooks.md §0 rule 4).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from market.errors import UnavailableError
from market.reconcile.models import STATUS_DUPLICATE, STATUS_PENDING, STATUS_REVIEW, JournalEntry
from market.reconcile.notification import Notification

__all__ = ["Incoming", "JournalWriter", "Stored", "write_batch"]

log = logging.getLogger(__name__)

_TABLE: sa.Table = JournalEntry.__table__  # type: ignore[assignment]
# Any constant will do: it only has to be the same in every process that writes the journal.
_DUPLICATE_CHECK_LOCK = 0x6A6F75726E616C  # "journal"


class Incoming(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One authenticated delivery on its way into the journal."""

    notification: Notification
    raw_body: bytes
    raw_headers: dict[str, str]
    auth: str
    review_reason: str | None = None


class Stored(msgspec.Struct, frozen=True, kw_only=True):
    """Where a delivery is in the journal.

    Attributes:
        id: the journal row of this notification (the first one stored, for a retry).
        created: ``False`` when the provider had already delivered this notification.
        duplicate_of: the journal row of the same bank credit received through another provider.
    """

    id: int
    created: bool
    duplicate_of: int | None = None


def _row(item: Incoming) -> dict[str, Any]:
    n = item.notification
    return {
        "provider": n.provider,
        "provider_txn_id": n.provider_txn_id,
        "status": STATUS_REVIEW if item.review_reason else STATUS_PENDING,
        "review_reason": item.review_reason,
        "amount": n.amount,
        "direction": n.direction,
        "memo": n.memo,
        "transferred_at": n.transferred_at,
        "received_at": n.received_at,
        "bank_reference": n.bank_reference,
        "account_number": n.account_number,
        "bank_bin": n.bank_bin,
        "virtual_account": n.virtual_account,
        "order_code": n.order_code,
        "counterparty_name": n.counterparty_name,
        "counterparty_account": n.counterparty_account,
        "counterparty_bank": n.counterparty_bank,
        "auth": item.auth,
        "raw_body": item.raw_body,
        "raw_headers": item.raw_headers,
    }


_INSERT = {
    name: insert(_TABLE).on_conflict_do_nothing(index_elements=[_TABLE.c.provider, _TABLE.c.provider_txn_id])
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


_T = _TABLE.c
# Built once, so SQLAlchemy compiles them once; the IN lists are expanding parameters.
_BY_KEY = sa.select(_T.provider_txn_id, _T.id, _T.duplicate_of).where(
    _T.provider == sa.bindparam("provider"), _T.provider_txn_id.in_(sa.bindparam("txns", expanding=True))
)
_BY_REFERENCE = (
    sa.select(_T.id, _T.account_number, _T.bank_reference)
    .where(_T.bank_reference.in_(sa.bindparam("refs", expanding=True)), _T.status != STATUS_DUPLICATE)
    .order_by(_T.id)
)
_MARK_DUPLICATE = (
    sa.update(_TABLE)
    .where(_T.id == sa.bindparam("row_id"))
    .values(status=STATUS_DUPLICATE, duplicate_of=sa.bindparam("first_id"))
)


def _journalled(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int | None]]:
    """``{(provider, provider_txn_id): (id, duplicate_of)}`` for those of ``keys`` already in the journal."""
    by_provider: dict[str, list[str]] = {}
    for provider, txn in keys:
        by_provider.setdefault(provider, []).append(txn)
    found: dict[tuple[str, str], tuple[int, int | None]] = {}
    for provider, txns in by_provider.items():
        # provider first: the unique index (provider, provider_txn_id) answers it.
        for txn, row_id, duplicate_of in conn.execute(_BY_KEY, {"provider": provider, "txns": txns}):
            found[(provider, txn)] = (row_id, duplicate_of)
    return found


def _mark_cross_provider_duplicates(conn: Connection, inserted: dict[int, Incoming]) -> dict[int, int]:
    """Mark newly inserted copies of a bank credit already journalled; return ``{id: first copy's id}``."""
    keyed = {
        row_id: (item.notification.account_number, item.notification.bank_reference)
        for row_id, item in inserted.items()
        if item.notification.account_number and item.notification.bank_reference
    }
    if not keyed:
        return {}
    if conn.dialect.name == "postgresql":
        # Another worker may be inserting the other copy right now, invisible until it commits.
        # Checking under one lock means whichever commits second sees the first (SQLite has one writer).
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_DUPLICATE_CHECK_LOCK)))
    found = conn.execute(_BY_REFERENCE, {"refs": list({ref for _, ref in keyed.values()})})
    earlier: dict[tuple[str | None, str | None], int] = {}
    ours: dict[tuple[str | None, str | None], int] = {}
    for row_id, account, reference in found:
        target = ours if row_id in inserted else earlier
        target.setdefault((account, reference), row_id)
    marks = {}
    for row_id, key in keyed.items():
        first = earlier.get(key, ours.get(key))
        if first is not None and first != row_id:
            marks[row_id] = first
    if marks:
        conn.execute(_MARK_DUPLICATE, [{"row_id": row_id, "first_id": first} for row_id, first in marks.items()])
    return marks


def write_batch(conn: Connection, items: Sequence[Incoming]) -> list[Stored]:
    """Journal ``items`` inside the caller's transaction; one :class:`Stored` per item, in order.

    The caller commits; nothing here is durable before that. The INSERT is a plain executemany
    (one short statement the drivers prepare once) rather than multi-row VALUES with RETURNING:
    psycopg re-parses every long statement, which made batches 5x slower. Ids are read back
    with one SELECT instead.
    """
    keys = [(i.notification.provider, i.notification.provider_txn_id) for i in items]
    first_of: dict[tuple[str, str], Incoming] = {}
    for key, item in zip(keys, items, strict=True):
        first_of.setdefault(key, item)  # a retry racing its original inside one batch
    before = _journalled(conn, list(first_of))
    new = {key: item for key, item in first_of.items() if key not in before}
    if new:
        # ON CONFLICT: on PostgreSQL another worker may have committed the same key meanwhile.
        conn.execute(_INSERT[conn.dialect.name], [_row(item) for item in new.values()])
    after = _journalled(conn, list(new)) if new else {}
    inserted = {after[key][0]: item for key, item in new.items()}
    marks = _mark_cross_provider_duplicates(conn, inserted)
    stored = []
    seen: set[tuple[str, str]] = set()
    for key in keys:
        if key in before:
            row_id, duplicate_of = before[key]
            stored.append(Stored(id=row_id, created=False, duplicate_of=duplicate_of))
        else:
            row_id = after[key][0]
            stored.append(Stored(id=row_id, created=key not in seen, duplicate_of=marks.get(row_id)))
        seen.add(key)
    return stored


def _database_unreachable(exc: BaseException) -> bool:
    if isinstance(exc, sa.exc.DBAPIError):
        return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError) or exc.connection_invalidated
    return isinstance(exc, OSError | TimeoutError)


_Waiter = tuple[Incoming, "asyncio.Future[Stored]"]


class JournalWriter:
    """One per process: batches concurrent :meth:`append` calls into one transaction each.

    Args:
        engine: a blocking engine on the app's database (``create_sync_engine_for(settings)``);
            SQLite batches take the write lock up front with ``BEGIN IMMEDIATE``.
        max_batch: most rows per transaction.
        wait_seconds: longest a request waits for its commit before it is told to retry (503);
            below payOS's 10 s timeout (webhooks.md §1.3). The row may still be committed: the
            provider's retry then finds it and adds nothing.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 1000, wait_seconds: float = 8.0) -> None:
        self._engine = engine.execution_options(sqlite_immediate=True)
        self._max_batch = max_batch
        self._wait_seconds = wait_seconds
        self._queue: asyncio.Queue[_Waiter | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._closing = False

    async def start(self) -> None:
        """Start the writer task and its database thread."""
        self._closing = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-writer")
        self._task = asyncio.create_task(self._run(), name="journal-writer")

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Write what is already queued, then stop; new appends are refused from now on."""
        self._closing = True
        if self._task is None:
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(self._task, drain_seconds)
        except TimeoutError:
            log.warning("journal writer did not drain within %s s; waiting requests get 503", drain_seconds)
        finally:
            self._task = None
            if self._thread is not None:
                self._thread.shutdown(wait=False, cancel_futures=True)
                self._thread = None

    async def append(self, item: Incoming) -> Stored:
        """Journal one delivery; returns once it is committed.

        Raises:
            UnavailableError: the journal could not be written (database down, shutting down,
                or no commit within ``wait_seconds``); the provider should retry.
        """
        if self._closing or self._task is None:
            raise UnavailableError("the journal is not accepting writes (the server is stopping); retry later")
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        try:
            # On timeout the future is cancelled; the writer skips it, the row may still commit.
            async with asyncio.timeout(self._wait_seconds):
                return await future
        except TimeoutError:
            raise UnavailableError("the journal is busy; retry later") from None

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            batch: list[_Waiter] = []
            if first is None:
                stopping = True
            else:
                batch.append(first)
            while len(batch) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if nxt is None:
                    stopping = True
                else:
                    batch.append(nxt)
            if batch:
                await self._flush(batch)

    def _commit(self, items: list[Incoming]) -> list[Stored]:
        # Runs in the writer thread: the whole transaction, COMMIT included.
        with self._engine.begin() as conn:
            return write_batch(conn, items)

    async def _flush(self, batch: list[_Waiter]) -> None:
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self._thread, self._commit, [item for item, _ in batch])
        except Exception as exc:
            if len(batch) > 1 and not _database_unreachable(exc):
                # Not the database being down but something in one row: write them one by one so
                # a single bad notification cannot turn every concurrent delivery into a 503.
                log.warning("journal batch of %d failed (%s); retrying row by row", len(batch), exc)
                for waiter in batch:
                    await self._flush([waiter])
                return
            if _database_unreachable(exc):
                log.warning("journal write failed, database unavailable: %s", exc)
            else:
                log.error("journal write failed for %s", batch[0][0].notification.provider_txn_id, exc_info=exc)
            error = UnavailableError("the journal could not be written; retry later")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), stored in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(stored)
