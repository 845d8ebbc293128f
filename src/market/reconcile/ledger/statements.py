"""Bank statements: import one account's statement and say what is missing on either side.

Webhooks get lost (a provider gives up after its retries, a bank link is down), and a forged or
unsettled notification can look like money. The bank's own statement is the ground truth, so
:func:`import_statement` compares it with the journal, line by line, for one receiving account:

* ``missing_notification``: on the statement, never notified. The line is added to the journal
  as provider ``statement`` (idempotent: importing the same file again adds nothing) and matched
  like any notification. Its bank reference is kept, so a webhook that turns up later is marked
  a duplicate of it by ingest rather than counted twice.
* ``not_on_statement``: notified, but the bank does not show it in the statement's period — not
  settled yet, or forged. Nothing is changed; a person looks.
* ``expired_unpaid``: intents of the account's stall that expired in the period without being
  paid in full (the sale probably went to cash, or the payer gave up).
* ``matched``: on both sides.

A line matches a notification by bank reference when both carry one, else by the same signed
amount on the same local day (a day either side is tolerated: a transfer at 23:59 may be booked
the next day), the closest day first, then the same memo, then the earliest notification.

Formats (``--format``): every export is a CSV whose header row is found by its column titles
(banks put a preamble above it — the account number is read from a preamble line such as
``Số tài khoản: 0123456789``). Amounts are whole đồng written the Vietnamese way ("1.234.000",
an optional ",00" is accepted); dates are ``dd/mm/yyyy`` with an optional ``HH:MM[:SS]``, in
the market's time zone. The bank layouts are the column sets of their internet-banking CSV
exports as we document them here:

=============  ===================================================================================
format         columns (titles as in the file; the ones we use)
=============  ===================================================================================
generic        ``date`` (dd/mm/yyyy or ISO), ``time`` (optional), ``amount`` (signed) or
               ``credit`` + ``debit``, ``description``, ``reference`` (optional), ``account``
               (optional, per line)
vcb            Vietcombank: ``Ngày giao dịch``, ``Số tham chiếu``, ``Số tiền ghi nợ``,
               ``Số tiền ghi có``, ``Mô tả``
agribank       Agribank: ``Ngày GD``, ``Số bút toán``, ``Phát sinh nợ``, ``Phát sinh có``,
               ``Số dư``, ``Nội dung``
bidv           BIDV: ``Ngày hiệu lực``, ``Ngày giao dịch`` (with the time), ``Số tham chiếu``,
               ``Ghi nợ``, ``Ghi có``, ``Số dư``, ``Mô tả giao dịch``
vietinbank     VietinBank: ``Ngày giao dịch`` (with the time), ``Mô tả giao dịch``, ``Nợ``, ``Có``,
               ``Số dư``, ``Số giao dịch``
=============  ===================================================================================

A line without a time is taken at the start of its local day (an intent that expired later that
day is then not called late on a guess).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from market.db import utcnow
from market.errors import FieldError, InvalidInputError
from market.formats import date_vi
from market.merchants.store import accounts_table, stalls
from market.reconcile.ingest.journal import Incoming, write_batch
from market.reconcile.ledger.driver import Driver
from market.reconcile.ledger.tables import intents_table, journal_table
from market.reconcile.matching import memo
from market.reconcile.notification import Notification
from market.reconcile.reasons import OUTGOING_TRANSFER
from market.reconcile.statuses import STATUS_DUPLICATE
from market.spreadsheet import CsvValue, csv_cell
from market.text import search_key

__all__ = [
    "CATEGORIES",
    "FORMATS",
    "Layout",
    "StatementItem",
    "StatementLine",
    "StatementReport",
    "import_statement",
    "parse_amount",
    "parse_statement",
    "write_items_csv",
]

CATEGORIES = ("matched", "missing_notification", "not_on_statement", "expired_unpaid")


class Layout(msgspec.Struct, frozen=True, kw_only=True):
    """Where one bank's export keeps each field (column titles, compared without diacritics or case)."""

    name: str
    bank_bin: str | None
    date: str
    description: str
    credit: str | None = None
    debit: str | None = None
    amount: str | None = None
    reference: str | None = None
    time: str | None = None
    account: str | None = None


