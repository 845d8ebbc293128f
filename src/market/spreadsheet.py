"""Cells that a spreadsheet opens as what we wrote: text as text, never as a formula.

Excel, LibreOffice and Google Sheets read a cell whose text begins with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula, so a holder named ``=HYPERLINK(...)`` in an export would
run in the office's spreadsheet. The rule (OWASP's) is to put a single quote before such text.

- CSV: :func:`csv_cell` prefixes such *text*. A number we write ourselves (an ``int`` amount such
  as ``-20000`` in the statement items) is not text and is written as it is, so that our own
  readers and a spreadsheet read it as a number; text fields are prefixed whatever they hold.
  :func:`restore` undoes the prefix on import, so our exports read back as they were written.
- XLSX: :func:`put` writes text as a string cell, never as a formula or an error code, and
  marks it as text (number format ``@``, so Excel keeps leading zeros when the cell is edited).
  Text a spreadsheet would read as a formula also gets Excel's own hidden quote (the
  ``quotePrefix`` style, what Excel stores when a user types ``'=1+1``): the cell's value stays
  exactly the text, and editing the cell in Excel does not turn it into a formula.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

__all__ = [
    "FORMULA_STARTS",
    "CsvCell",
    "CsvValue",
    "XlsxValue",
    "csv_cell",
    "neutralise",
    "put",
    "restore",
    "starts_formula",
]

# What a spreadsheet reads as the start of a formula (a tab or CR also shifts or hides the cell).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"

CsvValue = str | int | float | Decimal | None
CsvCell = str | int | float | Decimal
XlsxValue = str | int | float | Decimal | dt.date | None


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula."""
    return text.startswith(FORMULA_STARTS)


def _quoted_formula(text: str) -> bool:
    # "'=1", "''=1": text that :func:`restore` would shorten, so it needs a quote of its own.
    return text.startswith(_QUOTE) and starts_formula(text.lstrip(_QUOTE))


def neutralise(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula.

    Text that already starts with quotes before a formula sign gets one more, so that
    :func:`restore` gives every text back exactly.
    """
    return _QUOTE + text if starts_formula(text) or _quoted_formula(text) else text


def restore(text: str) -> str:
    """The text :func:`neutralise` was given: one leading ``'`` before ``= + - @``, tab or CR is dropped."""
    return text[1:] if _quoted_formula(text) else text


def csv_cell(value: CsvValue) -> CsvCell:
    """A CSV field: text neutralised, our own numbers as they are, ``None`` as an empty field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return value


def put(sheet: Any, row: int, column: int, value: XlsxValue) -> Any:
    """Write ``value`` into an openpyxl sheet's cell and return the cell.

    Text becomes a string cell (openpyxl would otherwise store ``=...`` as a formula and ``#N/A``
    as an error); numbers and dates stay numbers and dates; ``None`` leaves the cell empty.
    """
    cell = sheet.cell(row, column)
    if isinstance(value, bool):
        raise TypeError("write a yes/no as the words the reader expects, not as a bool")
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        cell.number_format = "@"
        if starts_formula(value):
            cell.quotePrefix = True
    return cell
