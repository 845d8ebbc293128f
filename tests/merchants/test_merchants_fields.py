"""Field rules that need no database: stall codes, phone numbers, vocabularies, CSV reading."""

import pytest

from market.merchants.contacts import normalize_national_id, normalize_phone
from market.merchants.csvio import CsvFileError, read_rows
from market.merchants.stall_codes import normalize_stall_code
from market.merchants.vocab import CATEGORIES, FREQUENCIES


@pytest.mark.parametrize("typed", ["a12", "A 12", "a-12", "A-12", " a_12 ", "Sạp A12", "lô a.12"])
def test_every_spelling_of_a_stall_code_is_one_code(typed):
    assert normalize_stall_code(typed) == "A-12"


def test_stall_numbers_have_two_digits_so_a1_and_a01_are_one_stall():
    assert normalize_stall_code("a1") == normalize_stall_code("A-01") == "A-01"
    assert normalize_stall_code("bc 7b") == "BC-07B"


@pytest.mark.parametrize("typed", ["", "12", "A", "A-12-3", "ABCD-1", "A-12345"])
def test_garbage_is_not_a_stall_code(typed):
    with pytest.raises(ValueError, match="A-12"):
        normalize_stall_code(typed)


@pytest.mark.parametrize("typed", ["0912 345 678", "+84912345678", "+84 912 345 678", "84912345678", "0912.345.678"])
def test_mobile_numbers_take_the_national_form(typed):
    assert normalize_phone(typed) == "0912345678"


@pytest.mark.parametrize("typed", ["123", "0212345678", "091234567", "09123456789", "phone", "+1 912 345 678"])
def test_garbage_phone_numbers_are_refused(typed):
    with pytest.raises(ValueError, match="10 chữ số"):
        normalize_phone(typed)


def test_national_id_is_12_or_9_digits():
    assert normalize_national_id("089 1 85 123456") == "089185123456"
    assert normalize_national_id("351234567") == "351234567"
    with pytest.raises(ValueError, match="12"):
        normalize_national_id("08918512345")


def test_vocabularies_accept_codes_labels_and_unaccented_labels():
    assert (
        CATEGORIES.lookup("dry_goods") == CATEGORIES.lookup("Hàng khô") == CATEGORIES.lookup("hang kho") == "dry_goods"
    )
    assert CATEGORIES.lookup("Thực phẩm tươi sống") == "fresh_food"
    assert FREQUENCIES.lookup("Theo phiên chợ") == "session"
    assert CATEGORIES.lookup("vàng bạc") is None


def test_semicolons_and_a_bom_are_read_like_commas():
    comma = 'Mã sạp,Họ tên,Diện tích (m²)\r\nA12,Lê Văn Tám,"4,5"\r\n'.encode()
    semicolon = "\ufeffMã sạp;Họ tên;Diện tích (m²)\r\nA12;Lê Văn Tám;4,5\r\n".encode()
    for data in (comma, semicolon):
        rows, shown, errors = read_rows(data)
        assert errors == []
        assert shown["stall_code"] == "Mã sạp"
        assert rows[0].values == {"code": "A12", "holder.full_name": "Lê Văn Tám", "area_m2": 4.5}


def test_row_numbers_are_the_ones_excel_shows():
    # A blank line is a row in Excel, and a cell with a line break is still one row.
    data = 'stall_code,full_name,area_m2\nA1,"Lê\nTám",x\n\nA2,Tư,y\n'.encode()
    _, _, errors = read_rows(data)
    assert [(e.row, e.column) for e in errors] == [(2, "area_m2"), (4, "area_m2")]


def test_unknown_or_missing_columns_stop_the_file():
    with pytest.raises(CsvFileError) as caught:
        read_rows("Mã sạp,Màu sơn\nA1,đỏ\n".encode())
    messages = " ".join(e.message for e in caught.value.errors)
    assert "Màu sơn" in messages
    assert "Họ tên" in messages  # the required name column is missing


def test_a_file_that_is_not_utf8_says_so():
    with pytest.raises(CsvFileError, match="UTF-8"):
        # A legacy Windows code page, as older Excel versions save "CSV (comma delimited)".
        read_rows("stall_code,full_name\nA1,Lê Tám\n".encode("cp1258"))
