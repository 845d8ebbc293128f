"""The registry as an Excel workbook: the CSV's columns, with codes, phones and accounts as text cells.

A CSV opened in Excel loses the leading zero of ``0123456789`` and shows long account numbers
as ``8.36E+08``; a workbook does not, because each such cell is a text cell (and its column is
formatted as text, so a number typed into a new row keeps its zeros too). Text that starts like
a formula is stored as text with Excel's hidden quote (:func:`market.spreadsheet.put`), so the
cells hold exactly the stored values and the reader takes them as they are.

The reader takes the first sheet, in openpyxl's read-only mode, and gives the rows to the same
row checks as the CSV (:func:`market.merchants.csvio.rows_from_records`): the same error report,
by Excel row number and column header.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from market.merchants.csvio import (
    CsvFileError,
    Lang,
    RowError,
    RowInput,
    export_cells,
    export_columns,
    rows_from_records,
)
from market.merchants.schemas import StallData
from market.spreadsheet import put

__all__ = ["read_xlsx_rows", "write_xlsx"]

SHEET = "So_tieu_thuong"
# Digits that must keep their leading zeros and never become numbers in Excel.
_TEXT_COLUMNS = frozenset({"stall_code", "phone", "zalo", "national_id", "account_number", "other_accounts"})
_WIDE = frozenset({"full_name", "account_name", "other_accounts", "no_cashless_reason", "no_cashless_note"})


def write_xlsx(
    out: BinaryIO,
    stalls: Iterable[StallData],
    *,
    lang: Lang = "vi",
    include_national_id: bool = False,
) -> int:
    """Write the registry as a workbook, stall code first, one stall a row. Returns the row count.

    The area is a number; every other cell is the CSV export's text.
    """
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    columns = export_columns(include_national_id)
    for index, column in enumerate(columns, start=1):
        put(sheet, 1, index, column.label if lang == "vi" else column.name).font = Font(bold=True)
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = 30 if column.name in _WIDE else 16
        if column.name in _TEXT_COLUMNS:
            dimension.number_format = "@"
    count = 0
    for count, data in enumerate(stalls, start=1):
        cells = export_cells(data, lang)
        for index, column in enumerate(columns, start=1):
            if column.name == "area_m2":
                put(sheet, count + 1, index, data.area_m2)
            else:
                put(sheet, count + 1, index, cells[column.name])
    sheet.freeze_panes = "B2"
    book.save(out)
    return count


def _text(value: object) -> str:
    """A cell's value as the text the row checks read (Excel's own numbers and dates included)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        # A number Excel stored for digits ("6015294428003"): its digits, not "6015294428003.0".
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def read_xlsx_rows(data: bytes) -> tuple[list[RowInput], dict[str, str], list[RowError]]:
    """Parse a registry workbook (its first sheet) like :func:`market.merchants.csvio.read_rows`.

    Raises:
        CsvFileError: not an XLSX workbook, no sheet, or unusable headers.
    """
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise CsvFileError(
            [RowError(1, "", "tệp không phải Excel (.xlsx) / the file is not an XLSX workbook")]
        ) from None
    try:
        if not book.worksheets:
            raise CsvFileError([RowError(1, "", "tệp không có trang tính / the workbook has no sheet")])
        return rows_from_records(_records(book.worksheets[0].iter_rows(values_only=True)))
    finally:
        book.close()


def _records(rows: Iterator[tuple[object, ...]]) -> Iterator[tuple[int, list[str]]]:
    # Read-only mode gives empty rows as empty tuples too, so the count is Excel's row number.
    for number, values in enumerate(rows, start=1):
        yield number, [_text(value) for value in values]