FORMATS: dict[str, Layout] = {
    "generic": Layout(
        name="generic", bank_bin=None, date="date", time="time", amount="amount", credit="credit", debit="debit",
        description="description", reference="reference", account="account",
    ),
    "vcb": Layout(
        name="vcb", bank_bin="970436", date="Ngày giao dịch", reference="Số tham chiếu", debit="Số tiền ghi nợ",
        credit="Số tiền ghi có", description="Mô tả",
    ),
    "agribank": Layout(
        name="agribank", bank_bin="970405", date="Ngày GD", reference="Số bút toán", debit="Phát sinh nợ",
        credit="Phát sinh có", description="Nội dung",
    ),
    "bidv": Layout(
        name="bidv", bank_bin="970418", date="Ngày giao dịch", reference="Số tham chiếu", debit="Ghi nợ",
        credit="Ghi có", description="Mô tả giao dịch",
    ),
    "vietinbank": Layout(
        name="vietinbank", bank_bin="970415", date="Ngày giao dịch", description="Mô tả giao dịch", debit="Nợ",
        credit="Có", reference="Số giao dịch",
    ),
}  # fmt: skip

_VIETNAMESE_AMOUNT = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})*(?:,0{1,2})?")
_PLAIN_AMOUNT = re.compile(r"[+-]?\d+")
_ACCOUNT_IN_PREAMBLE = re.compile(r"(?:so tai khoan|tai khoan|account(?: number)?|stk)\s*:?\s*([0-9]{6,19})")
_DATE_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
)


class StatementLine(msgspec.Struct, frozen=True, kw_only=True):
    """One booked transfer on the statement; ``amount`` is signed (credit positive)."""

    line: int
    account: str | None
    at: dt.datetime
    day: dt.date
    amount: int
    description: str
    reference: str | None
    raw: str


class StatementItem(msgspec.Struct, kw_only=True):
    """One row of the report (see the module docstring for the categories)."""

    category: str
    day: dt.date
    amount: int
    description: str
    line: int | None = None
    reference: str | None = None
    journal_id: int | None = None
    provider: str | None = None
    status: str | None = None
    intent: str | None = None
    note: str = ""


