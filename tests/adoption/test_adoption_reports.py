"""The visit list, the commune report and their files (CSV, XLSX, PDF, JSON) on the hand-counted market."""

from __future__ import annotations

import datetime as dt
import io

import msgspec
import openpyxl
import pypdfium2
import pytest
from adoption_market import AS_OF, build

from market.adoption.commune import SurveyIn, commune_report, load_targets, parse_period, save_setting, save_survey
from market.adoption.document_dates import long_date_vi
from market.adoption.export.render import render
from market.adoption.export.xlsx import TABLE_HEADER
from market.adoption.visits import visit_list
from market.errors import InvalidInputError
from market.formats import money, percent, ratio_percent

ISSUED = dt.date(2026, 4, 3)


def test_vietnamese_number_and_date_formats():
    assert money(1_234_567) == "1.234.567\u00a0₫"
    assert percent(ratio_percent(3695, 10000)) == "36,95\u00a0%"
    assert percent(ratio_percent(1, 3)) == "33,33\u00a0%"
    assert percent(ratio_percent(2, 3)) == "66,67\u00a0%"  # half up
    assert percent(ratio_percent(1, 0)) == "—"
    assert long_date_vi(dt.date(2024, 10, 8)) == "ngày 08 tháng 10 năm 2024"
    assert long_date_vi(dt.date(2024, 2, 5)) == "ngày 05 tháng 02 năm 2024"
    assert long_date_vi(dt.date(2024, 3, 5)) == "ngày 05 tháng 3 năm 2024"


def test_visit_list_in_walking_order_with_reasons(engine):
    build(engine)
    with engine.connect() as conn:
        visits = visit_list(conn, as_of=AS_OF)
    # Zone A: row 1, row 2, row 10 (A-10, not before row 2); then zone B.
    assert [(v.code, v.situation) for v in visits.visits] == [
        ("A-02", "qr_idle"),
        ("A-04", "no_qr"),
        ("A-10", "qr_idle"),
        ("B-02", "no_qr"),
    ]
    a02, a04, a10, b02 = visits.visits
    assert a02.last_receipt_on == dt.date(2026, 3, 1)
    assert a10.last_receipt_on is None  # its only sale was reversed
    assert a04.reason_label == "Không có điện thoại thông minh"
    assert (b02.reason_label, b02.note) == ("Buôn bán nhỏ lẻ, không thường xuyên", "Chỉ bán sáng")
    assert b02.phone
    assert b02.holder == "Nguyễn Thị B-02"


def test_visits_csv_opens_in_excel_as_utf8(engine):
    build(engine)
    with engine.connect() as conn:
        rendered = render(visit_list(conn, as_of=AS_OF), "csv")
    assert rendered.content.startswith(b"\xef\xbb\xbf")
    lines = rendered.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[:3] == ["Khu", "Dãy", "Mã sạp"]
    assert lines[1].startswith("A;1;A-02;Nguyễn Thị A-02;")
    assert len(lines) == 5


def _report(engine, **overrides):
    with engine.begin() as conn:
        return commune_report(
            conn, parse_period("2026-03", AS_OF), market_name="Chợ Thoại Giang", issued_on=ISSUED, **overrides
        )


def _with_survey(engine):
    build(engine)
    with engine.begin() as conn:
        save_survey(
            conn,
            SurveyIn(
                key="online_payment_account",
                name="Tỷ lệ người trong độ tuổi lao động có tài khoản thanh toán trực tuyến",
                numerator=3695,
                denominator=10000,
                surveyed_on=dt.date(2026, 2, 20),
                source="UBND xã, điều tra hộ gia đình",
                denominator_note="người trong độ tuổi lao động",
                target_percent=80,
            ),
            "tester",
            AS_OF,
        )


def test_commune_report_rows_sources_and_assessment(engine):
    _with_survey(engine)
    report = _report(engine)
    rows = {row.key: row for row in report.rows}
    assert [row.number for row in report.rows] == list(range(1, 8))
    assert (rows["bank_account"].numerator, rows["bank_account"].denominator) == (5, 6)
    assert (rows["bank_account"].target_percent, rows["bank_account"].assessment) == (100, "Chưa đạt")
    assert (rows["transacting_30d"].numerator, rows["transacting_30d"].percent) == (2, 33.33)
    assert rows["regular"].assessment == "Chưa đánh giá"  # no target
    assert rows["transacting_30d"].source == "measured"
    assert "31/03/2026" in rows["transacting_30d"].source_detail
    survey = rows["online_payment_account"]
    assert (survey.source, survey.percent, survey.assessment) == ("survey", 36.95, "Chưa đạt")
    assert survey.source_detail.startswith("Khảo sát ngày 20/02/2026")
    assert (report.cutoff, report.period_label) == (AS_OF, "Tháng 03/2026")


