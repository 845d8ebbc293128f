"""CSV for Excel users: UTF-8 with a byte-order mark, ``;`` between fields, CRLF line ends.

Excel only reads a CSV as UTF-8 when it starts with a BOM, otherwise "Nguyễn" arrives as
mojibake. Under a Vietnamese locale Excel splits fields on ``;`` (the comma
is the decimal sign), which is also why rates are written ``36,95``: Excel reads them as numbers.
Counts are plain digits, without grouping dots, for the same reason. Text that a spreadsheet
would read as a formula (a survey source ``=HYPERLINK(...)``) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from market.adoption.commune import CommuneReport
from market.adoption.export.columns import MEASURE_COLUMNS
from market.adoption.figures import Adoption, Figure
from market.adoption.visits import VisitList
from market.formats import date_vi, percent_number
from market.spreadsheet import CsvValue, csv_cell

__all__ = ["adoption_csv", "commune_csv", "visits_csv", "write_csv"]

BOM = "\ufeff"


def write_csv(header: Sequence[str], rows: Iterable[Sequence[CsvValue]]) -> bytes:
    """The rows under ``header`` as Excel-friendly CSV bytes (``None`` becomes an empty field)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8")


def _rate(value: float | None) -> str:
    return "" if value is None else percent_number(Decimal(str(value)))


def _figure_cells(figure: Figure) -> list[CsvValue]:
    return [figure.key, figure.name, figure.numerator, figure.denominator, _rate(figure.percent)]


def adoption_csv(figures: Adoption) -> bytes:
    """One row per indicator (and per group when split), plus the window's receipt totals."""
    header = ["Ngày chốt", "Nhóm", "Mã chỉ tiêu", "Chỉ tiêu", "Tử số", "Mẫu số", "Tỷ lệ (%)"]
    day = date_vi(figures.as_of)
    rows: list[list[CsvValue]] = [[day, "Tất cả", *_figure_cells(f)] for f in figures.indicators]
    rows += [[day, "Tất cả", a.key, a.name, a.total, a.stalls, ""] for a in figures.averages]
    if figures.breakdown is not None:
        for group in figures.breakdown.groups:
            rows += [[day, group.label, *_figure_cells(f)] for f in group.indicators]
            rows += [[day, group.label, a.key, a.name, a.total, a.stalls, ""] for a in group.averages]
    return write_csv(header, rows)


def commune_csv(report: CommuneReport) -> bytes:
    """The indicator table of the commune report, one row per indicator."""
    header = [
        "Kỳ báo cáo",
        "STT",
        "Mã chỉ tiêu",
        "Tên chỉ tiêu",
        *MEASURE_COLUMNS,
        "Nguồn số liệu",
        "Ngày khảo sát",
    ]
    rows: list[list[CsvValue]] = [
        [
            report.period_label,
            row.number,
            row.key,
            row.name,
            row.explanation,
            row.unit,
            _rate(row.target_percent),
            row.numerator,
            row.denominator,
            _rate(row.percent),
            row.assessment,
            row.source_detail,
            date_vi(row.surveyed_on) if row.surveyed_on else "",
        ]
        for row in report.rows
    ]
    return write_csv(header, rows)


def visits_csv(visits: VisitList) -> bytes:
    """The visit list in walking order."""
    header = [
        "Khu",
        "Dãy",
        "Mã sạp",
        "Tiểu thương",
        "Số điện thoại",
        "Ngành hàng",
        "Tình trạng",
        "Ngày cấp QR",
        "Khoản thu gần nhất",
        "Có tài khoản",
        "Có ứng dụng",
        "Lý do chưa dùng",
        "Ghi chú",
    ]
    rows: list[list[CsvValue]] = [
        [
            v.zone,
            v.row,
            v.code,
            v.holder,
            v.phone,
            v.category,
            v.situation_label,
            date_vi(v.qr_issued_on) if v.qr_issued_on else "",
            date_vi(v.last_receipt_on) if v.last_receipt_on else "",
            "Có" if v.has_bank_account else "Không",
            "Có" if v.has_payment_app else "Không",
            v.reason_label,
            v.note,
        ]
        for v in visits.visits
    ]
    return write_csv(header, rows)
