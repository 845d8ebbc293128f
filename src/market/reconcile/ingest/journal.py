"""The group-commit journal writer: many concurrent deliveries, one transaction, 2xx only after COMMIT.

Each request hands its row to :meth:`JournalWriter.append` and waits. The writer takes whatever is
waiting (up to ``max_batch`` rows) into ONE transaction, commits, and only then wakes every waiter
with its :class:`Stored` result; if the transaction fails, every waiter of that batch gets
:class:`~market.errors.UnavailableError` (the web layer answers 503, the provider retries). A commit
per request caps at ~1.1k/s on SQLite, a commit per batch reached ~6.7k/s (stack.md §3.2c2, §3.3).

Where the transaction runs (measured with ``benchmarks/load_webhooks.py``, server on one core):
on SQLite, on the event loop itself, once the requests ready in a loop iteration have all joined
the batch; a thread saved nothing on one core and cost a wake-up and the GIL passed back and forth
per statement. A batch is a handful of ``sqlite3_step`` calls (BEGIN, the last id, a multi-row
INSERT, COMMIT; the rare lookups answer in one JSON row), because each step releases the GIL and
taking it back can wait a switch interval (5 ms) while another thread of the process (the matcher)
runs Python. The loop never waits for the lock: another writer holding it means "try again in a
moment"; WAL checkpoints run in a thread of their own (``_Checkpointer``). On PostgreSQL a batch
is one autocommitted INSERT, a network round trip: it runs on the loop too, on psycopg's asyncio
connection, while the next batch collects.

Inside the transaction the writer talks to the DBAPI cursor directly with SQL built once per
dialect: SQLAlchemy Core (compile, per-row parameter processing, read-back SELECTs) cost ~80 µs of
CPU per row. The stored values are what SQLAlchemy would write (PostgreSQL uses its processors;
SQLite's fast encoders are pinned by a test).

Idempotency is the database's, and so is "one bank credit, one original": ``INSERT ... ON
CONFLICT DO NOTHING`` against two unique keys, the provider's ``(provider, provider_txn_id)`` and
the bank credit's ``(bank_reference, account_number)`` among rows that are not duplicates. A batch
whose rows are all new is therefore one statement, with no lookups. A row the INSERT skipped is
either a retry (its key is journalled: answered with the stored row) or the same bank credit
arriving through a second provider: stored then with status ``duplicate`` of the first copy
(webhooks.md §0 rule 4). Several worker processes on PostgreSQL may ingest at once: the unique
index makes a concurrent insert of the other copy wait for the first one's commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from itertools import chain
from typing import Any, Literal, TypeVar, cast

import msgspec
import psycopg
import psycopg.errors
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.pool import PoolProxiedConnection

from market.config import Settings
from market.errors import UnavailableError
from market.reconcile.ingest.adapters import Parser, RejectionError
from market.reconcile.ingest.adapters.base import HEADERS_KEPT
from market.reconcile.ingest.models import ORIGINAL_CREDIT, JournalEntry
from market.reconcile.notification import Notification
from market.reconcile.speedups import speedups
from market.reconcile.statuses import STATUS_DUPLICATE, STATUS_PENDING, STATUS_REVIEW

__all__ = ["Delivery", "Incoming", "JournalWriter", "Stored", "write_batch"]

log = logging.getLogger(__name__)

_TABLE: sa.Table = JournalEntry.__table__  # type: ignore[assignment]
_T = TypeVar("_T")
# Rows per multi-row INSERT on SQLite: 20 columns each, far below its 32,766 parameters, and few
# enough statement shapes (1..64 rows) for sqlite3's cache of prepared statements.
_SQLITE_ROWS = 64


# sqlite3 binds str, int, float and bytearray directly, but sends None and bytes through its
# adapter registry first; finding no adapter there costs a failed attribute lookup on its
# PrepareProtocol type, whose AttributeError message is formatted and dropped: ~800 instructions
# a value, a dozen values in a journal row (NULL columns, the raw body). Adapters that hand the
# value back bind exactly what sqlite3 would have bound; both are C callables, so no Python frame
# either: ``{}.get(None)`` is None, and ``bytes(b)`` is ``b`` itself for exact bytes. The registry
# is the process's: SQLAlchemy's statements on SQLite take the same shortcut.
_NOTHING: dict[None, None] = {}
sqlite3.register_adapter(type(None), _NOTHING.get)
sqlite3.register_adapter(bytes, bytes)


class Incoming(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One authenticated delivery on its way into the journal."""

    notification: Notification
    raw_body: bytes
    raw_headers: dict[str, str]
    auth: str
    review_reason: str | None = None