def test_targets_and_letterhead_are_settings(engine):
    build(engine)
    with engine.begin() as conn:
        save_setting(conn, "target.transacting_30d", "30|Nghị quyết HĐND xã")
        save_setting(conn, "issuer", "ỦY BAN NHÂN DÂN XÃ ĐỊNH MỸ")
        with pytest.raises(InvalidInputError):
            save_setting(conn, "target.transacting_30d", "120")
        with pytest.raises(InvalidInputError):
            save_setting(conn, "colour", "red")
        assert load_targets(conn)["transacting_30d"].basis == "Nghị quyết HĐND xã"
    report = _report(engine, profile_overrides={"signer_name": "Trần Văn Bình"})
    row = next(r for r in report.rows if r.key == "transacting_30d")
    assert (row.target_percent, row.assessment) == (30, "Đạt")  # 2/6 = 33,33 % ≥ 30 %
    assert (report.profile.issuer, report.profile.signer_name) == ("ỦY BAN NHÂN DÂN XÃ ĐỊNH MỸ", "Trần Văn Bình")


def test_survey_entries_are_checked(engine):
    bad = SurveyIn(key="x y", name="", numerator=5, denominator=4, surveyed_on=dt.date(2030, 1, 1), source="")
    with engine.begin() as conn, pytest.raises(InvalidInputError) as caught:
        save_survey(conn, bad, "tester", AS_OF)
    assert {e.field for e in caught.value.errors} == {"key", "name", "numerator", "surveyed_on", "source"}


def test_xlsx_holds_the_same_numbers_as_the_json(engine):
    _with_survey(engine)
    report = _report(engine)
    as_json = msgspec.json.decode(render(report, "json").content)
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx").content))
    sheet = book["Bieu_XHS"]
    header_row = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "STT")
    assert tuple(sheet.cell(header_row, c).value for c in range(1, len(TABLE_HEADER) + 1)) == TABLE_HEADER
    cells = [
        [sheet.cell(r, c).value for c in range(1, len(TABLE_HEADER) + 1)]
        for r in range(header_row + 1, header_row + 1 + len(as_json["rows"]))
    ]
    for row, line in zip(as_json["rows"], cells, strict=True):
        number, _name, _explanation, _unit, target, numerator, denominator, rate, assessment, _src, key = line
        assert (key, number) == (row["key"], row["number"])
        assert (numerator, denominator) == (row["numerator"], row["denominator"])
        assert (target, rate, assessment) == (row["target_percent"], row["percent"], row["assessment"])
    assert sheet.cell(1, 8).value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert sheet.cell(3, 8).value == "Thoại Giang, ngày 03 tháng 4 năm 2026"


def test_commune_csv_is_excel_utf8_with_vietnamese_rates(engine):
    _with_survey(engine)
    content = render(_report(engine), "csv").content
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    survey = next(line for line in lines if "online_payment_account" in line).split(";")
    assert survey[7:11] == ["3695", "10000", "36,95", "Chưa đạt"]


def _text(pdf) -> str:
    """The PDF's text with line breaks (table cells wrap) turned into single spaces."""
    return " ".join("".join(page.get_textpage().get_text_range() for page in pdf).split())


def test_commune_pdf_is_a4_and_shows_vietnamese(engine, tmp_path):
    _with_survey(engine)
    content = render(_report(engine), "pdf").content
    pdf = pypdfium2.PdfDocument(content)
    width, height = pdf[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)
    text = _text(pdf)
    for phrase in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Tháng 03/2026", "Tỷ lệ tiểu thương", "Chưa đạt", "ngày 03"):
        assert phrase in text
    # The font is embedded (a subset of DejaVu Sans): no fallback to the viewer's fonts.
    assert b"/FontFile2" in content
    assert b"DejaVu" in content
    image = pdf[0].render(scale=2).to_pil().convert("L")
    # A printed page: mostly white, with ink (text and table lines).
    histogram = image.histogram()
    assert 0.02 < sum(histogram[:128]) / sum(histogram) < 0.5
    image.save(tmp_path / "commune_page1.png")  # for a person to look at
    pdf.close()


def test_visits_pdf_lists_every_stall(engine, tmp_path):
    build(engine)
    with engine.connect() as conn:
        content = render(visit_list(conn, as_of=AS_OF), "pdf", market_name="Chợ Thoại Giang").content
    pdf = pypdfium2.PdfDocument(content)
    text = _text(pdf)
    for code in ("A-02", "A-04", "A-10", "B-02"):
        assert code in text
    assert "Không có điện thoại thông minh" in text
    pdf[0].render(scale=2).to_pil().save(tmp_path / "visits_page1.png")
    pdf.close()
