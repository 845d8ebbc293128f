"""The registry as a spreadsheet: CSV columns, reading rows as users typed them, writing exports.

Files come from Excel as often as not: UTF-8 with a byte-order mark, ``;`` as
the delimiter under a Vietnamese locale, Vietnamese headers, "có"/"không" for yes/no, dates as
dd/mm/yyyy and decimal commas. The reader accepts all of that and English equivalents; each row
becomes a set of field values (``RowInput``) that the importer lays over the stored stall, so a
column missing from the file (the national ID, absent from default exports) leaves that field alone.

Exports are safe to open: a text cell a spreadsheet would read as a formula (a holder named
``=1+1``) is written with a leading ``'`` (:mod:`market.spreadsheet`), and the reader drops that
``'`` again, so an export imports back to the same stalls. The XLSX form is in ``xlsxio``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal, NamedTuple, TextIO

from market.banks import find_bank
from market.formats import date_vi
from market.merchants.schemas import AccountIn, StallData
from market.merchants.vocab import ACCOUNT_KINDS, CATEGORIES, FREQUENCIES, NO_CASHLESS_REASONS, STATUSES, Vocabulary
from market.spreadsheet import neutralise, restore
from market.text import search_key

__all__ = [
    "COLUMNS",
    "Column",
    "CsvFileError",
    "Lang",
    "RowError",
    "RowInput",
    "export_cells",
    "export_columns",
    "read_rows",
    "rows_from_records",
    "write_csv",
]

Lang = Literal["vi", "en"]


class Column(NamedTuple):
    """One CSV column: English and Vietnamese headers, the field path it fills, other accepted headers."""

    name: str
    label: str
    path: str
    aliases: tuple[str, ...] = ()


# The export's first column is the stall code (docs/contract.md).
COLUMNS: tuple[Column, ...] = (
    Column("stall_code", "Mã sạp", "code", ("Sạp", "Mã", "code", "stall", "Số sạp", "Lô")),
    Column("zone", "Khu", "zone", ("Khu vực",)),
    Column("row", "Dãy", "row"),
    Column("category", "Ngành hàng", "category", ("Loại hàng", "goods category")),
    Column("area_m2", "Diện tích (m²)", "area_m2", ("Diện tích", "area", "Diện tích m2")),
    Column("status", "Trạng thái", "status", ("Tình trạng", "Tình trạng kinh doanh")),
    Column("status_since", "Ngày trạng thái", "status_since", ("Từ ngày",)),
    Column("full_name", "Họ tên", "holder.full_name", ("Họ và tên", "Tên tiểu thương", "Chủ sạp", "name")),
    Column("phone", "Số điện thoại", "holder.phone", ("SĐT", "Điện thoại", "Di động", "phone number")),
    Column("zalo", "Zalo", "holder.zalo", ("Số Zalo",)),
    Column("national_id", "Số CCCD", "holder.national_id", ("CCCD", "CMND", "Căn cước", "CCCD/CMND")),
    Column("trading_frequency", "Tần suất buôn bán", "holder.trading_frequency", ("Tần suất", "frequency")),
    Column("bank", "Ngân hàng", "accounts[0].bank", ("Mã ngân hàng", "BIN", "bank bin")),
    Column("account_number", "Số tài khoản", "accounts[0].account_number", ("STK", "Số TK", "account")),
    Column("account_name", "Tên chủ tài khoản", "accounts[0].holder_name", ("Chủ tài khoản", "account holder")),
    Column("account_kind", "Loại tài khoản", "accounts[0].kind", ("Loại TK",)),
    Column("other_accounts", "Tài khoản khác", "accounts[1]", ("Tài khoản phụ",)),
    Column("has_bank_account", "Có tài khoản ngân hàng", "onboarding.has_bank_account", ("Có TK ngân hàng",)),
    Column("has_payment_app", "Có ứng dụng thanh toán", "onboarding.has_payment_app", ("Có app", "Có ứng dụng")),
    Column("qr_issued_on", "Ngày cấp QR", "onboarding.qr_issued_on", ("Ngày cấp mã QR",)),
    Column("qr_displayed", "Đã niêm yết QR", "onboarding.qr_displayed", ("Niêm yết QR", "Niêm yết mã QR")),
    Column("no_cashless_reason", "Lý do chưa dùng TTKDTM", "onboarding.no_cashless_reason", ("Lý do",)),
    Column("no_cashless_note", "Ghi chú lý do", "onboarding.no_cashless_note", ("Ghi chú",)),
)
_ACCOUNT_COLUMNS = frozenset({"bank", "account_number", "account_name", "account_kind", "other_accounts"})
# Row-number columns Excel users add; they carry nothing to import.
_IGNORED = frozenset({"stt", "tt", "no", "#", ""})
_TRUE = frozenset({"co", "x", "yes", "y", "true", "1", "da", "roi"})
_FALSE = frozenset({"khong", "no", "n", "false", "0", "chua"})
_OTHER_SEPARATOR = " | "
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9#]", "", search_key(text))


_BY_HEADER: dict[str, Column] = {}
for _column in COLUMNS:
    for _name in (_column.name, _column.label, *_column.aliases):
        _BY_HEADER.setdefault(_header_key(_name), _column)


class RowError(NamedTuple):
    """A problem in the file: the row number as Excel shows it (header = 1), the column, what is wrong."""

    row: int
    column: str
    message: str


class CsvFileError(Exception):
    """The file cannot be read as a registry CSV at all; ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class RowInput(NamedTuple):
    """One data row: its Excel row number and the field values it gives, by field path."""

    row: int
    values: dict[str, Any]