class Delivery(msgspec.Struct, frozen=True, gc=False):
    """A raw request on its way into the journal, to be verified by its provider's adapter first."""

    parse: Parser
    body: bytes
    headers: Mapping[str, str]
    settings: Settings
    received_at: dt.datetime

    def verified(self) -> Incoming | None:
        """The journal row (``None`` for a test event); raises the adapter's :class:`RejectionError`."""
        accepted = self.parse(self.body, self.headers, self.settings, self.received_at)
        if accepted.notification is None:
            return None
        return Incoming(
            notification=accepted.notification,
            raw_body=self.body,
            raw_headers={name: self.headers[name] for name in HEADERS_KEPT if name in self.headers},
            auth=accepted.auth,
            review_reason=accepted.review_reason,
        )


class Stored(msgspec.Struct, frozen=True, kw_only=True, gc=False):
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


_JSON = msgspec.json.encode


def _sqlite_time(value: dt.datetime) -> str:
    """What ``UTCDateTime`` stores on SQLite: naive UTC in SQLAlchemy's ``DATETIME`` text format."""
    if value.tzinfo is dt.UTC:  # what the adapters produce
        # msgspec's C encoder writes b'"2025-06-01T09:15:42.123456Z"' in ~0.2 µs; isoformat() took
        # ~3 µs, twice per journal row (edited as bytes, decoded once: ~3.2k instructions against
        # isoformat's 13k). It leaves out a zero fraction, which SQLAlchemy writes.
        text = _JSON(value)[1:-2].replace(b"T", b" ").decode()
        return text if value.microsecond else text + ".000000"
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
        self.sqlite = _SqliteStatements(table) if dialect.name == "sqlite" else None
        self.insert_rows = _postgresql_insert_rows(table, dialect) if dialect.name == "postgresql" else ""
        # PostgreSQL's lookups: one index probe per key, whatever the planner believes. With an IN
        # list and no statistics yet (a young table, autovacuum behind) it chose a sequential scan
        # of the whole journal, ~20 ms per batch at 100k rows; OFFSET 0 keeps each subquery a
        # lookup. One statement for any number of keys, too.
        self.by_key = (
            f"SELECT k.provider, k.txn, j.id, j.duplicate_of FROM unnest({self.mark}::text[], {self.mark}::text[]) "
            f"AS k(provider, txn), LATERAL (SELECT id, duplicate_of FROM {table} "
            "WHERE provider = k.provider AND provider_txn_id = k.txn OFFSET 0) AS j"
        )
        # The original (not duplicate) row of each bank credit: the unique index's own condition.
        self.originals = (
            f"SELECT j.id, j.account_number, j.bank_reference FROM unnest({self.mark}::text[]) AS r(reference), "
            f"LATERAL (SELECT id, account_number, bank_reference FROM {table} "
            f"WHERE bank_reference = r.reference AND {ORIGINAL_CREDIT} OFFSET 0) AS j"
        )
        # A second copy, one at a time (rare): stored with status duplicate and its first copy's id,
        # unless another worker has just stored the same delivery (the provider retried it there).
        marks = [self.mark] * (len(_COLUMNS) + 1)
        if dialect.name == "postgresql":
            marks[_COLUMNS.index("raw_headers")] += "::json"  # JSON text, as _postgresql_insert_rows casts it
        self.insert_copy = (
            f"INSERT INTO {table} ({', '.join(_COLUMNS)}, duplicate_of) VALUES ({', '.join(marks)}) "
            "ON CONFLICT (provider, provider_txn_id) DO NOTHING RETURNING id"
        )
        self._time: Callable[[dt.datetime], Any]
        # JSON text: SQLite stores it as is, PostgreSQL casts it (``_postgresql_insert_rows``).
        self._json = _json_text
        if dialect.name == "sqlite":
            # SQLAlchemy's processors cost ~10 µs a row; tests/ingest pins these to the same stored values.
            self._time = _sqlite_time
        else:
            self._time = _encoder(dialect, "received_at")

    def row(self, row_id: int | None, item: Incoming) -> tuple[Any, ...]:
        """``row_id`` (SQLite gives the ids; ``None`` on PostgreSQL), then ``item`` in ``_COLUMNS`` order."""
        n = item.notification
        encode_time = self._time
        return (
            row_id,
            n.provider,
            n.provider_txn_id,
            STATUS_REVIEW if item.review_reason else STATUS_PENDING,
            item.review_reason,
            n.amount,
            n.direction,
            n.memo,
            encode_time(n.transferred_at),
            encode_time(n.received_at),
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
_IDS = msgspec.json.Decoder(list[int])
_REFERENCES = msgspec.json.Decoder(list[tuple[int, str | None, str | None]])


class _SqliteStatements:
    """SQLite's statements for a whole batch, each a single step answering in (at most) one row.

    Every ``sqlite3_step`` releases the GIL (see the module docstring), so a batch is one
    multi-row INSERT per ``_SQLITE_ROWS`` rows and lookups that answer in one JSON row, not a
    step or two per row. A JSON array parameter is also one fixed statement, where an IN list
    of N placeholders would be a new statement to prepare for every batch size.
    """

    def __init__(self, table: str) -> None:
        self.table = table
        self.last_id = f"SELECT coalesce(max(id), 0) FROM {table}"
        self.created_since = f"SELECT json_group_array(id) FROM {table} WHERE id > ?"
        self.by_key = (
            "SELECT json_group_array(json_array(j.provider, j.provider_txn_id, j.id, j.duplicate_of)) "
            f"FROM json_each(?) AS k JOIN {table} AS j ON j.provider = json_extract(k.value, '$[0]') "
            "AND j.provider_txn_id = json_extract(k.value, '$[1]')"
        )
        self.originals = (
            f"SELECT json_group_array(json_array(id, account_number, bank_reference)) FROM {table} "
            f"WHERE bank_reference IN (SELECT value FROM json_each(?)) AND {ORIGINAL_CREDIT}"
        )
        self._inserts: dict[int, str] = {}

    def insert(self, rows: int) -> str:
        """``INSERT`` of ``rows`` rows at once, each with its id first, skipping keys and credits already journalled.

        One statement per row count; sqlite3 keeps it prepared.
        """
        statement = self._inserts.get(rows)
        if statement is None:
            row = "(" + ", ".join(["?"] * (1 + len(_COLUMNS))) + ")"
            statement = self._inserts[rows] = (
                f"INSERT INTO {self.table} (id, {', '.join(_COLUMNS)}) VALUES {', '.join([row] * rows)} "
                "ON CONFLICT DO NOTHING"
            )
        return statement


# The batch's SQL is written once as generators that yield each statement and receive its result
# (sans I/O), so one implementation runs on a blocking DBAPI cursor (SQLite on the loop, tests,
# the CLI) and on psycopg's asyncio cursor (PostgreSQL on the loop). A statement is
# ``(sql, parameters, what to read back)``: the first row, all rows, the row count, or nothing
# (``executemany``).
_Query = tuple[str, Any, Literal["one", "all", "count", "many"]]
_Steps = Generator[_Query, Any, _T]


def _drive(cursor: Any, steps: _Steps[_T]) -> _T:
    """Run ``steps`` on a blocking DBAPI cursor."""
    try:
        query = next(steps)
        while True:
            query = steps.send(_run_blocking(cursor, query))
    except StopIteration as done:
        result: _T = done.value
        return result


def _run_blocking(cursor: Any, query: _Query) -> Any:
    statement, params, read = query
    if read == "many":
        cursor.executemany(statement, params)
        return None
    cursor.execute(statement, params)
    if read == "one":
        return cursor.fetchone()
    return cursor.fetchall() if read == "all" else cursor.rowcount


async def _drive_async(cursor: Any, steps: _Steps[_T]) -> _T:
    """Run ``steps`` on psycopg's asyncio cursor."""
    try:
        query = next(steps)
        while True:
            statement, params, read = query
            if read == "many":
                await cursor.executemany(statement, params)
                answer = None
            else:
                await cursor.execute(statement, params)
                if read == "one":
                    answer = await cursor.fetchone()
                else:
                    answer = await cursor.fetchall() if read == "all" else cursor.rowcount
            query = steps.send(answer)
    except StopIteration as done:
        result: _T = done.value
        return result


def _journalled(sql: _Sql, keys: Sequence[_Key]) -> _Steps[_Found]:
    """``{(provider, provider_txn_id): (id, duplicate_of)}`` for those of ``keys`` already in the journal."""
    if not keys:
        return {}
    if sql.sqlite is not None:
        (found_json,) = yield sql.sqlite.by_key, (_json_text(list(keys)),), "one"
        found = _KEYS.decode(found_json)
    else:
        found = yield sql.by_key, ([provider for provider, _ in keys], [txn for _, txn in keys]), "all"
    return {(provider, txn): (row_id, duplicate_of) for provider, txn, row_id, duplicate_of in found}


def _insert_sqlite(sql: _Sql, first_of: dict[_Key, Incoming]) -> _Steps[dict[_Key, int]]:
    """Insert the batch; ``{key: id}`` of the rows created (those ON CONFLICT skipped are absent)."""
    # The transaction holds SQLite's only write lock, so the ids after the last one are ours to
    # give: the i-th row gets last + i. Only when ON CONFLICT left some out (a provider's retry,
    # a second copy of a credit) do we read back which ids exist (an unused id is a gap, as in a
    # PostgreSQL sequence).
    statements = sql.sqlite
    assert statements is not None
    (last_id,) = yield statements.last_id, (), "one"
    keys = list(first_of)
    items = list(first_of.values())
    ids = range(last_id + 1, last_id + 1 + len(keys))
    inserted = 0
    for start in range(0, len(keys), _SQLITE_ROWS):
        chunk = items[start : start + _SQLITE_ROWS]
        inserted += yield statements.insert(len(chunk)), _sqlite_parameters(sql, ids[start], chunk), "count"
    if inserted == len(keys):
        return dict(zip(keys, ids, strict=True))
    (ids_json,) = yield statements.created_since, (last_id,), "one"
    exist = set(_IDS.decode(ids_json))
    return {key: row_id for row_id, key in zip(ids, keys, strict=True) if row_id in exist}


def _sqlite_parameters(sql: _Sql, first_id: int, chunk: list[Incoming]) -> list[Any]:
    """The multi-row INSERT's parameters: each row of ``chunk`` (``_Sql.row``, ids from ``first_id``) in turn."""
    if speedups is not None:
        # The same values built in C: 1.4-2.1 µs a row in Python (attributes, the two times' text,
        # the headers' JSON), 0.5-0.75 µs here (benchmarks/README.md).
        return speedups.journal_rows(first_id, chunk, STATUS_PENDING, STATUS_REVIEW, _sqlite_time, _json_text)
    # The rows' tuples flattened in C: a loop of appends and extends cost ~0.3 µs a row.
    return list(chain.from_iterable(map(sql.row, range(first_id, first_id + len(chunk)), chunk)))


def _postgresql_insert_rows(table: str, dialect: Dialect) -> str:
    """One INSERT for any number of rows: a parameter per column, each an array of the rows' values.

    A fixed statement (prepared once) doing one executor run, where a pipelined INSERT per row
    cost ~2.4 ms per 64 rows (parse, bind, execute each); ``RETURNING`` names the created keys.
    """
    types = {name: _TABLE.c[name].type.compile(dialect=dialect) for name in _COLUMNS}
    arrays = ", ".join(f"%b::{'TEXT' if kind == 'JSON' else kind}[]" for kind in types.values())
    values = ", ".join(f"v.{name}::json" if kind == "JSON" else f"v.{name}" for name, kind in types.items())
    columns = ", ".join(_COLUMNS)
    return (
        f"INSERT INTO {table} ({columns}) SELECT {values} FROM unnest({arrays}) AS v({columns}) "
        "ON CONFLICT DO NOTHING RETURNING id, provider, provider_txn_id"
    )


def _insert_postgresql(sql: _Sql, first_of: dict[_Key, Incoming]) -> _Steps[dict[_Key, int]]:
    """Insert the batch in one round trip; ``{key: id}`` of the rows created (RETURNING names them)."""
    rows = [sql.row(None, item) for item in first_of.values()]
    columns = [list(column) for column in zip(*rows, strict=True)][1:]  # the sequence gives the ids
    returned = yield sql.insert_rows, columns, "all"
    return {(provider, txn): row_id for row_id, provider, txn in returned}


def _originals(sql: _Sql, references: list[str]) -> _Steps[dict[tuple[str, str], int]]:
    """``{(account_number, bank_reference): id}`` of the original rows of the credits with one of ``references``."""
    if sql.sqlite is not None:
        (found_json,) = yield sql.sqlite.originals, (_json_text(references),), "one"
        found = _REFERENCES.decode(found_json)
    else:
        found = yield sql.originals, (references,), "all"
    return {(account, reference): row_id for row_id, account, reference in found if account and reference}


def _store_copies(sql: _Sql, copies: dict[_Key, Incoming]) -> _Steps[tuple[dict[_Key, tuple[int, int]], _Found]]:
    """Store second copies of credits already journalled.

    ``copies`` are rows the INSERT skipped whose key is not journalled: the unique index of bank
    credits refused them, so each credit's original row exists and is committed (on PostgreSQL a
    conflicting insert waits for the other transaction). Rare, so one row at a time.

    Returns ``{key: (id, the first copy's id)}`` of the copies stored here, and, as
    :func:`_journalled`, those another worker stored meanwhile (PostgreSQL: a provider's retry of
    the copy reached both).
    """
    originals = yield from _originals(sql, list({item.notification.bank_reference or "" for item in copies.values()}))
    stored = {}
    raced = []
    for key, item in copies.items():
        n = item.notification
        first = originals.get((n.account_number or "", n.bank_reference or ""))
        if first is None:  # cannot be, by the unique keys; the batch fails and its providers retry (503)
            raise RuntimeError(f"journal: {key} was skipped, yet neither its key nor its credit is journalled")
        row = list(sql.row(None, item)[1:])
        row[_COLUMNS.index("status")] = STATUS_DUPLICATE
        inserted = yield sql.insert_copy, (*row, first), "one"
        if inserted is None:
            raced.append(key)
        else:
            stored[key] = (inserted[0], first)
    elsewhere = yield from _journalled(sql, raced)
    if len(elsewhere) < len(raced):
        raise RuntimeError(f"journal: {raced} were skipped as stored, yet they are not journalled")
    return stored, elsewhere


def write_batch(conn: Connection, items: Sequence[Incoming]) -> list[Stored]:
    """Journal ``items`` inside the caller's transaction; one :class:`Stored` per item, in order.

    The caller commits; nothing here is durable before that. A retry racing its original inside
    one batch is inserted once; on PostgreSQL ``ON CONFLICT`` also covers another worker that
    committed the same key or credit meanwhile.
    """
    if not items:
        return []
    cursor = conn.connection.cursor()
    try:
        return _drive(cursor, _write_rows(_sql_for(conn.dialect), items))
    finally:
        cursor.close()


def _write_rows(sql: _Sql, items: Sequence[Incoming]) -> _Steps[list[Stored]]:
    keys: list[_Key] = [(i.notification.provider, i.notification.provider_txn_id) for i in items]
    first_of = dict(zip(keys, items, strict=True))
    if len(first_of) < len(keys):  # a retry racing its original: the first one is written
        first_of = {}
        for key, item in zip(keys, items, strict=True):
            first_of.setdefault(key, item)
    insert = _insert_sqlite if sql.sqlite is not None else _insert_postgresql
    created = yield from insert(sql, first_of)
    if len(created) == len(keys):
        # Each key once, each one new, no second copy of a credit: the usual batch.
        return [Stored(id=created[key], created=True) for key in keys]
    skipped = [key for key in first_of if key not in created]
    before = yield from _journalled(sql, skipped)
    copies, elsewhere = yield from _store_copies(sql, {key: first_of[key] for key in skipped if key not in before})
    before.update(elsewhere)
    stored = []
    seen: set[_Key] = set()
    for key in keys:
        if key in created:
            stored.append(Stored(id=created[key], created=key not in seen))
        elif key in copies:
            row_id, first = copies[key]
            stored.append(Stored(id=row_id, created=key not in seen, duplicate_of=first))
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


class _LockBusyError(Exception):
    """Another connection holds SQLite's write lock; the batch is tried again shortly."""


# One delivery waiting for its commit: the row (or the request still to verify), the request's
# future, and when it stops waiting.
_Waiter = tuple[Incoming | Delivery, "asyncio.Future[Stored | None]", float]
_Outcome = Stored | UnavailableError
_Transaction = Callable[[list[Incoming]], list[Stored]]
# A busy SQLite write lock is tried again after 1 ms, then 2, 4... at most every 50 ms.
_BUSY_FIRST_WAIT, _BUSY_LONGEST_WAIT = 0.001, 0.05
# PostgreSQL transactions at once. Two (one inserting while the other commits) measured slower:
# the batches halved, and PostgreSQL and the writer spent more per row (~8k against ~9.2k req/s).
_POSTGRESQL_IN_FLIGHT = 1
# Writes of one batch when PostgreSQL keeps breaking deadlocks with other workers (each ~1 s).
_DEADLOCK_ATTEMPTS = 3


class JournalWriter:
    """One per process: batches concurrent :meth:`append` calls into one transaction each.

    Deliveries wait in a list on the event loop; a flush takes them (up to ``max_batch``) into one
    transaction: on SQLite right there on the loop, on PostgreSQL as a task of the loop awaiting
    psycopg's asyncio connection, at most ``_POSTGRESQL_IN_FLIGHT`` batches at a time (module docstring).

    Args:
        engine: a blocking engine on the app's database (``create_sync_engine_for(settings)``).
        max_batch: most rows per transaction.
        wait_seconds: longest a request waits for its commit before it is told to retry (503);
            below payOS's 10 s timeout (webhooks.md §1.3). The row may still be committed: the
            provider's retry then finds it and adds nothing.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 1000, wait_seconds: float = 8.0) -> None:
        self._engine = engine.execution_options(sqlite_immediate=True)
        self._dbapi = engine.dialect.loaded_dbapi
        self._sql = _sql_for(engine.dialect)
        self._max_batch = max_batch
        self._wait_seconds = wait_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._accepting = False
        self._pending: list[_Waiter] = []  # arrival order
        self._unverified_from = 0  # the waiters before this index in _pending are verified (or answered)
        self._in_flight: list[list[_Waiter]] = []  # batches PostgreSQL transactions are writing
        self._scheduled = False  # a flush is waiting in the loop's queue (or for a busy lock)
        self._seen = 0  # how many were waiting when a scheduled flush last looked
        self._busy_wait = _BUSY_FIRST_WAIT
        self._drained: asyncio.Future[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._sqlite: _SqliteConnection | None = None
        self._postgresql: _PostgresqlConnection | None = None

    async def start(self) -> None:
        """Open the writer's connection (SQLite) or threads (PostgreSQL), and the watchdog."""
        self._loop = asyncio.get_running_loop()
        if self._sql.sqlite is not None:
            self._sqlite = _SqliteConnection(self._engine, self._sql)
        else:
            self._postgresql = _PostgresqlConnection(self._engine, self._sql)
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
        its code and data were cold every time, 26-48 µs of CPU against 8-10 in a batch
        (benchmarks/README.md, "Adapters in the batch").
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
            # waiting for a bigger batch (and 64 rows per commit cost far less than 20).
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
                verified = _verified(item, future)
                if verified is not None:
                    pending[index] = (verified, future, deadline)
        self._unverified_from = end
        if end < len(pending):
            self._schedule()

    def _take(self) -> list[_Waiter]:
        """The next batch: verified waiters whose request still waits (not answered, not gone), oldest first."""
        batch: list[_Waiter] = []
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

    def _flush_here(self, sqlite: _SqliteConnection, batch: list[_Waiter]) -> None:
        try:
            outcomes = self._write(sqlite.transaction, _items(batch))
        except _LockBusyError:
            # Someone else is writing (the matcher, a CLI import): keep the batch, and what arrives
            # meanwhile joins it.
            self._pending[:0] = batch
            self._unverified_from += len(batch)
            self._schedule(self._busy_wait)
            self._busy_wait = min(self._busy_wait * 2, _BUSY_LONGEST_WAIT)
            return
        self._busy_wait = _BUSY_FIRST_WAIT
        _resolve(batch, outcomes)
        self._after_batch()

    def _send_to_postgresql(self, batch: list[_Waiter]) -> None:
        assert self._loop is not None
        self._in_flight.append(batch)
        items = _items(batch)
        done = self._loop.create_task(self._write_async(items), name="journal-batch")
        done.add_done_callback(functools.partial(self._written, batch))
        # While this one waits for PostgreSQL, the next batch collects (and leaves when it is written).
        self._after_batch()

    def _written(self, batch: list[_Waiter], done: asyncio.Future[Sequence[_Outcome]]) -> None:
        self._in_flight.remove(batch)
        if done.cancelled() or done.exception() is not None:
            failed = UnavailableError("the journal could not be written; retry later")
            _resolve(batch, [failed] * len(batch))
        else:
            _resolve(batch, done.result())
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

    def _write(self, transaction: _Transaction, items: list[Incoming]) -> Sequence[_Outcome]:
        """The whole transaction, COMMIT included; one outcome per item."""
        try:
            return transaction(items)
        except _LockBusyError:
            raise
        except Exception as exc:  # noqa: BLE001 - logged by _failed; a provider gets a 503, never a 500
            failed = self._failed(exc, items)
            if failed is not None:
                return failed
            return [outcome for item in items for outcome in self._write(transaction, [item])]

    async def _write_async(self, items: list[Incoming]) -> Sequence[_Outcome]:
        """:meth:`_write` for PostgreSQL's transactions, which run on the loop."""
        assert self._postgresql is not None
        try:
            return await self._postgresql.transaction(items)
        except Exception as exc:  # noqa: BLE001 - logged by _failed; a provider gets a 503, never a 500
            failed = self._failed(exc, items)
            if failed is not None:
                return failed
            return [outcome for item in items for outcome in await self._write_async([item])]

    def _failed(self, exc: Exception, items: list[Incoming]) -> list[_Outcome] | None:
        """The outcomes of a failed transaction: 503 for each item, or ``None``: write them one by one.

        Not the database being down but something in one row of a batch: one by one, a single
        bad notification cannot turn every concurrent delivery into a 503.
        """
        unreachable = _database_unreachable(exc, self._dbapi)
        if len(items) > 1 and not unreachable:
            log.warning("journal batch of %d failed (%s); retrying row by row", len(items), exc)
            return None
        if unreachable:
            log.warning("journal write failed, database unavailable: %s", exc)
        else:
            log.error("journal write failed for %s", items[0].notification.provider_txn_id, exc_info=exc)
        return [UnavailableError("the journal could not be written; retry later") for _ in items]


class _PostgresqlConnection:
    """The event loop's own PostgreSQL connections: psycopg's asyncio ones, one per batch in flight.

    A batch's statements go out and come back through the event loop, which serves requests
    meanwhile. Before, a thread ran them with a blocking connection: on the server's one core it
    handed the GIL back and forth with the loop at every statement. Each batch takes a connection
    of its own (statements of two batches must not interleave on one connection).
    A connection that went stale while idle (PostgreSQL restarted) gets one fresh retry; the retry
    is safe, a batch that did commit is found again by its keys.
    """

    def __init__(self, engine: Engine, sql: _Sql) -> None:
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._sql = sql
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._busy: set[psycopg.AsyncConnection[Any]] = set()

    async def transaction(self, items: list[Incoming]) -> list[Stored]:
        conn = self._idle.pop() if self._idle else None
        reused = conn is not None
        try:
            while True:
                if conn is None:
                    # As the app's engines: fail fast when PostgreSQL is down, so the provider retries.
                    conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True, connect_timeout=3)
                self._busy.add(conn)
                try:
                    # Autocommit: each statement is its own transaction, so the usual batch (one
                    # INSERT) is one round trip. A rare second step (a retry's row, a second copy)
                    # commits on its own; the batch is answered only after the last one. Should a
                    # later step fail (the connection lost), the rows are written again one by one
                    # and those the INSERT had committed answer ``created=False``: nothing is lost
                    # or stored twice, only that flag of the generic answer is off.
                    return await self._write_with_retries(conn, items)
                except Exception as exc:
                    if not _database_unreachable(exc, psycopg):
                        raise
                    self._busy.discard(conn)
                    await _close_quietly(conn)
                    conn = None
                    if not reused:
                        raise
                    reused = False
        finally:
            if conn is not None:
                self._busy.discard(conn)
                if not conn.closed:  # close() may have run meanwhile (the writer stopping)
                    self._idle.append(conn)

    async def _write_with_retries(self, conn: psycopg.AsyncConnection[Any], items: list[Incoming]) -> list[Stored]:
        """The batch's statements; written again if PostgreSQL ended one of them to break a deadlock.

        Two workers' batches holding the same bank credits (through two providers) in different
        orders wait for each other's index entries; PostgreSQL aborts one statement after
        ``deadlock_timeout``. Nothing of that statement was written, and the other batch goes
        on, so writing the batch again finds its credits stored and keeps the copies as such.
        Inserting every batch in one order would avoid the wait, but the ids would no longer
        follow the order of arrival, which the matcher keeps.
        """
        for _ in range(_DEADLOCK_ATTEMPTS - 1):
            try:
                return await self._write(conn, items)
            except psycopg.errors.DeadlockDetected:
                log.info("journal batch of %d ended by a deadlock with another worker; writing it again", len(items))
        return await self._write(conn, items)

    async def _write(self, conn: psycopg.AsyncConnection[Any], items: list[Incoming]) -> list[Stored]:
        cursor = conn.cursor()
        try:
            return await _drive_async(cursor, _write_rows(self._sql, items))
        finally:
            await cursor.close()

    async def close(self) -> None:
        """Close every connection; a transaction still in flight (its requests already answered 503) is cut off."""
        connections = [*self._idle, *self._busy]
        self._idle, self._busy = [], set()
        for conn in connections:
            await _close_quietly(conn)


