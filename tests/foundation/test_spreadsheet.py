"""market.spreadsheet: text a spreadsheet would run as a formula is written so that it stays text."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from market.reconcile.ledger.statements import StatementItem, StatementReport, write_items_csv
from market.spreadsheet import csv_cell, neutralise, put, restore, starts_formula

FORMULAS = ["=1+1", "+84912345678", "-5", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")']
PLAIN = ["Nguyễn Thị Đào", "", "'", "'abc", "0123456789", "a=b", " =1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_that_starts_like_a_formula_gets_a_quote(text):
    assert starts_formula(text)
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", PLAIN)
def test_other_text_is_left_alone(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("text", [*FORMULAS, *PLAIN, "'=1+1", "''@x", "'-"])
def test_restore_gives_back_every_text(text):
    assert restore(neutralise(text)) == text


def test_a_quote_before_a_formula_sign_in_the_text_itself_survives():
    # Someone wrote "'=1+1" on purpose: it goes out as "''=1+1" and comes back as typed.
    assert neutralise("'=1+1") == "''=1+1"
    assert restore("''=1+1") == "'=1+1"


def test_csv_cells_guard_text_and_leave_our_numbers_alone():
    assert csv_cell("-20000") == "'-20000"  # text: whoever typed it, it is not our number
    assert csv_cell(-20000) == -20000
    assert csv_cell(Decimal("-1.5")) == Decimal("-1.5")
    assert csv_cell(None) == ""


def _reopened(book):
    out = io.BytesIO()
    book.save(out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue())).active


def test_xlsx_text_is_a_string_cell_never_a_formula_or_an_error():
    book = openpyxl.Workbook()
    values = ["=1+1", "@SUM(A1)", "#N/A", "0123456789", -20000, 4.5, dt.date(2026, 3, 31), None]
    for column, value in enumerate(values, start=1):
        put(book.active, 1, column, value)
    sheet = _reopened(book)
    cells = [sheet.cell(1, column) for column in range(1, len(values) + 1)]
    assert [c.data_type for c in cells[:4]] == ["s", "s", "s", "s"]
    assert [c.value for c in cells[:4]] == ["=1+1", "@SUM(A1)", "#N/A", "0123456789"]
    assert all(c.number_format == "@" for c in cells[:4])
    # Excel's hidden quote: editing the cell in Excel keeps it text.
    assert (cells[0].quotePrefix, cells[1].quotePrefix, cells[3].quotePrefix) == (True, True, False)
    assert (cells[4].data_type, cells[4].value) == ("n", -20000)
    assert (cells[5].data_type, cells[5].value) == ("n", 4.5)
    assert cells[6].value.date() == dt.date(2026, 3, 31)
    assert cells[7].value is None


def test_a_bool_is_refused_rather_than_written_as_true():
    with pytest.raises(TypeError):
        put(openpyxl.Workbook().active, 1, 1, True)


def test_statement_items_guard_bank_text_and_keep_amounts_numbers():
    report = StatementReport(
        account="970436/0071000123456",
        first_day=dt.date(2026, 3, 1),
        last_day=dt.date(2026, 3, 31),
        items=[
            StatementItem(category="missing_notification", day=dt.date(2026, 3, 2), amount=-20000,
                          description="=HYPERLINK(\"http://x\",\"y\")", reference="@FT1", note="-phi"),
        ],
    )  # fmt: skip
    out = io.StringIO()
    write_items_csv(report, out)
    (item,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert item["amount"] == "-20000"
    assert int(item["amount"]) == -20000
    assert item["description"] == '\'=HYPERLINK("http://x","y")'
    assert (item["reference"], item["note"]) == ("'@FT1", "'-phi")
