"""The group-commit journal writer: many concurrent deliveries, one transaction, 2xx only after COMMIT.

Each request hands its row to :meth:`JournalWriter.append` and waits. One thread per process drains
whatever is queued (up to ``max_batch`` rows) into ONE transaction, commits, and only then wakes
every waiter with its :class:`Stored` result; if the transaction fails, every waiter of that batch
gets :class:`~market.errors.UnavailableError` (the web layer answers 503, the provider retries).
A commit per request caps at ~1.1k/s on SQLite, a commit per batch reached ~6.7k/s (stack.md §3.2c2, §3.3).

The batch runs in one dedicated thread on a blocking engine, and its results go back to the event
loop in ONE ``call_soon_threadsafe`` per batch. Through aiosqlite every statement is a hop, and each
hop waits for the GIL while the event loop is busy serving requests, which cut throughput by 4x
under load (measured, see the issue's note). Inside the transaction the writer talks to the DBAPI
cursor directly with SQL built once per dialect, over one connection the thread keeps: with
SQLAlchemy Core (compile, per-row parameter processing, three read-back SELECTs) the writer spent
~80 µs of CPU per row, now ~45 (``benchmarks/load_webhooks.py``). The stored values are what
SQLAlchemy would write (PostgreSQL uses its processors; SQLite's fast encoders are pinned by a test).

Idempotency is the database's: ``INSERT ... ON CONFLICT (provider, provider_txn_id) DO NOTHING``
on both dialects, so several worker processes on PostgreSQL may ingest the same retry at once.
The same bank credit arriving through a second provider (same receiving account and bank
reference) is stored but marked ``duplicate`` of the first copy (webhooks.md §0 rule 4).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine

from market.errors import UnavailableError
from market.reconcile.models import STATUS_DUPLICATE, STATUS_PENDING, STATUS_REVIEW, JournalEntry
from market.reconcile.notification import Notification

__all__ = ["Incoming", "JournalWriter", "Stored", "write_batch"]

log = logging.getLogger(__name__)

_TABLE: sa.Table = JournalEntry.__table__  # type: ignore[assignment]
# Any constant will do: it only has to be the same in every process that writes the journal.
_DUPLICATE_CHECK_LOCK = 0x6A6F75726E616C  # "journal"
# Well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters per statement.
_IN_CHUNK = 500


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


# The order of the INSERT's columns and of the tuple built by ``_Sql.row``.
_COLUMNS = (
    "provider",
    "provider_txn_id",
    "status",
    "review_reason",
    "amount",
    "direction",
    "memo",
    "transferred_at",
    "received_at",
    "bank_reference",
    "account_number",
    "bank_bin",
    "virtual_account",
    "order_code",
    "counterparty_name",
    "counterparty_account",
    "counterparty_bank",
    "auth",
    "raw_body",
    "raw_headers",
)


def _encoder(dialect: Dialect, column: str) -> Callable[[Any], Any]:
    """SQLAlchemy's own bind processor of ``column`` for ``dialect``."""
    process = _TABLE.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None, column
    return process


def _sqlite_time(value: dt.datetime) -> str:
    """What ``UTCDateTime`` stores on SQLite: naive UTC in SQLAlchemy's ``DATETIME`` text format."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC times only")
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


class _Sql:
    """The journal's statements in one dialect's placeholder style, and its row encoder."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect.name
        self.mark = "?" if dialect.name == "sqlite" else "%s"
        table = _TABLE.name
        marks = ", ".join([self.mark] * len(_COLUMNS))
        self.insert = (
            f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({marks}) "
            "ON CONFLICT (provider, provider_txn_id) DO NOTHING"
        )
        self.sqlite = _SqliteStatements(table) if dialect.name == "sqlite" else None
        self.by_key = (
            f"SELECT provider_txn_id, id, duplicate_of FROM {table} "
            f"WHERE provider = {self.mark} AND provider_txn_id IN "
        )
        self.by_reference = (
            f"SELECT id, account_number, bank_reference FROM {table} "
            f"WHERE status <> '{STATUS_DUPLICATE}' AND bank_reference IN "
        )
        self.mark_duplicate = (
            f"UPDATE {table} SET status = '{STATUS_DUPLICATE}', duplicate_of = {self.mark} WHERE id = {self.mark}"
        )
        self._time: Callable[[dt.datetime], Any]
        self._json: Callable[[dict[str, str]], Any]
        if dialect.name == "sqlite":
            # SQLAlchemy's processors cost ~10 µs a row; tests/ingest pins these to the same stored values.
            self._time, self._json = _sqlite_time, _json_text
        else:
            # PostgreSQL takes the values as they are (timestamptz, psycopg's Json wrapper).
            self._time = _encoder(dialect, "received_at")
            self._json = _encoder(dialect, "raw_headers")

    def marks(self, count: int) -> str:
        """``(?, ?, ...)`` for an IN list of ``count`` values."""
        return "(" + ", ".join([self.mark] * count) + ")"

    def row(self, item: Incoming) -> tuple[Any, ...]:
        """The INSERT parameters of ``item``, in ``_COLUMNS`` order."""
        n = item.notification
        return (
            n.provider,
            n.provider_txn_id,
            STATUS_REVIEW if item.review_reason else STATUS_PENDING,
            item.review_reason,
            n.amount,
            n.direction,
            n.memo,
            self._time(n.transferred_at),
            self._time(n.received_at),
            n.bank_reference,
            n.account_number,
            n.bank_bin,
            n.virtual_account,
            n.order_code,
            n.counterparty_name,
            n.counterparty_account,
            n.counterparty_bank,
            item.auth,
            item.raw_body,
            self._json(item.raw_headers),
        )


