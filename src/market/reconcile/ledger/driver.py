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

The book holds every intent and every receipt that a refund may still reverse: the core has no
time window of its own, and a window here would make a replay (which sees all of history)
decide differently from the live driver. A market issues a few thousand intents a month; the
book is rebuilt from the ledger after ``rebuild_after`` notifications to bound its memory.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from market.db import utcnow
from market.merchants.store import accounts_table, stalls
from market.reconcile.ingest.models import JournalEntry
from market.reconcile.ledger.models import MatchCheckpoint, PaymentIntent, ReviewItem, StallDay, StallMonth
from market.reconcile.ledger.models import Receipt as ReceiptRow
from market.reconcile.matching.book import Book, BookReceipt, Intent, ManualDecision, NotificationKey, VirtualAccount
from market.reconcile.matching.core import apply_manual, match_batch
from market.reconcile.matching.decisions import ATTRIBUTED, BatchResult, Decision, Suggestion
from market.reconcile.notification import Notification
from market.reconcile.statuses import (
    MATCHED,
    NOT_OURS,
    OUTGOING,
    REPEAT,
    STATUS_DUPLICATE,
    STATUS_PENDING,
    STATUS_REVIEW,
    UNMATCHED,
)

__all__ = [
    "LOCK_KEY",
    "PROVIDER_STATUS",
    "Driver",
    "RunReport",
    "local_day",
    "notification_of",
]

log = logging.getLogger(__name__)

journal = cast(sa.Table, JournalEntry.__table__)
intents = cast(sa.Table, PaymentIntent.__table__)
receipts = cast(sa.Table, ReceiptRow.__table__)
review_items = cast(sa.Table, ReviewItem.__table__)
stall_days = cast(sa.Table, StallDay.__table__)
stall_months = cast(sa.Table, StallMonth.__table__)
checkpoint = cast(sa.Table, MatchCheckpoint.__table__)

_TODO = (STATUS_PENDING, STATUS_REVIEW)
_STATUS_OF = {"review": UNMATCHED, "repeat": REPEAT, "outgoing": OUTGOING, "not_ours": NOT_OURS}
# What adapters write for money out (adapters/*.py); anything else in ``review`` is a provider's failure.
_OUTGOING_REASON = "outgoing transfer"
PROVIDER_STATUS = "provider_status"
"""Review reason of a delivery the provider itself reported as failed (not matched, shown as is)."""

LOCK_KEY = 0x6D61746368  # "match": any constant shared by every process that matches
_CHECKPOINT_ID = 1
# A flag a person should see on a receipt, by outcome (the first that applies).
_FLAGS = {"duplicate": "refund_due", "overpaid": "refund_excess", "late": "late"}