async def _close_quietly(conn: psycopg.AsyncConnection[Any]) -> None:
    # The connection may already be dead; closing it must not raise.
    with contextlib.suppress(Exception):
        await conn.close()


# Rows committed between two background checkpoints (a row is ~1.5 KB: a WAL of ~6 MB, ~1,500
# pages). Every 1,000 rows cost ~2 µs more CPU per row in the process (the checkpoint's fsyncs and
# its scan of the WAL come per checkpoint), and 0.03-0.05 of the webhook/no-op ratio under load.
_CHECKPOINT_ROWS = 4000
# The writer's own automatic checkpoint, only a backstop should the background one fall behind.
_BACKSTOP_CHECKPOINT_PAGES = 10_000


class _SqliteConnection:
    """The event loop's own SQLite connection: it never waits for the write lock, nor for the disk.

    A WAL checkpoint copies committed pages into the database file and fsyncs both files; done by
    the committing connection (SQLite's default, every 1,000 pages) it stalled the event loop for
    1-25 ms every ~40 batches, ~12 µs per row on average (measured). A :class:`_Checkpointer`
    thread does it instead, with the GIL released, while the loop goes on taking requests.
    Durability is the WAL's: a committed transaction survives the process whether or not it has
    been checkpointed.
    """

    def __init__(self, engine: Engine, sql: _Sql) -> None:
        self._engine = engine
        self._sql = sql
        self._pooled: PoolProxiedConnection | None = None
        self._db: sqlite3.Connection | None = None
        self._checkpointer = _Checkpointer(engine)
        self._uncheckpointed = 0

    def transaction(self, items: list[Incoming]) -> list[Stored]:
        """``BEGIN IMMEDIATE``, the rows, ``COMMIT``; :class:`_LockBusyError` if another writer holds the lock."""
        db = self._db or self._open()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                raise _LockBusyError from None
            self.close()
            raise
        try:
            cursor = db.cursor()
            stored = _drive(cursor, _write_rows(self._sql, items))
            cursor.close()
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise
        self._uncheckpointed += len(items)
        if self._uncheckpointed >= _CHECKPOINT_ROWS:
            self._uncheckpointed = 0
            self._checkpointer.request()
        return stored

    def _open(self) -> sqlite3.Connection:
        pooled = self._pooled = self._engine.raw_connection()
        db = pooled.driver_connection
        assert isinstance(db, sqlite3.Connection)
        # A busy lock is tried again from the loop (JournalWriter._flush_here), never waited on.
        db.execute("PRAGMA busy_timeout=0")
        # Inside a transaction, a multi-row INSERT keeps a statement journal (to undo just that
        # statement): in memory, not in a temporary file (~12 µs of system time per row, measured).
        db.execute("PRAGMA temp_store=MEMORY")
        db.execute(f"PRAGMA wal_autocheckpoint={_BACKSTOP_CHECKPOINT_PAGES}")
        self._checkpointer.start()
        self._db = db
        return db

    def close(self) -> None:
        """Discard the connection (its PRAGMAs differ from the pool's other connections)."""
        pooled, self._pooled, self._db = self._pooled, None, None
        self._checkpointer.stop()
        if pooled is not None:
            with contextlib.suppress(Exception):
                pooled.invalidate()