@functools.lru_cache(maxsize=8)
def _sql_for(dialect: Dialect) -> _Sql:
    return _Sql(dialect)


_Key = tuple[str, str]
_Found = dict[_Key, tuple[int, int | None]]
_KEYS = msgspec.json.Decoder(list[tuple[str, str, int, int | None]])
_REFERENCES = msgspec.json.Decoder(list[tuple[int, str | None, str | None]])


class _SqliteStatements:
    """SQLite lookups with one fixed statement each (a JSON array parameter), answering in one row.

    An IN list of N placeholders is a new statement to prepare for every batch size, and every
    fetched row is a ``sqlite3_step`` that releases and retakes the GIL the event loop wants.
    """

    def __init__(self, table: str) -> None:
        self.by_key = (
            "SELECT json_group_array(json_array(j.provider, j.provider_txn_id, j.id, j.duplicate_of)) "
            f"FROM json_each(?) AS k JOIN {table} AS j ON j.provider = json_extract(k.value, '$[0]') "
            "AND j.provider_txn_id = json_extract(k.value, '$[1]')"
        )
        self.by_reference = (
            f"SELECT json_group_array(json_array(id, account_number, bank_reference)) FROM {table} "
            f"WHERE bank_reference IN (SELECT value FROM json_each(?)) AND status <> '{STATUS_DUPLICATE}'"
        )


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _journalled(cursor: Any, sql: _Sql, keys: Sequence[_Key]) -> _Found:
    """``{(provider, provider_txn_id): (id, duplicate_of)}`` for those of ``keys`` already in the journal."""
    if not keys:
        return {}
    if sql.sqlite is not None:
        cursor.execute(sql.sqlite.by_key, (_json_text(list(keys)),))
        return {(p, txn): (row_id, dup) for p, txn, row_id, dup in _KEYS.decode(cursor.fetchone()[0])}
    by_provider: dict[str, list[str]] = {}
    for provider, txn in keys:
        by_provider.setdefault(provider, []).append(txn)
    found: _Found = {}
    for provider, txns in by_provider.items():
        for chunk in _chunks(txns):
            # provider first: the unique index (provider, provider_txn_id) answers it.
            cursor.execute(sql.by_key + sql.marks(len(chunk)), (provider, *chunk))
            for txn, row_id, duplicate_of in cursor.fetchall():
                found[(provider, txn)] = (row_id, duplicate_of)
    return found


def _insert_sqlite(cursor: Any, sql: _Sql, first_of: dict[_Key, Incoming]) -> tuple[dict[_Key, int], _Found]:
    # In-process, a row per execute is cheaper than multi-row VALUES (measured), and rowcount and
    # lastrowid tell what happened without reading anything back.
    created: dict[_Key, int] = {}
    for key, item in first_of.items():
        cursor.execute(sql.insert, sql.row(item))
        if cursor.rowcount == 1:
            created[key] = cursor.lastrowid
    return created, _journalled(cursor, sql, [key for key in first_of if key not in created])


def _insert_postgresql(cursor: Any, sql: _Sql, first_of: dict[_Key, Incoming]) -> tuple[dict[_Key, int], _Found]:
    # One pipelined round trip for the whole batch; a key already journalled (perhaps by another
    # worker a moment ago) returns no id and is read back afterwards.
    cursor.executemany(sql.insert + " RETURNING id", [sql.row(item) for item in first_of.values()], returning=True)
    created: dict[_Key, int] = {}
    for key in first_of:
        found = cursor.fetchone()
        if found:
            created[key] = found[0]
        cursor.nextset()
    return created, _journalled(cursor, sql, [key for key in first_of if key not in created])


