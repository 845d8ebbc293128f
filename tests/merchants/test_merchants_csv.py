"""``market merchants import|export`` on SQLite and PostgreSQL: spreadsheets in, spreadsheets out."""

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from market.cli import main

VI_HEADER = (
    "Mã sạp;Họ tên;Số điện thoại;Số CCCD;Ngành hàng;Diện tích (m²);Ngân hàng;Số tài khoản;"
    "Tài khoản khác;Đã niêm yết QR;Ngày cấp QR;Lý do chưa dùng TTKDTM;Tần suất buôn bán"
)
VI_ROWS = [
    "a1;Nguyễn Thị Đào;0912 345 678;089185123456;Thực phẩm tươi sống;4,5;Agribank;6015294428003;"
    "MoMo/0912345678;có;08/10/2024;;Hằng ngày",
    "A 2;Trần Văn Hùng;+84983000002;;Hàng khô;6;VietinBank;101234567890;;không;;Buôn bán nhỏ lẻ, không thường xuyên;"
    "Theo phiên chợ",
    "b-1;Lê Thị Nguyệt;;;Ăn uống;;970418;31410000123456;;có;2024-05-01;;",
]


def _vi_file(tmp_path, rows=VI_ROWS, name="so-tieu-thuong.csv"):
    # What Excel writes under a Vietnamese locale: "CSV UTF-8" with a BOM, ";" between cells, CRLF.
    path = tmp_path / name
    path.write_bytes(("\ufeff" + "\r\n".join([VI_HEADER, *rows]) + "\r\n").encode())
    return path


@pytest.fixture
def market(database_url, monkeypatch):
    monkeypatch.setenv("MARKET_DATABASE_URL", database_url)
    # A changed row's accounts apply at once here; their wait for a second person is tested in
    # test_account_changes.py.
    monkeypatch.setenv("MARKET_ACCOUNT_CHANGE_APPROVAL", "off")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["merchants", *[str(a) for a in args]])

    return run


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_import_a_vietnamese_excel_file(market, tmp_path, engine, client):
    result = market("import", _vi_file(tmp_path), "--user", "chi.lan")
    assert result.exit_code == 0, result.output
    assert "thêm 3" in result.output
    stall = client.get("/api/merchants/A-01", params={"include": "national_id"}).json()
    assert stall["holder"] == {
        "full_name": "Nguyễn Thị Đào",
        "phone": "0912345678",
        "zalo": None,
        "trading_frequency": "daily",
        "trading_frequency_label": "Hằng ngày",
        "national_id": "089185123456",
    }
    assert stall["area_m2"] == 4.5
    assert [(a["bank_short_name"], a["is_default"]) for a in stall["accounts"]] == [("Agribank", True), ("MoMo", False)]
    assert stall["onboarding"]["state"] == "qr_displayed"
    assert stall["onboarding"]["qr_issued_on"] == "2024-10-08"
    second = client.get("/api/merchants/A-02").json()
    assert second["onboarding"]["no_cashless_reason"] == "small_irregular"
    assert second["holder"]["trading_frequency"] == "session"
    history = client.get("/api/merchants/B-01/history").json()["items"]
    assert [(h["actor"], h["field"]) for h in history] == [("chi.lan", "created")]


def test_english_headers_and_commas_without_bom(market, tmp_path, client):
    path = tmp_path / "registry.csv"
    path.write_text(
        "stall_code,full_name,phone,category,bank,account_number,account_name\n"
        'C-7,Võ Minh Tâm,0977000007,clothing,VCB,0071000123456,"VO MINH TAM"\n',
        encoding="utf-8",
    )
    result = market("import", path)
    assert result.exit_code == 0, result.output
    stall = client.get("/api/merchants/c7").json()
    assert stall["category_label"] == "Quần áo"
    assert stall["accounts"][0]["bank_bin"] == "970436"