class _Checkpointer:
    """A thread that checkpoints the WAL when asked (and every few seconds), off the event loop.

    ``PASSIVE``: it copies what no reader still needs and never blocks a writer or a reader; the
    next write transaction then starts the WAL file over, so it stays small.
    """

    def __init__(self, engine: Engine, idle_seconds: float = 5.0) -> None:
        self._engine = engine
        self._idle_seconds = idle_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="journal-checkpoint", daemon=True)
            self._thread.start()

    def request(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            self._wake.set()
            thread.join(timeout=30)

    def _run(self) -> None:
        pooled: PoolProxiedConnection | None = None
        try:
            while not self._stopping.is_set():
                self._wake.wait(self._idle_seconds)
                self._wake.clear()
                if self._stopping.is_set():
                    break
                try:
                    if pooled is None:
                        pooled = self._engine.raw_connection()
                    pooled.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
                except (sqlite3.Error, sa.exc.SQLAlchemyError) as exc:  # the backstop still bounds the WAL
                    log.warning("background WAL checkpoint failed: %s", exc)
                    if pooled is not None:
                        with contextlib.suppress(Exception):
                            pooled.invalidate()
                        pooled = None
        finally:
            if pooled is not None:
                with contextlib.suppress(Exception):
                    pooled.close()


def _verified(delivery: Delivery, future: asyncio.Future[Stored | None]) -> Incoming | None:
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


def _items(batch: list[_Waiter]) -> list[Incoming]:
    """The rows of a batch (``_take`` takes verified waiters only)."""
    return cast("list[Incoming]", [item for item, _, _ in batch])


def _resolve(batch: list[_Waiter], outcomes: Sequence[_Outcome]) -> None:
    # On the event loop, once per batch. A future already done was answered 503 or its request gave up.
    for (_, future, _), outcome in zip(batch, outcomes, strict=True):
        if future.done():
            continue
        if isinstance(outcome, Stored):
            future.set_result(outcome)
        else:
            future.set_exception(outcome)
