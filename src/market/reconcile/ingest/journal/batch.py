"""A batch's SQL: the steps that journal a list of rows, and the two ways of running them.

:func:`write_steps` yields each statement of a batch and receives its result, without doing any
I/O itself; :func:`run_steps` runs it on a blocking DBAPI cursor (SQLite on the event loop,
:func:`write_batch` for the CLI and tests), :func:`run_steps_async` on psycopg's asyncio cursor.
Usually a batch is one INSERT (after the last id, on SQLite); lookups follow only for rows the
INSERT skipped: a provider's retry, or a bank credit's second copy.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any, Literal, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.reconcile.ingest.journal.rows import (
    COLUMNS,
    DialectSql,
    Incoming,
    Stored,
    json_text,
    sql_for,
    sqlite_parameters,
)
from market.reconcile.statuses import STATUS_DUPLICATE

_T = TypeVar("_T")
# Rows per multi-row INSERT on SQLite: 20 columns each, far below its 32,766 parameters, and few
# enough statement shapes (1..64 rows) for sqlite3's cache of prepared statements.
_SQLITE_ROWS = 64

_Key = tuple[str, str]
_Found = dict[_Key, tuple[int, int | None]]
_KEYS = msgspec.json.Decoder(list[tuple[str, str, int, int | None]])
_IDS = msgspec.json.Decoder(list[int])
_REFERENCES = msgspec.json.Decoder(list[tuple[int, str | None, str | None]])


# The batch's SQL is written once as generators that yield each statement and receive its result
# (sans I/O), so one implementation runs on a blocking DBAPI cursor (SQLite on the loop, tests,
# the CLI) and on psycopg's asyncio cursor (PostgreSQL on the loop). A statement is
# ``(sql, parameters, what to read back)``: the first row, all rows, the row count, or nothing
# (``executemany``).
_Query = tuple[str, Any, Literal["one", "all", "count", "many"]]
_Steps = Generator[_Query, Any, _T]


def run_steps(cursor: Any, steps: _Steps[_T]) -> _T:
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


async def run_steps_async(cursor: Any, steps: _Steps[_T]) -> _T:
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


def _journalled(sql: DialectSql, keys: Sequence[_Key]) -> _Steps[_Found]:
    """``{(provider, provider_txn_id): (id, duplicate_of)}`` for those of ``keys`` already in the journal."""
    if not keys:
        return {}
    if sql.sqlite is not None:
        (found_json,) = yield sql.sqlite.by_key, (json_text(list(keys)),), "one"
        found = _KEYS.decode(found_json)
    else:
        found = yield sql.by_key, ([provider for provider, _ in keys], [txn for _, txn in keys]), "all"
    return {(provider, txn): (row_id, duplicate_of) for provider, txn, row_id, duplicate_of in found}


def _insert_sqlite(sql: DialectSql, first_of: dict[_Key, Incoming]) -> _Steps[dict[_Key, int]]:
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
        inserted += yield statements.insert(len(chunk)), sqlite_parameters(sql, ids[start], chunk), "count"
    if inserted == len(keys):
        return dict(zip(keys, ids, strict=True))
    (ids_json,) = yield statements.created_since, (last_id,), "one"
    exist = set(_IDS.decode(ids_json))
    return {key: row_id for row_id, key in zip(ids, keys, strict=True) if row_id in exist}


def _insert_postgresql(sql: DialectSql, first_of: dict[_Key, Incoming]) -> _Steps[dict[_Key, int]]:
    """Insert the batch in one round trip; ``{key: id}`` of the rows created (RETURNING names them)."""
    rows = [sql.row(None, item) for item in first_of.values()]
    columns = [list(column) for column in zip(*rows, strict=True)][1:]  # the sequence gives the ids
    returned = yield sql.insert_rows, columns, "all"
    return {(provider, txn): row_id for row_id, provider, txn in returned}


def _originals(sql: DialectSql, references: list[str]) -> _Steps[dict[tuple[str, str], int]]:
    """``{(account_number, bank_reference): id}`` of the original rows of the credits with one of ``references``."""
    if sql.sqlite is not None:
        (found_json,) = yield sql.sqlite.originals, (json_text(references),), "one"
        found = _REFERENCES.decode(found_json)
    else:
        found = yield sql.originals, (references,), "all"
    return {(account, reference): row_id for row_id, account, reference in found if account and reference}


def _store_copies(sql: DialectSql, copies: dict[_Key, Incoming]) -> _Steps[tuple[dict[_Key, tuple[int, int]], _Found]]:
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
        row[COLUMNS.index("status")] = STATUS_DUPLICATE
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
        return run_steps(cursor, write_steps(sql_for(conn.dialect), items))
    finally:
        cursor.close()


def write_steps(sql: DialectSql, items: Sequence[Incoming]) -> _Steps[list[Stored]]:
    """The statements that journal ``items``, in ``sql``'s dialect; one :class:`Stored` per item, in order."""
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


def database_unreachable(exc: BaseException, dbapi: Any) -> bool:
    """Whether a batch failed because of the database (down, the connection lost), not one of its rows."""
    if isinstance(exc, sa.exc.DBAPIError):
        return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError) or exc.connection_invalidated
    # The writer's own statements go through the DBAPI cursor, so their errors arrive unwrapped.
    return isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError | OSError | TimeoutError)
