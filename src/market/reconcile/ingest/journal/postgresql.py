"""The journal writer's PostgreSQL connections: psycopg's asyncio ones, on the event loop."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import psycopg
import psycopg.errors
from sqlalchemy.engine import Engine

from market.reconcile.ingest.journal.batch import database_unreachable, run_steps_async, write_steps
from market.reconcile.ingest.journal.rows import DialectSql, Incoming, Stored

log = logging.getLogger(__name__)

# Writes of one batch when PostgreSQL keeps breaking deadlocks with other workers (each after
# ``deadlock_timeout``).
_DEADLOCK_ATTEMPTS = 3


class PostgresqlConnection:
    """The event loop's own PostgreSQL connections: psycopg's asyncio ones, one per batch in flight.

    A batch's statements go out and come back through the event loop, which serves requests
    meanwhile. Before, a thread ran them with a blocking connection: on the server's one core it
    handed the GIL back and forth with the loop at every statement. Each batch takes a connection
    of its own (statements of two batches must not interleave on one connection).
    A connection that went stale while idle (PostgreSQL restarted) gets one fresh retry; the retry
    is safe, a batch that did commit is found again by its keys.
    """

    def __init__(self, engine: Engine, sql: DialectSql) -> None:
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
                    if not database_unreachable(exc, psycopg):
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
            return await run_steps_async(cursor, write_steps(self._sql, items))
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