def _rows_with_references(cursor: Any, sql: _Sql, refs: list[str]) -> list[tuple[int, str | None, str | None]]:
    """``(id, account_number, bank_reference)`` of every non-duplicate row carrying one of ``refs``, by id."""
    if sql.sqlite is not None:
        cursor.execute(sql.sqlite.by_reference, (_json_text(refs),))
        found = _REFERENCES.decode(cursor.fetchone()[0])
    else:
        found = []
        for chunk in _chunks(refs):
            cursor.execute(sql.by_reference + sql.marks(len(chunk)), tuple(chunk))
            found.extend(cursor.fetchall())
    found.sort()
    return found


def _mark_cross_provider_duplicates(cursor: Any, sql: _Sql, inserted: dict[int, Notification]) -> dict[int, int]:
    """Mark newly inserted copies of a bank credit already journalled; return ``{id: first copy's id}``."""
    keyed = {
        row_id: (n.account_number, n.bank_reference)
        for row_id, n in inserted.items()
        if n.account_number and n.bank_reference
    }
    if not keyed:
        return {}
    if sql.dialect == "postgresql":
        # Another worker may be inserting the other copy right now, invisible until it commits.
        # Checking under one lock means whichever commits second sees the first (SQLite has one writer).
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_DUPLICATE_CHECK_LOCK,))
    earlier: dict[tuple[str | None, str | None], int] = {}
    ours: dict[tuple[str | None, str | None], int] = {}
    for row_id, account, reference in _rows_with_references(cursor, sql, list({r for _, r in keyed.values()})):
        target = ours if row_id in inserted else earlier
        target.setdefault((account, reference), row_id)
    marks = {}
    for row_id, key in keyed.items():
        first = earlier.get(key, ours.get(key))
        if first is not None and first != row_id:
            marks[row_id] = first
    if marks:
        cursor.executemany(sql.mark_duplicate, [(first, row_id) for row_id, first in marks.items()])
    return marks


def write_batch(conn: Connection, items: Sequence[Incoming]) -> list[Stored]:
    """Journal ``items`` inside the caller's transaction; one :class:`Stored` per item, in order.

    The caller commits; nothing here is durable before that. A retry racing its original inside
    one batch is inserted once; on PostgreSQL ``ON CONFLICT`` also covers another worker that
    committed the same key meanwhile.
    """
    if not items:
        return []
    sql = _sql_for(conn.dialect)
    keys = [(i.notification.provider, i.notification.provider_txn_id) for i in items]
    first_of: dict[_Key, Incoming] = {}
    for key, item in zip(keys, items, strict=True):
        first_of.setdefault(key, item)
    cursor = conn.connection.cursor()
    try:
        insert = _insert_sqlite if sql.sqlite is not None else _insert_postgresql
        created, before = insert(cursor, sql, first_of)
        inserted = {row_id: first_of[key].notification for key, row_id in created.items()}
        marks = _mark_cross_provider_duplicates(cursor, sql, inserted)
    finally:
        cursor.close()
    stored = []
    seen: set[_Key] = set()
    for key in keys:
        if key in created:
            row_id = created[key]
            stored.append(Stored(id=row_id, created=key not in seen, duplicate_of=marks.get(row_id)))
        else:
            row_id, duplicate_of = before[key]
            stored.append(Stored(id=row_id, created=False, duplicate_of=duplicate_of))
        seen.add(key)
    return stored


def _database_unreachable(exc: BaseException, dbapi: Any) -> bool:
    if isinstance(exc, sa.exc.DBAPIError):
        return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError) or exc.connection_invalidated
    # The writer's own statements go through the DBAPI cursor, so their errors arrive unwrapped.
    return isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError | OSError | TimeoutError)