class StatementReport(msgspec.Struct, kw_only=True):
    """The whole comparison: every item, and the statement's account and period."""

    account: str
    first_day: dt.date
    last_day: dt.date
    items: list[StatementItem]

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per category: (items, total đồng)."""
        totals = dict.fromkeys(CATEGORIES, (0, 0))
        for item in self.items:
            count, value = totals[item.category]
            totals[item.category] = (count + 1, value + item.amount)
        return totals


def parse_amount(text: str, *, line: int, column: str) -> int:
    """Whole đồng from "1.234.000", "1.234.000,00", "-50000" or "" (zero).

    Raises:
        InvalidInputError: anything else (a decimal part that is not zero, letters...).
    """
    cleaned = text.strip().replace(" ", "").removesuffix("VND").removesuffix("đ").strip()
    if not cleaned:
        return 0
    if _PLAIN_AMOUNT.fullmatch(cleaned):
        return int(cleaned)
    if _VIETNAMESE_AMOUNT.fullmatch(cleaned):
        return int(cleaned.split(",")[0].replace(".", ""))
    raise InvalidInputError(
        [FieldError(f"line {line}: {column}", f"số tiền không hợp lệ {text!r} / not an amount in whole đồng")]
    )


def _parse_moment(text: str, time_text: str, zone: ZoneInfo, *, line: int) -> tuple[dt.datetime, dt.date]:
    value = f"{text.strip()} {time_text.strip()}".strip()
    for pattern in _DATE_FORMATS:
        try:
            moment = dt.datetime.strptime(value, pattern)  # noqa: DTZ007 - local time, zone attached below
        except ValueError:
            continue
        local = moment.replace(tzinfo=zone)
        return local.astimezone(dt.UTC), local.date()
    raise InvalidInputError([FieldError(f"line {line}: date", f"ngày không hợp lệ {value!r} / expected dd/mm/yyyy")])


def _find_header(rows: list[list[str]], layout: Layout) -> tuple[int, dict[str, int]]:
    wanted = {search_key(layout.date), search_key(layout.description)}
    for index, row in enumerate(rows):
        keys = {search_key(cell): position for position, cell in enumerate(row)}
        if wanted <= keys.keys():
            return index, keys
    raise InvalidInputError(
        [
            FieldError(
                "format",
                f"không thấy dòng tiêu đề của định dạng {layout.name} / no header row with the columns "
                f"{layout.date!r} and {layout.description!r}",
            )
        ]
    )


def _preamble_account(rows: Iterable[list[str]]) -> str | None:
    for row in rows:
        match = _ACCOUNT_IN_PREAMBLE.search(search_key(" ".join(row)))
        if match:
            return match.group(1)
    return None


def parse_statement(
    text: str, layout: Layout, *, zone: ZoneInfo, account: str | None = None
) -> tuple[str | None, list[StatementLine]]:
    """The statement's account (``account``, else the preamble's) and its lines.

    Raises:
        InvalidInputError: no header row, or bad amounts and dates (every bad line is named).
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header_at, columns = _find_header(rows, layout)
    account = account or _preamble_account(rows[:header_at])

    def cell(row: list[str], title: str | None) -> str:
        position = columns.get(search_key(title)) if title else None
        return row[position].strip() if position is not None and position < len(row) else ""

    lines: list[StatementLine] = []
    errors: list[FieldError] = []
    for offset, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not any(ch.isdigit() for ch in cell(row, layout.date)):
            continue  # blank lines, and the "Tổng cộng" (totals) row banks add at the end
        try:
            if layout.amount and search_key(layout.amount) in columns:
                amount = parse_amount(cell(row, layout.amount), line=offset, column=layout.amount)
            else:
                credit = parse_amount(cell(row, layout.credit), line=offset, column=layout.credit or "credit")
                debit = parse_amount(cell(row, layout.debit), line=offset, column=layout.debit or "debit")
                amount = abs(credit) - abs(debit)
            at, day = _parse_moment(cell(row, layout.date), cell(row, layout.time), zone, line=offset)
        except InvalidInputError as exc:
            errors.extend(exc.errors)
            continue
        if amount == 0:
            continue  # a fee-free balance line: no money moved
        lines.append(
            StatementLine(
                line=offset,
                account=cell(row, layout.account) or account,
                at=at,
                day=day,
                amount=amount,
                description=cell(row, layout.description),
                reference=cell(row, layout.reference) or None,
                raw=",".join(row),
            )
        )
    if errors:
        raise InvalidInputError(errors)
    return account, lines


def _line_key(account: str, line: StatementLine, seen: dict[tuple[Any, ...], int]) -> str:
    """A stable id for a line: its bank reference, else what it says plus its rank among identical lines."""
    if line.reference:
        return f"{account}:{line.reference}"
    shape = (line.day.isoformat(), line.amount, hashlib.sha256(line.description.encode()).hexdigest()[:12])
    seen[shape] = seen.get(shape, 0) + 1
    return f"{account}:{':'.join(map(str, shape))}:{seen[shape]}"


def _day_gap(row: Any, line: StatementLine, zone: ZoneInfo) -> int:
    booked: dt.date = row.transferred_at.astimezone(zone).date()
    return abs((booked - line.day).days)


