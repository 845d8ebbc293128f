"""Registry exports that are safe to open, and the registry as XLSX, on SQLite and PostgreSQL."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from market.cli import main

HEADER = ["Mã sạp", "Họ tên", "Số điện thoại", "Ngân hàng", "Số tài khoản", "Lý do chưa dùng TTKDTM", "Ghi chú lý do"]
ROWS = [
    ["A-01", "=1+1", "0912345678", "VCB", "0123456789", "", ""],
    ["A-02", "@SUM(A1)", "+84 983 000 002", "", "", "Khác", "+84 912 345 678 là số con gái"],
    ["A-03", "-Trần Văn Ba", "", "Agribank", "6015294428003", "", '=HYPERLINK("http://x";"y")'],
]


@pytest.fixture
def market(database_url, monkeypatch):
    monkeypatch.setenv("MARKET_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["merchants", *[str(a) for a in args]])

    return run


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def _holders(engine):
    with engine.connect() as conn:
        query = sa.text(
            "SELECT s.code, m.full_name, m.phone, s.no_cashless_note FROM stalls s "
            "JOIN merchants m ON m.stall_id = s.id ORDER BY s.code"
        )
        return [tuple(row) for row in conn.execute(query)]


@pytest.fixture
def registry(market, tmp_path, engine):
    # Typed by hand, so without our quote prefix: the importer takes the text as it is.
    path = tmp_path / "nhap.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([HEADER, *ROWS])
    result = market("import", path)
    assert result.exit_code == 0, result.output
    return _holders(engine)


def test_the_import_keeps_formula_like_text_as_text(registry):
    assert registry == [
        ("A-01", "=1+1", "0912345678", None),
        ("A-02", "@SUM(A1)", "0983000002", "+84 912 345 678 là số con gái"),
        ("A-03", "-Trần Văn Ba", None, '=HYPERLINK("http://x";"y")'),
    ]


def _dry_run_changes_nothing(market, path, engine):
    history = _count(engine, "stall_changes")
    result = market("import", path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Sẽ thêm 0, cập nhật 0, giữ nguyên 3" in result.output
    again = market("import", path)
    assert again.exit_code == 0, again.output
    assert "giữ nguyên 3" in again.output
    assert _count(engine, "stall_changes") == history


def test_the_csv_export_quotes_formula_cells_and_imports_back_unchanged(market, registry, tmp_path, engine):
    out = tmp_path / "xuat.csv"
    assert market("export", "--out", out).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    by_code = {row["Mã sạp"]: row for row in rows}
    assert by_code["A-01"]["Họ tên"] == "'=1+1"
    assert by_code["A-02"]["Họ tên"] == "'@SUM(A1)"
    assert by_code["A-03"]["Họ tên"] == "'-Trần Văn Ba"
    assert by_code["A-02"]["Ghi chú lý do"] == "'+84 912 345 678 là số con gái"
    assert by_code["A-01"]["Số tài khoản"] == "0123456789"
    _dry_run_changes_nothing(market, out, engine)
    assert _holders(engine) == registry


def test_the_xlsx_export_holds_text_cells_and_imports_back_unchanged(market, registry, tmp_path, engine):
    out = tmp_path / "xuat.xlsx"
    result = market("export", "--out", out, "--include-national-id")
    assert result.exit_code == 0, result.output
    assert "3" in result.output
    sheet = openpyxl.load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Mã sạp", "Khu", "Dãy"]
    assert "Số CCCD" in header
    column = {name: header.index(name) for name in header}
    a01, a02, a03 = (sheet[row] for row in (2, 3, 4))
    for row, name in ((a01, "=1+1"), (a02, "@SUM(A1)"), (a03, "-Trần Văn Ba")):
        cell = row[column["Họ tên"]]
        assert (cell.data_type, cell.value) == ("s", name)  # a string, not a formula
    account = a01[column["Số tài khoản"]]
    assert (account.data_type, account.value, account.number_format) == ("s", "0123456789", "@")
    phone = a01[column["Số điện thoại"]]
    assert (phone.data_type, phone.value) == ("s", "0912345678")
    assert a01[column["Mã sạp"]].data_type == "s"
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)
    _dry_run_changes_nothing(market, out, engine)
    assert _holders(engine) == registry


def test_an_xlsx_export_fills_an_empty_registry_like_the_csv(market, registry, tmp_path, engine, database_url):
    out = tmp_path / "xuat.xlsx"
    assert market("export", "--out", out, "--lang", "en").exit_code == 0
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM stall_changes"))
        for table in ("stall_accounts", "merchants", "stalls"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    result = market("import", out)
    assert result.exit_code == 0, result.output
    assert "thêm 3" in result.output
    assert _holders(engine) == registry


def _workbook(path, rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_a_workbook_typed_in_excel_is_read_with_its_numbers_and_dates(market, tmp_path, client):
    # What an office types: the area and a date as Excel values, the account kept as text.
    path = _workbook(
        tmp_path / "so.xlsx",
        [
            ["STT", "Mã sạp", "Họ tên", "Diện tích (m²)", "Ngày cấp QR", "Đã niêm yết QR", "Ngân hàng", "Số tài khoản"],
            [1, "B-1", "Lê Thị Nguyệt", 4.5, dt.date(2024, 10, 8), "có", "VCB", "0071000123456"],
            [],
            [2, "B-2", "Trần Văn Hùng", 6, None, "không", None, None],
        ],
    )
    result = market("import", path)
    assert result.exit_code == 0, result.output
    assert "thêm 2" in result.output
    stall = client.get("/api/merchants/B-01").json()
    assert stall["area_m2"] == 4.5
    assert stall["onboarding"]["qr_issued_on"] == "2024-10-08"
    assert stall["accounts"][0]["account_number"] == "0071000123456"
    assert client.get("/api/merchants/B-02").json()["area_m2"] == 6


def test_a_bad_workbook_row_is_reported_by_row_and_column_and_nothing_is_written(market, tmp_path, engine):
    path = _workbook(
        tmp_path / "so.xlsx",
        [
            ["Mã sạp", "Họ tên", "Số điện thoại"],
            ["C-1", "Võ Minh Tâm", "0977000007"],
            ["C-2", "Hồ Văn Sáu", 12345],
        ],
    )
    result = market("import", path)
    assert result.exit_code == 2
    assert 'dòng 3, cột "Số điện thoại"' in result.output
    assert "Không ghi gì" in result.output
    assert _count(engine, "stalls") == 0


def test_a_csv_named_xlsx_is_refused_with_a_reason(market, tmp_path, engine):
    path = tmp_path / "so.xlsx"
    path.write_text("Mã sạp,Họ tên\nC-1,Võ Minh Tâm\n", encoding="utf-8")
    result = market("import", path)
    assert result.exit_code == 2
    assert "XLSX" in result.output
    assert _count(engine, "stalls") == 0
