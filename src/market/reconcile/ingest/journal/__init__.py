"""The notification journal's writer: many concurrent deliveries, one transaction, 2xx only after COMMIT.

What the journal guarantees:

* A delivery is answered only once its row is committed: :meth:`JournalWriter.append` (or the
  future of ``submit``/``submit_delivery``) ends with its :class:`Stored` row after the COMMIT.
  If the transaction fails, every request of that batch gets
  :class:`~market.errors.UnavailableError` (the web layer answers 503, the provider retries); a
  request still waiting after ``wait_seconds`` gets it too.
* Each notification is stored once: a provider's retry of ``(provider, provider_txn_id)`` is
  answered with the row already journalled (``created=False``).
* One bank credit, one original: the same credit arriving through a second provider (the same
  ``(bank_reference, account_number)``) is stored with status ``duplicate`` of the first copy.

Both are the database's: ``INSERT ... ON CONFLICT DO NOTHING`` against the two unique keys (the
bank credit's among rows that are not duplicates). A batch whose rows are all new is therefore one
statement, with no lookups; a row the INSERT skipped is either a retry (its key is journalled) or a
second copy. Several worker processes on PostgreSQL may ingest at once: the unique index makes a
concurrent insert of the other copy wait for the first one's commit.

How a batch flows through the modules:

1. The web handlers hand :class:`JournalWriter` (``writer``) a raw :class:`Delivery` or an
   authenticated :class:`Incoming` (``rows``) and await its future. One commit per batch instead of
   one per request: a commit per request capped the rate far below what a commit per batch reaches.
2. A flush runs on the event loop (on SQLite, once the requests ready in a loop iteration have
   all joined). It verifies the waiting deliveries with their adapters (``verify``): refused ones and test events
   are answered at once, the others become rows.
3. The batch's statements (``batch``) are generators that yield each statement and receive its
   result, built once per dialect with the row encoding of ``rows``: the writer talks to the DBAPI
   cursor directly, since SQLAlchemy Core (compile, per-row parameter processing, read-back
   SELECTs) was costly on every row. The stored values are still what SQLAlchemy would write.
4. The transaction runs on the event loop, on the connection of the database (``sqlite``,
   ``postgresql``), as ``benchmarks/load_webhooks.py`` showed best. On SQLite a thread saved
   nothing on one core and cost a wake-up and the GIL passed back and forth per statement; a batch
   is a handful of ``sqlite3_step`` calls (BEGIN, the last id, a multi-row INSERT, COMMIT; the rare
   lookups answer in one JSON row), because each step releases the GIL and taking it back can wait a
   switch interval while another thread of the process (the matcher) runs Python. The loop never
   waits for SQLite's lock: another writer holding it means "try again in a moment", and WAL
   checkpoints run in a thread of their own. On PostgreSQL a batch is one autocommitted INSERT, a
   network round trip on psycopg's asyncio connection, while the next batch collects.
5. After the COMMIT, :func:`~market.reconcile.ingest.journal.verify.answer` wakes every waiter of
   the batch with its outcome.

:func:`write_batch` runs the same statements inside a caller's own transaction (bank statement
imports, the demo seeds, tests).
"""

from market.reconcile.ingest.journal.batch import write_batch
from market.reconcile.ingest.journal.rows import Delivery, Incoming, Stored
from market.reconcile.ingest.journal.writer import JournalWriter

__all__ = ["Delivery", "Incoming", "JournalWriter", "Stored", "write_batch"]