def _decode(data: bytes) -> str:
    try:
        # utf-8-sig drops the byte-order mark Excel writes ("CSV UTF-8"), and is plain UTF-8 otherwise.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvFileError(
            [
                RowError(
                    line,
                    "",
                    "tệp không phải UTF-8; trong Excel chọn 'CSV UTF-8' khi lưu / file is not UTF-8 "
                    "(save as 'CSV UTF-8')",
                )
            ]
        ) from None


def _delimiter(header_line: str) -> str:
    # Excel under a Vietnamese locale writes ";" (the list separator there, because "," is the
    # decimal sign); elsewhere ",". Headers hold neither, so the most frequent one is the delimiter.
    return max((",", ";", "\t"), key=header_line.count)


def _map_header(cells: list[str]) -> tuple[dict[int, Column], dict[str, str], list[RowError]]:
    columns: dict[int, Column] = {}
    shown: dict[str, str] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(cells):
        key = _header_key(cell)
        column = _BY_HEADER.get(key)
        if column is None:
            if key not in _IGNORED:
                errors.append(RowError(1, cell, f"cột không rõ {cell!r} / unknown column; dùng: {_known_headers()}"))
            continue
        if column.name in shown:
            errors.append(RowError(1, cell, f"cột {cell!r} trùng với cột {shown[column.name]!r} / duplicate column"))
            continue
        columns[index] = column
        shown[column.name] = cell.strip()
    for required in ("stall_code", "full_name"):
        if required not in shown:
            column = next(c for c in COLUMNS if c.name == required)
            errors.append(RowError(1, column.label, f"thiếu cột {column.label!r} ({column.name}) / missing column"))
    return columns, shown, errors


def _known_headers() -> str:
    return ", ".join(f"{c.label} ({c.name})" for c in COLUMNS)


def _bool(text: str) -> bool:
    key = search_key(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"cần 'có' hoặc 'không' (yes/no), không phải {text!r}")


def _area(text: str) -> float:
    compact = text.replace(" ", "").lower().removesuffix("m2").removesuffix("m²")
    if not _NUMBER.fullmatch(compact):
        raise ValueError(f"diện tích phải là số m², ví dụ 4,5 (không phải {text!r}) / area must be a number")
    return float(compact.replace(",", "."))


