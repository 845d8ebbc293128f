"""The journal writer's SQLite connection, on the event loop, and the thread that checkpoints its WAL.

The loop never waits on SQLite: a write lock held elsewhere raises :class:`LockBusyError` (the
writer tries the batch again shortly), and WAL checkpoints, which wait for the disk, run in a
thread of their own (:class:`_WalCheckpointer`).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import PoolProxiedConnection

from market.reconcile.ingest.journal.batch import run_steps, write_steps
from market.reconcile.ingest.journal.rows import DialectSql, Incoming, Stored

log = logging.getLogger(__name__)


class LockBusyError(Exception):
    """Another connection holds SQLite's write lock; the batch is tried again shortly."""


# Rows committed between two background checkpoints. The checkpoint's fsyncs and its scan of the
# WAL come per checkpoint, so rarer checkpoints cost the process less CPU per row (and the
# webhooks some of their rate under load), while the WAL grows between two (benchmarks/README.md).
_CHECKPOINT_ROWS = 4000
# The writer's own automatic checkpoint, only a backstop should the background one fall behind.
_BACKSTOP_CHECKPOINT_PAGES = 10_000


class SqliteConnection:
    """The event loop's own SQLite connection: it never waits for the write lock, nor for the disk.

    A WAL checkpoint copies committed pages into the database file and fsyncs both files; done by
    the committing connection (SQLite's default, every 1,000 pages) it stalled the event loop
    for the disk now and then. A :class:`_WalCheckpointer` thread does it instead, with the GIL
    released, while the loop goes on taking requests.
    Durability is the WAL's: a committed transaction survives the process whether or not it has
    been checkpointed.
    """

    def __init__(self, engine: Engine, sql: DialectSql) -> None:
        self._engine = engine
        self._sql = sql
        self._pooled: PoolProxiedConnection | None = None
        self._db: sqlite3.Connection | None = None
        self._checkpointer = _WalCheckpointer(engine)
        self._uncheckpointed = 0

    def transaction(self, items: list[Incoming]) -> list[Stored]:
        """``BEGIN IMMEDIATE``, the rows, ``COMMIT``; :class:`LockBusyError` if another writer holds the lock."""
        db = self._db or self._open()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                raise LockBusyError from None
            self.close()
            raise
        try:
            cursor = db.cursor()
            stored = run_steps(cursor, write_steps(self._sql, items))
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
        # A busy lock is tried again from the loop (``JournalWriter._flush_here``), never waited on.
        db.execute("PRAGMA busy_timeout=0")
        # Inside a transaction, a multi-row INSERT keeps a statement journal (to undo just that
        # statement): in memory, not in a temporary file (system calls for every row).
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


class _WalCheckpointer:
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
