"""The commune report as an Excel workbook (the commune office's working format).

One sheet "Bieu_XHS": the header block (reporting body, period, cut-off), then the
indicator table. Numbers stay numbers (counts as integers, rates as percentages with two
decimals, number format ``0.00``), so Excel shows ``36,95`` under a Vietnamese locale and the
office can sum or merge them; a second sheet lists the counting rules. Every cell is written
through :func:`market.spreadsheet.put`: the letterhead and survey texts are settings and user
input, and a text such as ``=HYPERLINK(...)`` must arrive as text, never as a formula.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from market.adoption.commune import CommuneReport
from market.adoption.document_dates import long_date_vi
from market.adoption.export.columns import MEASURE_COLUMNS
from market.formats import date_vi
from market.spreadsheet import put

__all__ = ["TABLE_HEADER", "commune_xlsx"]

TABLE_HEADER = (
    "STT",
    "Tên chỉ tiêu",
    *MEASURE_COLUMNS,
    "Nguồn số liệu / minh chứng",
    "Mã chỉ tiêu",
)
_WIDTHS = (5, 44, 44, 6, 11, 10, 10, 10, 13, 48, 18)
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


def commune_xlsx(report: CommuneReport) -> bytes:
    """The workbook's bytes; the table starts on the row after the header block."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Bieu_XHS"
    profile = report.profile
    head = [
        (profile.parent_body, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (profile.issuer, "Độc lập - Tự do - Hạnh phúc"),
        (profile.document_number, f"{profile.place}, {long_date_vi(report.issued_on)}"),
    ]
    for line, (left, right) in enumerate(head, start=1):
        put(sheet, line, 1, left).font = Font(bold=line < 3)
        put(sheet, line, 8, right).font = Font(bold=line < 3, italic=line == 3)
    put(sheet, 5, 1, "BÁO CÁO").font = Font(bold=True, size=13)
    put(sheet, 6, 1, f"{profile.title} - {report.market_name}").font = Font(bold=True)
    put(sheet, 7, 1, f"Kỳ báo cáo: {report.period_label}; ngày chốt số liệu: {date_vi(report.cutoff)}")
    put(sheet, 8, 1, f"Số sạp đang kinh doanh: {report.active_stalls}; tạm ngưng: {report.paused_stalls}")
    top = 10
    for column, (title, width) in enumerate(zip(TABLE_HEADER, _WIDTHS, strict=True), start=1):
        cell = put(sheet, top, column, title)
        cell.font, cell.border, cell.alignment = Font(bold=True), _BOX, Alignment(wrap_text=True, horizontal="center")
        sheet.column_dimensions[get_column_letter(column)].width = width
    for offset, row in enumerate(report.rows, start=1):
        values = (
            row.number,
            row.name,
            row.explanation,
            row.unit,
            row.target_percent,
            row.numerator,
            row.denominator,
            row.percent,
            row.assessment,
            row.source_detail,
            row.key,
        )
        for column, value in enumerate(values, start=1):
            cell = put(sheet, top + offset, column, value)
            cell.border, cell.alignment = _BOX, _WRAP
            if column in (5, 8):
                cell.number_format = "0.00"
            elif column in (6, 7):
                cell.number_format = "#,##0"
    sheet.freeze_panes = sheet.cell(top + 1, 3)
    rules = book.create_sheet("Cach_tinh")
    rules.column_dimensions["A"].width = 140
    put(rules, 1, 1, "Cách tính / how the figures are counted").font = Font(bold=True)
    for line, text in enumerate(report.rules, start=2):
        put(rules, line, 1, f"- {text}").alignment = _WRAP
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