def _other_accounts(text: str) -> list[AccountIn]:
    accounts = []
    for part in text.split("|"):
        if not part.strip():
            continue
        pieces = [p.strip() for p in part.split("/")]
        if len(pieces) < 2 or len(pieces) > 4:
            raise ValueError(
                f"tài khoản khác {part.strip()!r}: cần 'Ngân hàng/Số tài khoản[/Tên chủ TK[/Loại]]', cách nhau bởi '|'"
            )
        bank, number, *rest = pieces
        holder = rest[0] if rest and rest[0] else None
        kind = rest[1] if len(rest) > 1 and rest[1] else None
        accounts.append(AccountIn(bank=bank, account_number=number, holder_name=holder, kind=kind))
    return accounts


def _row_values(cells: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Field values from one row's cells (by column name); errors as (column name, message)."""
    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for column in COLUMNS:
        if column.name not in cells or column.name in _ACCOUNT_COLUMNS:
            continue
        text = cells[column.name].strip()
        try:
            if column.name in ("has_payment_app", "qr_displayed"):
                values[column.path] = _bool(text) if text else False
            elif column.name == "has_bank_account":
                values[column.path] = _bool(text) if text else None
            elif column.name == "area_m2":
                values[column.path] = _area(text) if text else None
            elif column.name in ("category", "status", "trading_frequency") and not text:
                continue  # blank: the field's default
            else:
                values[column.path] = text or None
        except ValueError as exc:
            errors.append((column.name, str(exc)))
    if _ACCOUNT_COLUMNS & cells.keys():
        # Account columns present: the row states the stall's accounts in full (blank: none).
        accounts: list[AccountIn] = []
        bank, number = cells.get("bank", "").strip(), cells.get("account_number", "")
        if bank or number.strip():
            accounts.append(
                AccountIn(
                    bank=bank,
                    # Not stripped inside: "1234 5678" must be reported, not silently joined.
                    account_number=number.strip(),
                    holder_name=cells.get("account_name", "").strip() or None,
                    kind=cells.get("account_kind", "").strip() or None,
                    is_default=True,
                )
            )
        try:
            accounts.extend(_other_accounts(cells.get("other_accounts", "")))
        except ValueError as exc:
            errors.append(("other_accounts", str(exc)))
        values["accounts"] = accounts
    return values, errors


def read_rows(data: bytes) -> tuple[list[RowInput], dict[str, str], list[RowError]]:
    """Parse a registry CSV: the data rows, the headers as written (by column name), and row errors.

    Blank rows are skipped but counted, so row numbers match what Excel shows.

    Raises:
        CsvFileError: not UTF-8, malformed CSV (e.g. an unclosed quote), or unusable headers.
    """
    text = _decode(data)
    if not text.strip():
        raise CsvFileError([RowError(1, "", "tệp rỗng / the file is empty")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]), strict=True)
    return rows_from_records(_records(reader))


def rows_from_records(
    records: Iterator[tuple[int, list[str]]],
) -> tuple[list[RowInput], dict[str, str], list[RowError]]:
    """The rows of a sheet given as (row number, cell texts), the header first; see :func:`read_rows`.

    Raises:
        CsvFileError: no header row, or unusable headers.
    """
    first = next(records, None)
    if first is None:
        raise CsvFileError([RowError(1, "", "tệp rỗng / the file is empty")])
    _, header = first
    columns, shown, header_errors = _map_header(header)
    if header_errors:
        raise CsvFileError(header_errors)
    rows: list[RowInput] = []
    errors: list[RowError] = []
    for number, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        extra = [cell for index, cell in enumerate(cells) if index >= len(header) and cell.strip()]
        if extra:
            errors.append(RowError(number, "", f"dòng có {len(cells)} ô, tiêu đề có {len(header)} / too many cells"))
            continue
        named = {columns[i].name: cell for i, cell in enumerate(cells) if i in columns}
        named.update({c.name: "" for c in columns.values() if c.name not in named})
        values, problems = _row_values(named)
        errors.extend(RowError(number, shown[name], message) for name, message in problems)
        rows.append(RowInput(number, values))
    return rows, shown, errors