def test_bad_rows_are_reported_by_excel_row_and_column_and_nothing_is_written(market, tmp_path, engine):
    rows = [
        VI_ROWS[0],
        "A-3;Phạm Văn Ba;0912000003;;Hàng khô;;970999;123456;;không;;;",  # no bank with that BIN
        "A-4;Đỗ Thị Tư;0912000004;;Hàng khô;;Agribank;6015 2944 28004;;không;;;",  # a space in the account
        "A01;Bùi Thị Năm;0912000005;;Hàng khô;;;;;không;;;",  # A-01 again
        "A-6;Hồ Văn Sáu;12345;;Hàng khô;;;;;không;;;",  # not a phone number
    ]
    result = market("import", _vi_file(tmp_path, rows))
    assert result.exit_code == 2
    report = result.output
    assert 'dòng 3, cột "Ngân hàng"' in report
    assert 'dòng 4, cột "Số tài khoản"' in report
    assert "no spaces" in report
    assert 'dòng 5, cột "Mã sạp"' in report
    assert "dòng 2" in report
    assert 'dòng 6, cột "Số điện thoại"' in report
    assert "Không ghi gì" in report
    assert _count(engine, "stalls") == 0
    assert _count(engine, "stall_changes") == 0


def test_malformed_csv_writes_nothing(market, tmp_path, engine):
    path = tmp_path / "broken.csv"
    path.write_text('stall_code,full_name\nA-1,"Lê Văn Tám\nA-2,Trần Văn Hai\n', encoding="utf-8")
    result = market("import", path)
    assert result.exit_code == 2
    assert "CSV" in result.output
    assert _count(engine, "stalls") == 0


def test_account_registered_to_a_stall_outside_the_file_is_refused(market, tmp_path, engine):
    assert market("import", _vi_file(tmp_path)).exit_code == 0
    taken = "D-1;Ngô Văn Bảy;0912000007;;Khác;;Agribank;6015294428003;;không;;;"
    result = market("import", _vi_file(tmp_path, [taken], name="them.csv"))
    assert result.exit_code == 2
    assert "A-01" in result.output
    assert "dòng 2" in result.output
    assert _count(engine, "stalls") == 3


def test_importing_the_same_file_twice_changes_nothing(market, tmp_path, engine):
    path = _vi_file(tmp_path)
    assert market("import", path).exit_code == 0
    history = _count(engine, "stall_changes")
    again = market("import", path)
    assert again.exit_code == 0, again.output
    assert "giữ nguyên 3" in again.output
    assert _count(engine, "stall_changes") == history


def test_a_changed_row_updates_the_stall_with_history(market, tmp_path, client):
    assert market("import", _vi_file(tmp_path)).exit_code == 0
    moved = [VI_ROWS[0].replace("Agribank;6015294428003", "BIDV;31410000999999"), *VI_ROWS[1:]]
    result = market("import", _vi_file(tmp_path, moved, name="v2.csv"), "--user", "anh.tuan")
    assert result.exit_code == 0, result.output
    assert "cập nhật 1" in result.output
    (change, _) = client.get("/api/merchants/A-01/history").json()["items"]
    assert (change["actor"], change["field"]) == ("anh.tuan", "accounts")
    assert change["old"].startswith("Agribank 6015294428003")
    assert change["new"].startswith("BIDV 31410000999999")


def test_dry_run_reports_and_writes_nothing(market, tmp_path, engine):
    result = market("import", _vi_file(tmp_path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Sẽ thêm 3" in result.output
    assert _count(engine, "stalls") == 0


@pytest.mark.parametrize(("lang", "delimiter"), [("vi", ","), ("en", ";")])
def test_export_round_trips_and_leaves_out_national_ids(market, tmp_path, engine, client, lang, delimiter):
    assert market("import", _vi_file(tmp_path)).exit_code == 0
    history = _count(engine, "stall_changes")
    out = tmp_path / "export.csv"
    result = market("export", "--out", out, "--lang", lang, "--delimiter", delimiter)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(delimiter)
    assert header[0] == ("Mã sạp" if lang == "vi" else "stall_code")
    assert "089185123456" not in text
    assert [line.split(delimiter)[0] for line in text.splitlines()[1:]] == ["A-01", "A-02", "B-01"]
    again = market("import", out)
    assert again.exit_code == 0, again.output
    assert "giữ nguyên 3" in again.output
    assert _count(engine, "stall_changes") == history
    # The ID column was absent from the file: the stored IDs are kept, not wiped.
    stall = client.get("/api/merchants/A-01", params={"include": "national_id"}).json()
    assert stall["holder"]["national_id"] == "089185123456"


def test_export_to_standard_output_with_national_ids_when_asked(market, tmp_path):
    assert market("import", _vi_file(tmp_path)).exit_code == 0
    plain = market("export")
    assert plain.exit_code == 0
    assert plain.output.splitlines()[0].startswith("Mã sạp,")
    assert "Số CCCD" not in plain.output
    asked = market("export", "--include-national-id")
    assert "Số CCCD" in asked.output
    assert "089185123456" in asked.output
