"""The matching driver: journal in, ledger out, exactly once.

The loop (``core.py`` module docs): read the next batch of journal rows in ``id`` order, let the
pure core decide (:func:`market.reconcile.matching.core.match_batch`), write every decision of the batch
in ONE transaction together with the checkpoint, then fold the result into the in-memory book.

Exactly once:

* The rows still to match are the ones whose journal ``status`` is still ingest's (``pending``,
  or ``review`` for an authentic but unusual delivery); the same transaction that writes a row's
  receipt moves its status on (``matched``, ``unmatched``, ``repeat``, ``outgoing``,
  ``not_ours``). A crash before COMMIT leaves the whole batch to do again, a crash after leaves
  none of it; ``receipts.journal_id`` is unique as a last guard. Cross-provider ``duplicate``
  rows never reach the core: ingest already tied them to the first copy.
* One matcher at a time. On PostgreSQL the driver holds ``pg_try_advisory_lock`` on its own
  connection for as long as it runs (another worker takes over when it dies); on SQLite every
  batch is a ``BEGIN IMMEDIATE`` transaction. Either way each batch first compares the checkpoint
  row with the one it wrote last: if another process (a CLI run, a replay) wrote since, the book
  is rebuilt from the ledger inside the same transaction before anything is decided.
* Outgoing transfers come in as ingest ``review`` rows ("outgoing transfer") and go through the
  core, which ties refunds to the receipts they reverse; other ingest review rows (a provider's
  failed status) go straight to the review queue.

Replay (:meth:`Driver.replay`) empties the ledger, keeps the manual decisions, puts every journal
row back to ingest's status and matches it all again: the core is deterministic, so the result
is the same ledger (``tests/reconcile/test_reconcile_replay.py``).

The book (:mod:`market.reconcile.ledger.book_loader`) is rebuilt from the ledger after
``rebuild_after`` notifications to bound its memory; the writes are in
:mod:`market.reconcile.ledger.writes`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from market.db import utcnow
from market.reconcile.ledger import writes
from market.reconcile.ledger.book_loader import BookLoader
from market.reconcile.ledger.journal_rows import NOTIFICATION_COLUMNS, TO_MATCH, notification_of
from market.reconcile.ledger.manual_decisions import manual_of, unapplied_query
from market.reconcile.ledger.tables import (
    checkpoint_table,
    intents_table,
    journal_table,
    receipts_table,
    review_items_table,
    stall_days_table,
    stall_months_table,
)
from market.reconcile.matching.book import Book, NotificationKey
from market.reconcile.matching.core import apply_manual, match_batch
from market.reconcile.matching.decisions import BatchResult, Decision
from market.reconcile.reasons import OUTGOING_TRANSFER
from market.reconcile.statuses import STATUS_DUPLICATE, STATUS_PENDING, STATUS_REVIEW

__all__ = ["LOCK_KEY", "Driver", "RunReport"]

log = logging.getLogger(__name__)

LOCK_KEY = 0x6D61746368  # "match": any constant shared by every process that matches
_CHECKPOINT_ID = 1


class RunReport(msgspec.Struct, kw_only=True):
    """What one :meth:`Driver.run` did.

    Attributes:
        locked_out: another process holds the matcher lock (PostgreSQL); nothing was done.
        batches / notifications: transactions committed and journal rows they consumed.
        resolutions: manual decisions applied.
        outcomes: decisions by outcome (``sale``, ``paid``, ``review``...).
        last_journal_id: the checkpoint after the run.
    """

    locked_out: bool = False
    batches: int = 0
    notifications: int = 0
    resolutions: int = 0
    outcomes: dict[str, int] = msgspec.field(default_factory=dict)
    last_journal_id: int = 0

    @property
    def changed(self) -> bool:
        """Whether the run wrote anything to the ledger."""
        return bool(self.notifications or self.resolutions)

    def count(self, decisions: Iterable[Decision]) -> None:
        for decision in decisions:
            self.outcomes[decision.outcome] = self.outcomes.get(decision.outcome, 0) + 1


class Driver:
    """Consumes the journal into the ledger; one per process (the server's, or a CLI run).

    Args:
        engine: a blocking engine on the database (``create_sync_engine_for(settings)``).
        batch_size: journal rows per transaction.
        timezone: the market's zone, for the local day of receipts and ``stall_days``.
        rebuild_after: rebuild the book from the ledger after this many notifications.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        batch_size: int = 500,
        timezone: str = "Asia/Ho_Chi_Minh",
        rebuild_after: int = 200_000,
    ) -> None:
        self._engine = engine.execution_options(sqlite_immediate=True)
        self._reader = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._batch_size = batch_size
        self._zone = ZoneInfo(timezone)
        self._rebuild_after = rebuild_after
        self._conn: Connection | None = None
        self._locked = False
        self._book: Book | None = None
        self._loader = BookLoader()
        self._written: dt.datetime | None = None  # the checkpoint's updated_at as we last wrote it

    # Connection and lock -------------------------------------------------------------------------

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self.close()
            self._conn = self._engine.connect()
        return self._conn

    def _acquire(self) -> bool:
        """Take the matcher lock (PostgreSQL); SQLite's ``BEGIN IMMEDIATE`` serialises instead."""
        conn = self._connection()
        if not self._postgres or self._locked:
            return True
        with conn.begin():
            self._locked = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(LOCK_KEY))).scalar())
        return self._locked

    def close(self) -> None:
        """Release the lock and the connection (a new :meth:`run` reconnects)."""
        conn, self._conn = self._conn, None
        locked, self._locked = self._locked, False
        self._book = None
        if conn is None or conn.closed:
            return
        try:
            if locked and not conn.invalidated:
                # The pool keeps the session open, and with it a session lock: unlock explicitly.
                if conn.in_transaction():
                    conn.rollback()
                with conn.begin():
                    conn.execute(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))
            conn.close()
        except sa.exc.SQLAlchemyError:
            log.warning("releasing the matcher connection failed; discarding it", exc_info=True)
            conn.invalidate()  # closing the session for good releases the lock too
            conn.close()

    # Running -------------------------------------------------------------------------------------

    def run(self, *, max_batches: int | None = None, should_stop: Callable[[], bool] | None = None) -> RunReport:
        """Match everything pending in the journal, and apply pending manual decisions.

        Args:
            max_batches: stop after this many transactions (default: until nothing is pending).
            should_stop: asked between batches; ``True`` stops early (server shutdown).

        Returns:
            What was done; ``locked_out`` when another process is the matcher (PostgreSQL).
        """
        report = RunReport()
        if not self._acquire():
            report.locked_out = True
            return report
        if not self._has_work():
            return report
        while max_batches is None or report.batches < max_batches:
            if should_stop is not None and should_stop():
                break
            if not self._step(report):
                break
        return report

    def _has_work(self) -> bool:
        """A read-only look for pending rows or decisions, so an idle poll takes no write lock."""
        pending = sa.select(journal_table.c.id).where(journal_table.c.status.in_(TO_MATCH)).limit(1)
        decided = unapplied_query().limit(1)
        with self._reader.connect() as conn:
            if self._stored_token(conn) != self._written and self._book is not None:
                self._book = None  # someone else matched: rebuild at the next batch
            return conn.execute(pending).first() is not None or conn.execute(decided).first() is not None

    def _step(self, report: RunReport) -> bool:
        """One transaction: pending resolutions, then one batch of journal rows. False when idle."""
        conn = self._connection()
        try:
            with conn.begin():
                self._sync_book(conn)
                resolved = self._apply_resolutions(conn, report)
                rows = conn.execute(
                    sa.select(*NOTIFICATION_COLUMNS)
                    .where(journal_table.c.status.in_(TO_MATCH))
                    .order_by(journal_table.c.id)
                    .limit(self._batch_size)
                ).all()
                if rows:
                    self._apply_batch(conn, rows, report)
                if not rows and not resolved:
                    return False
                self._write_checkpoint(conn, max((row.id for row in rows), default=0), report)
        except BaseException:
            # The book may hold this transaction's changes but the database does not: start over.
            self._book = None
            raise
        report.batches += 1
        return True

    def _apply_batch(self, conn: Connection, rows: Sequence[Any], report: RunReport) -> None:
        book = self._require_book()
        to_core = [row for row in rows if row.status == STATUS_PENDING or row.review_reason == OUTGOING_TRANSFER]
        failed = [row for row in rows if row.status == STATUS_REVIEW and row.review_reason != OUTGOING_TRANSFER]
        result = match_batch(book, [notification_of(row) for row in to_core])
        self._write(conn, {(row.provider, row.provider_txn_id): row for row in to_core}, result)
        if failed:
            writes.hold_failed(conn, failed)
            report.outcomes["review"] = report.outcomes.get("review", 0) + len(failed)
        book.apply(result)
        report.count(result.decisions)
        report.notifications += len(rows)

    def _apply_resolutions(self, conn: Connection, report: RunReport) -> int:
        """Apply decisions people made on review items since the last run (in item order)."""
        rows = conn.execute(unapplied_query().order_by(review_items_table.c.id)).all()
        book = self._require_book()
        for row in rows:
            result = apply_manual(book, notification_of(row), manual_of(row))
            decision = result.decisions[0]
            if decision.outcome == "review":
                # The decision names something gone: the item opens again for a person.
                conn.execute(
                    sa.update(review_items_table)
                    .where(review_items_table.c.id == row.item_id)
                    .values(reason=decision.reason, resolution=None, resolved_at=None)
                )
                continue
            self._write(conn, {(row.provider, row.provider_txn_id): row}, result)
            book.apply(result)
            report.count(result.decisions)
            report.resolutions += 1
        return len(rows)

    def _write(self, conn: Connection, rows: dict[NotificationKey, Any], result: BatchResult) -> None:
        writes.write_result(
            conn, rows, result, book=self._require_book(), registry=self._loader.registry, zone=self._zone
        )

    # The checkpoint ------------------------------------------------------------------------------

    @staticmethod
    def _stored_token(conn: Connection) -> dt.datetime | None:
        """The checkpoint's ``updated_at``: it changes whenever any process writes the ledger."""
        query = sa.select(checkpoint_table.c.updated_at).where(checkpoint_table.c.id == _CHECKPOINT_ID)
        return conn.execute(query).scalar()

    def _write_checkpoint(self, conn: Connection, last_id: int, report: RunReport) -> None:
        now = utcnow()
        if self._written is not None and now <= self._written:
            now = self._written + dt.timedelta(microseconds=1)  # the token must change on every write
        previous = conn.execute(
            sa.select(checkpoint_table.c.last_journal_id).where(checkpoint_table.c.id == _CHECKPOINT_ID)
        )
        last = max(last_id, previous.scalar() or 0)
        self._store_checkpoint(conn, last, now)
        report.last_journal_id = last

    def _store_checkpoint(self, conn: Connection, last_id: int, now: dt.datetime) -> None:
        row = {"id": _CHECKPOINT_ID, "last_journal_id": last_id, "updated_at": now}
        writes.upsert(conn, checkpoint_table, [row], ["id"])
        self._written = now

    # Replay --------------------------------------------------------------------------------------

    def replay(self) -> RunReport:
        """Rebuild the ledger from an empty one by matching the whole journal again.

        Manual decisions (resolved review items) are kept and honoured by the core; intents go
        back to unpaid; receipts, open review items and the rollups (``stall_days``,
        ``stall_months``) are recomputed. The reset is one transaction and the matching that
        follows is ordinary batches: a crash halfway leaves a consistent ledger whose remaining
        rows the next run matches.
        """
        if not self._acquire():
            return RunReport(locked_out=True)
        conn = self._connection()
        self._book = None
        with conn.begin():
            self._reset(conn)
            self._store_checkpoint(conn, 0, utcnow())
        return self.run()

    @staticmethod
    def _reset(conn: Connection) -> None:
        conn.execute(sa.delete(stall_days_table))
        conn.execute(sa.delete(stall_months_table))
        conn.execute(sa.update(receipts_table).values(reverses_id=None))
        conn.execute(sa.delete(receipts_table))
        conn.execute(sa.delete(review_items_table).where(review_items_table.c.resolution.is_(None)))
        conn.execute(sa.update(intents_table).values(paid_amount=0, state="open"))
        j = journal_table.c
        conn.execute(
            sa.update(journal_table)
            .where(j.status != STATUS_DUPLICATE)
            .values(status=sa.case((j.review_reason.is_(None), STATUS_PENDING), else_=STATUS_REVIEW))
        )

    # The book ------------------------------------------------------------------------------------

    def _require_book(self) -> Book:
        assert self._book is not None, "the book is loaded at the start of every transaction"
        return self._book

    def _sync_book(self, conn: Connection) -> None:
        """Rebuild the book if another process wrote the ledger since we did; add new intents."""
        stored = self._stored_token(conn)
        stale = self._book is None or stored != self._written or len(self._book.applied) > self._rebuild_after
        if stale:
            self._book = self._loader.load(conn)
            self._written = stored
        else:
            self._loader.add_new_intents(conn, self._require_book())