def _records(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """(Excel row number, cells) for each record, the header first; CSV syntax errors become a CsvFileError.

    A cell our export wrote with a leading ``'`` (text that starts like a formula) is read as the text itself.
    """
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, [restore(cell) for cell in cells]
    except csv.Error as exc:
        raise CsvFileError([RowError(number + 1, "", f"CSV hỏng: {exc} / malformed CSV")]) from None


# --- export -----------------------------------------------------------------------------------------


def _bank_name(bin_: str) -> str:
    # The short name reads better in Excel; the BIN when the short name would find another bank.
    bank = find_bank(bin_)
    if bank is None:
        return bin_
    found = find_bank(bank.short_name)
    return bank.short_name if found is not None and found.bin == bin_ else bin_


def export_columns(include_national_id: bool) -> list[Column]:
    """The export's columns, in order; the national ID only when asked."""
    return [c for c in COLUMNS if include_national_id or c.name != "national_id"]


def export_cells(data: StallData, lang: Lang) -> dict[str, str]:
    """One stall's cells as the export writes them (text, before any formula guard), by column name."""
    vi = lang == "vi"

    def choice(vocab: Vocabulary, code: str | None) -> str:
        return "" if code is None else vocab.label(code) if vi else code

    def yes(value: bool) -> str:
        return ("có" if value else "không") if vi else ("yes" if value else "no")

    def day(value: Any) -> str:
        return "" if value is None else date_vi(value) if vi else value.isoformat()

    area = "" if data.area_m2 is None else f"{data.area_m2:g}"
    default = next((a for a in data.accounts if a.is_default), None)
    others = [a for a in data.accounts if a is not default]
    return {
        "stall_code": data.code,
        "zone": data.zone,
        "row": data.row or "",
        "category": choice(CATEGORIES, data.category),
        "area_m2": area.replace(".", ",") if vi else area,
        "status": choice(STATUSES, data.status),
        "status_since": day(data.status_since),
        "full_name": data.full_name,
        "phone": data.phone or "",
        "zalo": data.zalo or "",
        "national_id": data.national_id or "",
        "trading_frequency": choice(FREQUENCIES, data.trading_frequency),
        "bank": _bank_name(default.bank_bin) if default else "",
        "account_number": default.account_number if default else "",
        "account_name": default.holder_name if default else "",
        "account_kind": choice(ACCOUNT_KINDS, default.kind) if default else "",
        "other_accounts": _OTHER_SEPARATOR.join(
            f"{_bank_name(a.bank_bin)}/{a.account_number}/{a.holder_name}/{choice(ACCOUNT_KINDS, a.kind)}"
            for a in others
        ),
        "has_bank_account": yes(data.has_bank_account),
        "has_payment_app": yes(data.has_payment_app),
        "qr_issued_on": day(data.qr_issued_on),
        "qr_displayed": yes(data.qr_displayed),
        "no_cashless_reason": choice(NO_CASHLESS_REASONS, data.no_cashless_reason),
        "no_cashless_note": data.no_cashless_note or "",
    }


def write_csv(
    out: TextIO,
    stalls: Iterable[StallData],
    *,
    lang: Lang = "vi",
    include_national_id: bool = False,
    delimiter: str = ",",
) -> int:
    """Write the registry as CSV (stall code first); the national ID only when asked. Returns the row count.

    The file reads back with ``read_rows`` to the same stalls, whatever ``lang`` and ``delimiter``.
    Every cell is text (the area too, written ``4,5`` in Vietnamese), so each one is guarded.
    """
    columns = export_columns(include_national_id)
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([c.label if lang == "vi" else c.name for c in columns])
    count = 0
    for data in stalls:
        cells = export_cells(data, lang)
        writer.writerow([neutralise(cells[c.name]) for c in columns])
        count += 1
    return count