_Waiter = tuple[Incoming, "asyncio.Future[Stored]"]
_Outcome = Stored | UnavailableError


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
        self._dbapi = engine.dialect.loaded_dbapi
        self._max_batch = max_batch
        self._wait_seconds = wait_seconds
        self._queue: queue.SimpleQueue[_Waiter | None] = queue.SimpleQueue()
        # (deadline, future) in arrival order: one watchdog expires them, not a timer per request.
        self._deadlines: collections.deque[tuple[float, asyncio.Future[Stored]]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None  # used by the writer thread only
        self._finished: asyncio.Future[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the writer thread and the watchdog that answers overdue requests."""
        loop = asyncio.get_running_loop()
        self._loop, self._finished = loop, loop.create_future()
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()
        self._watchdog = asyncio.create_task(self._expire_overdue(), name="journal-watchdog")

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Write what is already queued, then stop; new appends are refused from now on."""
        if self._thread is None or self._finished is None:
            return
        self._thread = None
        self._queue.put(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._finished), drain_seconds)
        except TimeoutError:
            log.warning("journal writer did not drain within %s s; waiting requests get 503", drain_seconds)
        finally:
            if self._watchdog is not None:
                self._watchdog.cancel()
                self._watchdog = None
            self._expire(float("inf"), "the journal is not accepting writes (the server is stopping); retry later")

    async def append(self, item: Incoming) -> Stored:
        """Journal one delivery; returns once it is committed.

        Raises:
            UnavailableError: the journal could not be written (database down, shutting down,
                or no commit within ``wait_seconds``); the provider should retry.
        """
        if self._thread is None or self._loop is None:
            raise UnavailableError("the journal is not accepting writes (the server is stopping); retry later")
        future: asyncio.Future[Stored] = self._loop.create_future()
        self._deadlines.append((time.monotonic() + self._wait_seconds, future))
        self._queue.put((item, future))
        return await future

    async def _expire_overdue(self) -> None:
        while True:
            await asyncio.sleep(min(0.5, self._wait_seconds / 4))
            self._expire(time.monotonic(), "the journal is busy; retry later")

    def _expire(self, now: float, reason: str) -> None:
        # The row may still commit after its request was answered 503; the retry then adds nothing.
        deadlines = self._deadlines
        while deadlines and (deadlines[0][1].done() or deadlines[0][0] <= now):
            _, future = deadlines.popleft()
            if not future.done():
                future.set_exception(UnavailableError(reason))

    # --- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        assert self._loop is not None
        loop = self._loop
        try:
            stopping = False
            while not stopping:
                batch, stopping = self._take()
                if batch:
                    outcomes = self._write([item for item, _ in batch])
                    _call_on(loop, _resolve, batch, outcomes)
        finally:
            self._disconnect()
            if self._finished is not None:
                _call_on(loop, _finish, self._finished)

    def _take(self) -> tuple[list[_Waiter], bool]:
        """Block for one waiter, then take whatever else is queued (up to ``max_batch``); True once told to stop."""
        batch: list[_Waiter] = []
        waiter = self._queue.get()
        while waiter is not None:
            batch.append(waiter)
            if len(batch) == self._max_batch:
                return batch, False
            try:
                waiter = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _write(self, items: list[Incoming]) -> Sequence[_Outcome]:
        """The whole transaction, COMMIT included; one outcome per item."""
        try:
            return self._transaction(items)
        except Exception as exc:
            unreachable = _database_unreachable(exc, self._dbapi)
            if len(items) > 1 and not unreachable:
                # Not the database being down but something in one row: write them one by one so
                # a single bad notification cannot turn every concurrent delivery into a 503.
                log.warning("journal batch of %d failed (%s); retrying row by row", len(items), exc)
                return [outcome for item in items for outcome in self._write([item])]
            if unreachable:
                log.warning("journal write failed, database unavailable: %s", exc)
            else:
                log.error("journal write failed for %s", items[0].notification.provider_txn_id, exc_info=exc)
            return [UnavailableError("the journal could not be written; retry later") for _ in items]

    def _transaction(self, items: list[Incoming]) -> list[Stored]:
        # The writer keeps one connection: no pool checkout, reset and pre-ping round trip per batch.
        # A connection that went stale while idle (PostgreSQL restarted) gets one fresh retry;
        # the retry is safe, a batch that did commit is found again by its keys.
        reused = self._conn is not None
        while True:
            if self._conn is None:
                self._conn = self._engine.connect()
            try:
                with self._conn.begin():
                    return write_batch(self._conn, items)
            except Exception as exc:
                if not _database_unreachable(exc, self._dbapi):
                    raise
                self._disconnect(invalidate=True)
                if not reused:
                    raise
                reused = False

    def _disconnect(self, *, invalidate: bool = False) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        # The connection may already be dead; closing it must not hide the error being handled.
        with contextlib.suppress(Exception):
            if invalidate:
                conn.invalidate()
            conn.close()


def _call_on(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # the loop is closed: the app stopped without stop(), nobody is waiting
        log.warning("journal writer: the event loop closed before its results were delivered")


def _resolve(batch: list[_Waiter], outcomes: Sequence[_Outcome]) -> None:
    # On the event loop, once per batch. A future already done was answered 503 or its request gave up.
    for (_, future), outcome in zip(batch, outcomes, strict=True):
        if future.done():
            continue
        if isinstance(outcome, Stored):
            future.set_result(outcome)
        else:
            future.set_exception(outcome)


def _finish(finished: asyncio.Future[None]) -> None:
    if not finished.done():
        finished.set_result(None)
