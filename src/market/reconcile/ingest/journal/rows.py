"""The journal's rows: what arrives (:class:`Delivery`, :class:`Incoming`), what is answered
(:class:`Stored`), and each dialect's statements and row encoding (:class:`DialectSql`).

The stored values are what SQLAlchemy would write: PostgreSQL's rows go through SQLAlchemy's own
bind processors, SQLite's through the faster encoders here, pinned to the same values by
``tests/ingest/test_ingest_journal_rows.py``.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections.abc import Callable, Mapping
from itertools import chain
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from market.config import Settings
from market.reconcile.ingest.adapters import Parser
from market.reconcile.ingest.adapters.base import HEADERS_KEPT
from market.reconcile.ingest.models import ORIGINAL_CREDIT, JournalEntry
from market.reconcile.notification import Notification
from market.reconcile.speedups import speedups
from market.reconcile.statuses import STATUS_PENDING, STATUS_REVIEW

_TABLE: sa.Table = JournalEntry.__table__  # type: ignore[assignment]

# sqlite3 binds str, int, float and bytearray directly, but sends None and bytes through its
# adapter registry first; finding no adapter there costs a failed attribute lookup on its
# PrepareProtocol type, whose AttributeError message is formatted and dropped, for each of a dozen
# values in a journal row (NULL columns, the raw body). Adapters that hand the
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


# The order of the INSERT's columns and of the tuple built by ``DialectSql.row``.
COLUMNS = (
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
        # msgspec's C encoder writes b'"2025-06-01T09:15:42.123456Z"' for a fraction of what
        # isoformat() costs, twice per journal row; the text is edited as bytes and decoded once.
        # It leaves out a zero fraction, which SQLAlchemy writes.
        text = _JSON(value)[1:-2].replace(b"T", b" ").decode()
        return text if value.microsecond else text + ".000000"
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC times only")
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def json_text(value: Any) -> str:
    """``value`` as JSON text: the raw headers' column, and the SQLite lookups' JSON array parameters."""
    return msgspec.json.encode(value).decode()


class DialectSql:
    """The journal's statements in one dialect's placeholder style, and its row encoder."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect.name
        self.mark = "?" if dialect.name == "sqlite" else "%s"
        table = _TABLE.name
        self.sqlite = _SqliteStatements(table) if dialect.name == "sqlite" else None
        self.insert_rows = _postgresql_insert_rows(table, dialect) if dialect.name == "postgresql" else ""
        # PostgreSQL's lookups: one index probe per key, whatever the planner believes. With an IN
        # list and no statistics yet (a young table, autovacuum behind) it chose a sequential scan
        # of the whole journal for every batch; OFFSET 0 keeps each subquery a lookup. One
        # statement for any number of keys, too.
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
        marks = [self.mark] * (len(COLUMNS) + 1)
        if dialect.name == "postgresql":
            marks[COLUMNS.index("raw_headers")] += "::json"  # JSON text, as _postgresql_insert_rows casts it
        self.insert_copy = (
            f"INSERT INTO {table} ({', '.join(COLUMNS)}, duplicate_of) VALUES ({', '.join(marks)}) "
            "ON CONFLICT (provider, provider_txn_id) DO NOTHING RETURNING id"
        )
        self._time: Callable[[dt.datetime], Any]
        # JSON text: SQLite stores it as is, PostgreSQL casts it (``_postgresql_insert_rows``).
        self._json = json_text
        if dialect.name == "sqlite":
            # SQLAlchemy's processors are slow per row; tests/ingest pins these to the same stored values.
            self._time = _sqlite_time
        else:
            self._time = _encoder(dialect, "received_at")

    def row(self, row_id: int | None, item: Incoming) -> tuple[Any, ...]:
        """``row_id`` (SQLite gives the ids; ``None`` on PostgreSQL), then ``item`` in ``COLUMNS`` order."""
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
def sql_for(dialect: Dialect) -> DialectSql:
    """The statements of ``dialect``, built once."""
    return DialectSql(dialect)


class _SqliteStatements:
    """SQLite's statements for a whole batch, each a single step answering in (at most) one row.

    Every ``sqlite3_step`` releases the GIL (see the package's docstring), so a batch is a
    multi-row INSERT per chunk of rows (``journal.batch``) and lookups that answer in one JSON
    row, not a step or two per row. A JSON array parameter is also one fixed statement, where an IN list
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
            row = "(" + ", ".join(["?"] * (1 + len(COLUMNS))) + ")"
            statement = self._inserts[rows] = (
                f"INSERT INTO {self.table} (id, {', '.join(COLUMNS)}) VALUES {', '.join([row] * rows)} "
                "ON CONFLICT DO NOTHING"
            )
        return statement


def sqlite_parameters(sql: DialectSql, first_id: int, chunk: list[Incoming]) -> list[Any]:
    """The multi-row INSERT's parameters: each row of ``chunk`` (``DialectSql.row``, ids from ``first_id``) in turn."""
    if speedups is not None:
        # The same values built in C, for a fraction of the Python row's cost (its attributes, the
        # two times' text, the headers' JSON; benchmarks/README.md).
        return speedups.journal_rows(first_id, chunk, STATUS_PENDING, STATUS_REVIEW, _sqlite_time, json_text)
    # The rows' tuples flattened in C: cheaper than a loop of appends and extends.
    return list(chain.from_iterable(map(sql.row, range(first_id, first_id + len(chunk)), chunk)))


def _postgresql_insert_rows(table: str, dialect: Dialect) -> str:
    """One INSERT for any number of rows: a parameter per column, each an array of the rows' values.

    A fixed statement (prepared once) doing one executor run, where a pipelined INSERT per row
    paid a parse, a bind and an execution for each row; ``RETURNING`` names the created keys.
    """
    types = {name: _TABLE.c[name].type.compile(dialect=dialect) for name in COLUMNS}
    arrays = ", ".join(f"%b::{'TEXT' if kind == 'JSON' else kind}[]" for kind in types.values())
    values = ", ".join(f"v.{name}::json" if kind == "JSON" else f"v.{name}" for name, kind in types.items())
    columns = ", ".join(COLUMNS)
    return (
        f"INSERT INTO {table} ({columns}) SELECT {values} FROM unnest({arrays}) AS v({columns}) "
        "ON CONFLICT DO NOTHING RETURNING id, provider, provider_txn_id"
    )