def _pair(lines: Sequence[StatementLine], rows: Sequence[Any], zone: ZoneInfo) -> dict[int, Any]:
    """line number → the journal row it matches (each row used once); see the module docstring."""
    by_reference = {row.bank_reference: row for row in rows if row.bank_reference}
    used: set[int] = set()
    paired: dict[int, Any] = {}
    for line in lines:
        row = by_reference.get(line.reference) if line.reference else None
        if row is not None and row.id not in used:
            paired[line.line] = row
            used.add(row.id)
    for line in lines:
        if line.line in paired:
            continue
        candidates = [
            row for row in rows if row.id not in used and row.amount == line.amount and _day_gap(row, line, zone) <= 1
        ]
        if not candidates:
            continue
        words = memo.compact(memo.content(line.description))

        def rank(row: Any, words: str = words, line: StatementLine = line) -> tuple[int, bool, int]:
            same_words = bool(words) and words in memo.compact(memo.content(row.memo))
            return _day_gap(row, line, zone), not same_words, row.id

        best = min(candidates, key=rank)
        paired[line.line] = best
        used.add(best.id)
    return paired


def _journal_rows(conn: Connection, account: str, first: dt.datetime, last: dt.datetime) -> list[Any]:
    j = journal_table.c
    query = (
        sa.select(j.id, j.provider, j.provider_txn_id, j.status, j.amount, j.memo, j.transferred_at, j.bank_reference)
        .where(
            j.account_number == account,
            j.status != STATUS_DUPLICATE,
            j.transferred_at >= first,
            j.transferred_at < last,
        )
        .order_by(j.id)
    )
    return list(conn.execute(query))


def _incoming(account: str, line: StatementLine, key: str, layout: Layout, source: str, now: dt.datetime) -> Incoming:
    notification = Notification(
        provider="statement",
        provider_txn_id=key,
        amount=line.amount,
        direction="in" if line.amount > 0 else "out",
        memo=line.description,
        transferred_at=line.at,
        received_at=now,
        bank_reference=line.reference,
        account_number=account,
        bank_bin=layout.bank_bin,
    )
    return Incoming(
        notification=notification,
        raw_body=line.raw.encode(),
        raw_headers={"format": layout.name, "file": source, "line": str(line.line)},
        auth="statement",
        # The same convention as the provider adapters: money out is reviewed by the core's reversal rules.
        review_reason=OUTGOING_TRANSFER if line.amount < 0 else None,
    )


def _expired_unpaid(
    conn: Connection, account: str, first: dt.datetime, last: dt.datetime, now: dt.datetime
) -> list[Any]:
    i = intents_table.c
    owner = sa.select(accounts_table.c.stall_id).where(accounts_table.c.account_number == account)
    query = (
        sa.select(i.code, i.amount, i.paid_amount, i.expires_at, i.note, stalls.c.code.label("stall"))
        .join(stalls, stalls.c.id == i.stall_id)
        .where(
            i.stall_id.in_(owner.scalar_subquery()),
            i.paid_amount < i.amount,
            i.expires_at >= first,
            i.expires_at < min(last, now),
        )
        .order_by(i.expires_at, i.code)
    )
    return list(conn.execute(query))


def _line_items(
    lines: Sequence[StatementLine], paired: dict[int, Any], added: dict[int, int], statuses: dict[int, str]
) -> list[StatementItem]:
    items = []
    for line in lines:
        row = paired.get(line.line)
        journal_id = row.id if row is not None else added[line.line]
        items.append(
            StatementItem(
                category="matched" if row is not None else "missing_notification",
                day=line.day,
                amount=line.amount,
                description=line.description,
                line=line.line,
                reference=line.reference,
                journal_id=journal_id,
                provider=row.provider if row is not None else "statement",
                status=statuses.get(journal_id),
                note="" if row is not None else "thiếu thông báo, đã thêm / never notified, added to the journal",
            )
        )
    return items


def _unsettled_item(row: Any, statuses: dict[int, str], zone: ZoneInfo) -> StatementItem:
    return StatementItem(
        category="not_on_statement",
        day=row.transferred_at.astimezone(zone).date(),
        amount=row.amount,
        description=row.memo,
        reference=row.bank_reference,
        journal_id=row.id,
        provider=row.provider,
        status=statuses.get(row.id),
        note="không có trong sao kê: chưa quyết toán hoặc giả mạo / not settled yet, or forged",
    )