def local_day(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The market's calendar day of ``moment`` (Asia/Ho_Chi_Minh by default)."""
    return moment.astimezone(zone).date()


def notification_of(row: Any) -> Notification:
    """The canonical notification of a journal row (any row with the journal's columns)."""
    return Notification(
        provider=row.provider,
        provider_txn_id=row.provider_txn_id,
        amount=row.amount,
        direction=row.direction,
        memo=row.memo,
        transferred_at=row.transferred_at,
        received_at=row.received_at,
        bank_reference=row.bank_reference,
        account_number=row.account_number,
        bank_bin=row.bank_bin,
        virtual_account=row.virtual_account,
        order_code=row.order_code,
        counterparty_name=row.counterparty_name,
        counterparty_account=row.counterparty_account,
        counterparty_bank=row.counterparty_bank,
    )


_NOTIFICATION_COLUMNS = (
    journal.c.id,
    journal.c.status,
    journal.c.review_reason,
    journal.c.provider,
    journal.c.provider_txn_id,
    journal.c.amount,
    journal.c.direction,
    journal.c.memo,
    journal.c.transferred_at,
    journal.c.received_at,
    journal.c.bank_reference,
    journal.c.account_number,
    journal.c.bank_bin,
    journal.c.virtual_account,
    journal.c.order_code,
    journal.c.counterparty_name,
    journal.c.counterparty_account,
    journal.c.counterparty_bank,
)


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


class _Registry:
    """Stall codes and intent codes by database id and back, for translating decisions to rows."""

    def __init__(self) -> None:
        self.stall_ids: dict[str, int] = {}
        self.intent_ids: dict[str, int] = {}

    def stall_id(self, conn: Connection, code: str) -> int:
        if code not in self.stall_ids:
            self.stall_ids.update({row.code: row.id for row in conn.execute(sa.select(stalls.c.id, stalls.c.code))})
        return self.stall_ids[code]

    def intent_id(self, code: str | None) -> int | None:
        return None if code is None else self.intent_ids[code]


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
        self._registry = _Registry()
        self._written: dt.datetime | None = None  # the checkpoint's updated_at as we last wrote it
        self._intents_since: dt.datetime | None = None
        self._intents_max_id = 0

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
        pending = sa.select(journal.c.id).where(journal.c.status.in_(_TODO)).limit(1)
        decided = _resolved_query().where(journal.c.status == UNMATCHED).limit(1)
        stored = sa.select(checkpoint.c.updated_at).where(checkpoint.c.id == _CHECKPOINT_ID)
        with self._reader.connect() as conn:
            if conn.execute(stored).scalar() != self._written and self._book is not None:
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
                    sa.select(*_NOTIFICATION_COLUMNS)
                    .where(journal.c.status.in_(_TODO))
                    .order_by(journal.c.id)
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
        to_core = [row for row in rows if row.status == STATUS_PENDING or row.review_reason == _OUTGOING_REASON]
        failed = [row for row in rows if row.status == STATUS_REVIEW and row.review_reason != _OUTGOING_REASON]
        result = match_batch(book, [notification_of(row) for row in to_core])
        self._write(conn, {(row.provider, row.provider_txn_id): row for row in to_core}, result)
        if failed:
            self._hold_failed(conn, failed)
            report.outcomes["review"] = report.outcomes.get("review", 0) + len(failed)
        book.apply(result)
        report.count(result.decisions)
        report.notifications += len(rows)

    def _hold_failed(self, conn: Connection, rows: Sequence[Any]) -> None:
        """A delivery the provider marked failed: to the review queue as is, never to the core."""
        _upsert_review(conn, [{"journal_id": row.id, "reason": PROVIDER_STATUS, "suggestions": []} for row in rows])
        conn.execute(
            sa.update(journal).where(journal.c.id == sa.bindparam("row_id")).values(status=UNMATCHED),
            [{"row_id": row.id} for row in rows],
        )

    def _write_checkpoint(self, conn: Connection, last_id: int, report: RunReport) -> None:
        now = utcnow()
        if self._written is not None and now <= self._written:
            now = self._written + dt.timedelta(microseconds=1)  # the token must change on every write
        previous = conn.execute(sa.select(checkpoint.c.last_journal_id).where(checkpoint.c.id == _CHECKPOINT_ID))
        last = max(last_id, previous.scalar() or 0)
        _upsert(conn, checkpoint, [{"id": _CHECKPOINT_ID, "last_journal_id": last, "updated_at": now}], ["id"])
        self._written = now
        report.last_journal_id = last

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
            now = utcnow()
            _upsert(conn, checkpoint, [{"id": _CHECKPOINT_ID, "last_journal_id": 0, "updated_at": now}], ["id"])
            self._written = now
        return self.run()

    def _reset(self, conn: Connection) -> None:
        conn.execute(sa.delete(stall_days))
        conn.execute(sa.delete(stall_months))
        conn.execute(sa.update(receipts).values(reverses_id=None))
        conn.execute(sa.delete(receipts))
        conn.execute(sa.delete(review_items).where(review_items.c.resolution.is_(None)))
        conn.execute(sa.update(intents).values(paid_amount=0, state="open"))
        conn.execute(
            sa.update(journal)
            .where(journal.c.status != STATUS_DUPLICATE)
            .values(
                status=sa.case((journal.c.review_reason.is_(None), STATUS_PENDING), else_=STATUS_REVIEW),
            )
        )

    # The book ------------------------------------------------------------------------------------

    def _require_book(self) -> Book:
        assert self._book is not None, "the book is loaded at the start of every transaction"
        return self._book

    def _sync_book(self, conn: Connection) -> None:
        """Rebuild the book if another process wrote the ledger since we did; add new intents."""
        stored = conn.execute(sa.select(checkpoint.c.updated_at).where(checkpoint.c.id == _CHECKPOINT_ID)).scalar()
        stale = self._book is None or stored != self._written or len(self._book.applied) > self._rebuild_after
        if stale:
            self._book = self._build_book(conn)
            self._written = stored
        else:
            self._add_new_intents(conn, self._require_book())

    def _intent_query(self) -> sa.Select[Any]:
        i = intents.c
        return sa.select(
            i.id, i.code, stalls.c.code.label("stall"), i.amount, i.paid_amount, i.expires_at, i.created_at
        ).join(stalls, stalls.c.id == i.stall_id)

    def _take_intents(self, book: Book, rows: Iterable[Any]) -> None:
        for row in rows:
            if row.code in book.intents:
                continue
            self._registry.intent_ids[row.code] = row.id
            book.add_intent(
                Intent(
                    code=row.code, stall=row.stall, amount=row.amount, expires_at=row.expires_at, paid=row.paid_amount
                )
            )
            self._intents_max_id = max(self._intents_max_id, row.id)
            if self._intents_since is None or row.created_at > self._intents_since:
                self._intents_since = row.created_at

    def _add_new_intents(self, conn: Connection, book: Book) -> None:
        # Beyond the highest id seen, and by creation time with a minute's overlap: on PostgreSQL
        # ids commit out of order, so a lower id may become visible after a higher one.
        newer = intents.c.id > self._intents_max_id
        if self._intents_since is not None:
            newer = sa.or_(newer, intents.c.created_at >= self._intents_since - dt.timedelta(minutes=1))
        self._take_intents(book, conn.execute(self._intent_query().where(newer)))

    def _build_book(self, conn: Connection) -> Book:
        self._registry = _Registry()
        self._intents_since = None
        self._intents_max_id = 0
        registry = self._registry
        registry.stall_ids = {row.code: row.id for row in conn.execute(sa.select(stalls.c.id, stalls.c.code))}
        accounts: dict[str, str] = {}
        virtual: dict[str, VirtualAccount] = {}
        query = sa.select(accounts_table.c.account_number, accounts_table.c.kind, stalls.c.code).join(
            stalls, stalls.c.id == accounts_table.c.stall_id
        )
        for row in conn.execute(query):
            accounts[row.account_number] = row.code
            if row.kind == "virtual_account":
                virtual[row.account_number] = VirtualAccount(stall=row.code)
        book = Book(
            accounts=accounts,
            virtual_accounts=virtual,
            receipts=self._reversible(conn),
            manual=self._manual(conn),
        )
        self._take_intents(book, conn.execute(self._intent_query()))
        return book

    def _reversible(self, conn: Connection) -> list[BookReceipt]:
        """Receipts with a known payer that a refund may still take back (not fully reversed)."""
        r, j = receipts.c, journal.c
        query = (
            sa.select(
                j.provider,
                j.provider_txn_id,
                j.account_number,
                j.counterparty_account,
                j.transferred_at,
                stalls.c.code.label("stall"),
                intents.c.code.label("intent"),
                r.amount,
                r.refund_due,
                r.reversed_amount,
            )
            .select_from(receipts)
            .join(journal, j.id == r.journal_id)
            .join(stalls, stalls.c.id == r.stall_id)
            .outerjoin(intents, intents.c.id == r.intent_id)
            .where(r.amount > 0, r.reversed_amount < r.amount, j.counterparty_account.is_not(None))
            .order_by(r.journal_id)
        )
        return [
            BookReceipt(
                key=(row.provider, row.provider_txn_id),
                stall=row.stall,
                amount=row.amount,
                account_number=row.account_number,
                payer_account=row.counterparty_account,
                transferred_at=row.transferred_at,
                intent=row.intent,
                refund_due=row.refund_due,
                reversed=row.reversed_amount,
            )
            for row in conn.execute(query)
        ]

    def _manual(self, conn: Connection) -> dict[NotificationKey, ManualDecision]:
        return {(row.provider, row.provider_txn_id): manual_of(row) for row in conn.execute(_resolved_query())}

    # Manual decisions ----------------------------------------------------------------------------

    def _apply_resolutions(self, conn: Connection, report: RunReport) -> int:
        """Apply decisions people made on review items since the last run (in item order)."""
        query = _resolved_query().where(journal.c.status == UNMATCHED).order_by(review_items.c.id)
        rows = conn.execute(query).all()
        book = self._require_book()
        for row in rows:
            manual = manual_of(row)
            result = apply_manual(book, notification_of(row), manual)
            decision = result.decisions[0]
            if decision.outcome == "review":
                # The decision names something gone: the item opens again for a person.
                conn.execute(
                    sa.update(review_items)
                    .where(review_items.c.id == row.item_id)
                    .values(reason=decision.reason, resolution=None, resolved_at=None)
                )
                continue
            self._write(conn, {(row.provider, row.provider_txn_id): row}, result)
            book.apply(result)
            report.count(result.decisions)
            report.resolutions += 1
        return len(rows)

    # Writing decisions ---------------------------------------------------------------------------

    def _write(self, conn: Connection, rows: dict[NotificationKey, Any], result: BatchResult) -> None:
        """Every effect of ``result`` on the ledger, in the caller's transaction."""
        book = self._require_book()
        registry = self._registry
        new_receipts: list[dict[str, Any]] = []
        reviews: list[dict[str, Any]] = []
        statuses: list[dict[str, Any]] = []
        reversals: list[tuple[int, NotificationKey]] = []
        days: dict[tuple[int, dt.date], list[int]] = {}
        # Reversed totals as the batch goes, so a second refund of one receipt sees the first.
        reversed_so_far: dict[NotificationKey, int] = {}
        inserted: set[NotificationKey] = set()
        now = utcnow()

        def bump(stall_id: int, day: dt.date, count: int, value: int) -> None:
            entry = days.setdefault((stall_id, day), [0, 0])
            entry[0] += count
            entry[1] += value

        for decision in result.decisions:
            row = rows[decision.key]
            outcome = decision.outcome
            if outcome in ATTRIBUTED:
                assert decision.stall is not None
                statuses.append({"row_id": row.id, "new_status": MATCHED})
                stall_id = registry.stall_id(conn, decision.stall)
                day = local_day(row.transferred_at, self._zone)
                kept = result.receipts.get(decision.key)
                new_receipts.append(
                    {
                        "journal_id": row.id,
                        "stall_id": stall_id,
                        "intent_id": registry.intent_id(decision.intent),
                        "amount": decision.amount,
                        "kind": outcome,
                        "rule": decision.rule,
                        "occurred_at": row.transferred_at,
                        "local_day": day,
                        "reverses_id": None,
                        "is_reversed": kept is not None and kept.reversed >= kept.amount,
                        "flag": _FLAGS.get(outcome, "fuzzy" if decision.rule == "fuzzy" else None),
                        "refund_due": kept.refund_due if kept is not None else decision.refund_due,
                        "reversed_amount": kept.reversed if kept is not None else 0,
                        "created_at": now,
                    }
                )
                inserted.add(decision.key)
                if outcome != "reversal":
                    bump(stall_id, day, 1, decision.amount)
                elif decision.reverses is None:
                    bump(stall_id, day, 0, decision.amount)  # a person's reversal of nothing we hold
                else:
                    reversals.append((row.id, decision.reverses))
                    original = book.receipts.get(decision.reverses) or result.receipts[decision.reverses]
                    before = reversed_so_far.get(
                        decision.reverses,
                        book.receipts[decision.reverses].reversed if decision.reverses in book.receipts else 0,
                    )
                    after = before - decision.amount
                    reversed_so_far[decision.reverses] = after
                    gone = before < original.amount <= after  # this reversal cancels the whole sale
                    bump(
                        registry.stall_id(conn, original.stall),
                        local_day(original.transferred_at, self._zone),
                        -1 if gone else 0,
                        decision.amount,
                    )
            else:
                statuses.append({"row_id": row.id, "new_status": _STATUS_OF[outcome]})
                if outcome == "review":
                    reviews.append(
                        {
                            "journal_id": row.id,
                            "reason": decision.reason or "unknown_account",
                            "suggestions": [suggestion_dict(s) for s in decision.suggestions],
                        }
                    )
        if new_receipts:
            conn.execute(sa.insert(receipts), new_receipts)
        if reviews:
            _upsert_review(conn, reviews)
        if statuses:
            conn.execute(
                sa.update(journal)
                .where(journal.c.id == sa.bindparam("row_id"))
                .values(status=sa.bindparam("new_status")),
                statuses,
            )
        self._link_reversals(conn, rows, result, reversals, inserted)
        if result.intents:
            conn.execute(
                sa.update(intents)
                .where(intents.c.code == sa.bindparam("intent_code"))
                .values(paid_amount=sa.bindparam("paid"), state=sa.bindparam("new_state")),
                [
                    {"intent_code": code, "paid": intent.paid, "new_state": stored_state(intent)}
                    for code, intent in result.intents.items()
                ],
            )
        if days:
            _add_days(conn, days)

    def _link_reversals(
        self,
        conn: Connection,
        rows: dict[NotificationKey, Any],
        result: BatchResult,
        reversals: list[tuple[int, NotificationKey]],
        inserted: set[NotificationKey],
    ) -> None:
        """Point each reversal at its receipt, and store the new refund state of receipts reversed."""
        changed = [key for key in result.receipts if key not in inserted]
        wanted = {key for _, key in reversals} | set(changed)
        journal_ids = {key: rows[key].id for key in wanted if key in rows}
        missing = [key for key in wanted if key not in journal_ids]
        for provider, txn, row_id in _journal_ids(conn, missing):
            journal_ids[(provider, txn)] = row_id
        if reversals:
            conn.execute(
                sa.update(receipts)
                .where(receipts.c.journal_id == sa.bindparam("reversal_journal"))
                .values(
                    reverses_id=sa.select(receipts.c.id)
                    .where(receipts.c.journal_id == sa.bindparam("original_journal"))
                    .scalar_subquery()
                ),
                [{"reversal_journal": jid, "original_journal": journal_ids[key]} for jid, key in reversals],
            )
        if changed:
            conn.execute(
                sa.update(receipts)
                .where(receipts.c.journal_id == sa.bindparam("original_journal"))
                .values(
                    refund_due=sa.bindparam("due"),
                    reversed_amount=sa.bindparam("taken"),
                    is_reversed=sa.bindparam("gone"),
                ),
                [
                    {
                        "original_journal": journal_ids[key],
                        "due": result.receipts[key].refund_due,
                        "taken": result.receipts[key].reversed,
                        "gone": result.receipts[key].reversed >= result.receipts[key].amount,
                    }
                    for key in changed
                ],
            )


def stored_state(intent: Intent) -> str:
    """The state kept in ``payment_intents.state`` (expiry is judged when read, against the clock)."""
    if intent.paid > intent.amount:
        return "overpaid"
    if intent.paid == intent.amount:
        return "paid"
    return "partial" if intent.paid else "open"


def suggestion_dict(suggestion: Suggestion) -> dict[str, Any]:
    """A suggestion as stored in ``review_items.suggestions`` (JSON)."""
    return {
        "stall": suggestion.stall,
        "intent": suggestion.intent,
        "score": suggestion.score,
        "why": suggestion.why,
        "receipt": list(suggestion.receipt) if suggestion.receipt is not None else None,
    }


def manual_of(row: Any) -> ManualDecision:
    """The manual decision stored on a resolved review item (a row of :func:`_resolved_query`)."""
    return ManualDecision(
        action=row.resolution,
        by=row.resolved_by or "",
        why=row.resolution_note or "",
        stall=row.resolved_stall,
        intent=row.resolved_intent,
    )


def _resolved_query() -> sa.Select[Any]:
    r = review_items.c
    stall = stalls.alias("resolved_stall_row")
    intent = intents.alias("resolved_intent_row")
    return (
        sa.select(
            *_NOTIFICATION_COLUMNS,
            r.id.label("item_id"),
            r.resolution,
            r.resolved_by,
            r.resolution_note,
            stall.c.code.label("resolved_stall"),
            intent.c.code.label("resolved_intent"),
        )
        .select_from(review_items)
        .join(journal, journal.c.id == r.journal_id)
        .outerjoin(stall, stall.c.id == r.resolved_stall_id)
        .outerjoin(intent, intent.c.id == r.resolved_intent_id)
        .where(r.resolution.is_not(None))
    )


def _journal_ids(conn: Connection, keys: Sequence[NotificationKey]) -> list[tuple[str, str, int]]:
    found = []
    for provider, txn in keys:
        query = sa.select(journal.c.id).where(journal.c.provider == provider, journal.c.provider_txn_id == txn)
        found.append((provider, txn, conn.execute(query).scalar_one()))
    return found


def _insert_for(conn: Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _upsert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    statement = _insert_for(conn, table)
    updates = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


def _upsert_review(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Open (or, on replay, refresh) review items; a person's resolution on an item is kept."""
    now = utcnow()
    statement = _insert_for(conn, review_items)
    statement = statement.on_conflict_do_update(
        index_elements=["journal_id"],
        set_={"reason": statement.excluded.reason, "suggestions": statement.excluded.suggestions},
    )
    conn.execute(statement, [{**row, "created_at": now} for row in rows])


def _add_days(conn: Connection, days: dict[tuple[int, dt.date], list[int]]) -> None:
    """Add each (stall, day)'s deltas to ``stall_days``, and their sums per month to ``stall_months``.

    Both rollups take the same deltas in the same transaction, so a month always holds the sum
    of its days (``tests/reconcile/test_reconcile_rollup.py``).
    """
    months: dict[tuple[int, dt.date], list[int]] = {}
    for (stall_id, day), (count, value) in days.items():
        entry = months.setdefault((stall_id, day.replace(day=1)), [0, 0])
        entry[0] += count
        entry[1] += value
    _add_to_rollup(conn, stall_days, "day", days)
    _add_to_rollup(conn, stall_months, "month", months)


def _add_to_rollup(
    conn: Connection, table: sa.Table, period: str, deltas: dict[tuple[int, dt.date], list[int]]
) -> None:
    """Add (receipts, value) deltas to ``table``'s (stall_id, ``period``) rows, creating rows as needed."""
    statement = _insert_for(conn, table)
    statement = statement.on_conflict_do_update(
        index_elements=["stall_id", period],
        set_={
            "receipts": table.c.receipts + statement.excluded.receipts,
            "value": table.c.value + statement.excluded.value,
        },
    )
    conn.execute(
        statement,
        [
            {"stall_id": stall_id, period: when, "receipts": count, "value": value}
            for (stall_id, when), (count, value) in sorted(deltas.items())
        ],
    )