def _expired_item(intent: Any, zone: ZoneInfo) -> StatementItem:
    return StatementItem(
        category="expired_unpaid",
        day=intent.expires_at.astimezone(zone).date(),
        amount=intent.amount - intent.paid_amount,
        description=intent.note or "",
        intent=intent.code,
        note=f"sạp {intent.stall}: hết hạn, còn thiếu / expired, still owed ({intent.paid_amount} đ paid)",
    )


def import_statement(
    engine: Engine,
    text: str,
    layout: Layout,
    *,
    account: str | None = None,
    source: str = "",
    timezone: str = "Asia/Ho_Chi_Minh",
    now: dt.datetime | None = None,
) -> StatementReport:
    """Compare a statement with the journal, add the lines never notified, match them, and report.

    Args:
        engine: a blocking engine on the database.
        text: the CSV file's text.
        layout: one of :data:`FORMATS`.
        account: the receiving account the statement is for (default: read from the file).
        source: the file name, kept with each added journal row.

    Raises:
        InvalidInputError: unreadable file, bad lines (each named), or no account known.
    """
    zone = ZoneInfo(timezone)
    now = now or utcnow()
    account, lines = parse_statement(text, layout, zone=zone, account=account)
    if not account:
        raise InvalidInputError(
            [FieldError("account", "không rõ số tài khoản: dùng --account / the statement names no account: --account")]
        )
    if not lines:
        raise InvalidInputError(
            [FieldError("file", "sao kê không có giao dịch nào / no transactions in the statement")]
        )
    first_day, last_day = min(line.day for line in lines), max(line.day for line in lines)
    first = dt.datetime.combine(first_day, dt.time(), zone).astimezone(dt.UTC)
    last = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    with engine.begin() as conn:
        # A day of slack either side for pairing; only rows inside the period are "not on statement".
        rows = _journal_rows(conn, account, first - dt.timedelta(days=1), last + dt.timedelta(days=1))
        paired = _pair(lines, rows, zone)
        seen: dict[tuple[Any, ...], int] = {}
        keys = {line.line: _line_key(account, line, seen) for line in lines}
        missing = [line for line in lines if line.line not in paired]
        added: dict[int, int] = {}
        if missing:
            incoming = [_incoming(account, line, keys[line.line], layout, source, now) for line in missing]
            stored = write_batch(conn, incoming)
            added = {line.line: result.id for line, result in zip(missing, stored, strict=True)}
    driver = Driver(engine, timezone=timezone)
    try:
        driver.run()
    finally:
        driver.close()
    with engine.connect() as conn:
        ids = [row.id for row in rows] + list(added.values())
        statuses = {
            row.id: row.status
            for row in conn.execute(
                sa.select(journal_table.c.id, journal_table.c.status).where(journal_table.c.id.in_(ids))
            )
        }
        items = _line_items(lines, paired, added, statuses)
        used = {row.id for row in paired.values()}
        items += [
            _unsettled_item(row, statuses, zone)
            for row in rows
            if row.id not in used and first <= row.transferred_at < last
        ]
        items += [_expired_item(intent, zone) for intent in _expired_unpaid(conn, account, first, last, now)]
    return StatementReport(account=account, first_day=first_day, last_day=last_day, items=items)


_CSV_COLUMNS = ("category", "line", "date", "amount", "reference", "description", "journal_id", "provider", "status",
                "intent", "note")  # fmt: skip


def write_items_csv(report: StatementReport, out: io.TextIOBase | Any) -> None:
    """One CSV row per item (dates dd/mm/yyyy, amounts in whole đồng), header first.

    Bank descriptions and notes are text from outside: one starting like a formula gets a leading
    ``'``. Amounts are our integers and stay numbers (``-5000``), never prefixed.
    """
    writer = csv.writer(out)
    writer.writerow(_CSV_COLUMNS)
    for item in report.items:
        cells: list[CsvValue] = [
            item.category,
            item.line or "",
            date_vi(item.day),
            item.amount,
            item.reference or "",
            item.description,
            item.journal_id or "",
            item.provider or "",
            item.status or "",
            item.intent or "",
            item.note,
        ]
        writer.writerow([csv_cell(cell) for cell in cells])
