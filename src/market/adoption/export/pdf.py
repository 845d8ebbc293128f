"""Printable PDFs (A4): the commune report in the NĐ 30/2020 layout, and the visit list.

Layout: margins 20 mm top and bottom, 30 mm left, 15 mm right; a borderless
two-column letterhead (issuing body left, national motto right, place and date under it); page
numbers at the top centre from page 2; "-" bullets, never "•"; "Nơi nhận" left, signature right.

The text font is DejaVu Sans, shipped with the package in ``market.payments.render`` (full
Vietnamese coverage, embedded as a subset); the PDF therefore prints "Nguyễn" the same on any
machine. Times New Roman is what NĐ 30 names, but it cannot be shipped (licence), and a PDF
must not depend on the fonts of the machine that opens it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from importlib import resources
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from market.adoption.commune import CommuneReport
from market.adoption.document_dates import long_date_vi
from market.adoption.visits import VisitList
from market.formats import date_vi, integer, percent_number

__all__ = ["commune_pdf", "visits_pdf"]

_FAMILY = "DejaVu"
_HEAD = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))


def _t(text: str) -> str:
    # Precomposed letters only: the font has a glyph for every NFC Vietnamese letter.
    return unicodedata.normalize("NFC", text)


class _Document(FPDF):
    """A4 with the NĐ 30 margins and a page number at the top centre from page 2."""

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(_FAMILY, size=10)
            self.set_y(10)
            self.cell(0, 5, str(self.page_no()), align="C")
            self.set_y(self.t_margin)


@contextmanager
def _document(orientation: str, title: str) -> Iterator[_Document]:
    with ExitStack() as stack:
        fonts = resources.files("market.payments.render") / "fonts"
        regular = stack.enter_context(resources.as_file(fonts / "DejaVuSans.ttf"))
        bold = stack.enter_context(resources.as_file(fonts / "DejaVuSans-Bold.ttf"))
        pdf = _Document(orientation=orientation, unit="mm", format="A4")
        pdf.add_font(_FAMILY, "", str(regular))
        pdf.add_font(_FAMILY, "B", str(bold))
        pdf.set_margins(left=30 if orientation == "portrait" else 20, top=20, right=15)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_title(_t(title))
        pdf.set_lang("vi")
        pdf.set_creator("market")
        pdf.add_page()
        yield pdf


def _two_columns(pdf: FPDF, lines: Sequence[tuple[str, str, bool]]) -> None:
    """The borderless letterhead: (left text, right text, bold) per line."""
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    for left, right, bold in lines:
        pdf.set_font(_FAMILY, "B" if bold else "", 11)
        pdf.cell(half - 10, 6, _t(left), align="C")
        pdf.cell(half + 10, 6, _t(right), align="C", new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, widths: Sequence[int]) -> Any:
    """A bordered table starting at the left margin, its heading row shaded and repeated on each page."""
    return pdf.table(col_widths=widths, headings_style=_HEAD, line_height=4, text_align="LEFT", align="LEFT")


def _rate(value: float | None) -> str:
    return "—" if value is None else percent_number(Decimal(str(value)))


def _output(pdf: FPDF) -> bytes:
    data: Any = pdf.output()
    return bytes(data)


def commune_pdf(report: CommuneReport) -> bytes:
    """The signed-copy PDF of the commune report (A4 portrait)."""
    profile = report.profile
    with _document("portrait", f"Báo cáo Xã hội số {report.period_label}") as pdf:
        _two_columns(
            pdf,
            [
                (profile.parent_body, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", False),
                (profile.issuer, "Độc lập - Tự do - Hạnh phúc", True),
                (profile.document_number, f"{profile.place}, {long_date_vi(report.issued_on)}", False),
            ],
        )
        pdf.ln(6)
        pdf.set_font(_FAMILY, "B", 13)
        pdf.cell(0, 7, "BÁO CÁO", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FAMILY, "B", 11)
        pdf.multi_cell(0, 6, _t(f"{profile.title} - {report.market_name}"), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FAMILY, "", 10)
        pdf.ln(2)
        pdf.multi_cell(
            0,
            5,
            _t(
                f"Kỳ báo cáo: {report.period_label}. Ngày chốt số liệu: {date_vi(report.cutoff)}. "
                f"Số sạp đang kinh doanh: {integer(report.active_stalls)}; tạm ngưng: "
                f"{integer(report.paused_stalls)}. ĐVT: %."
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)
        pdf.set_font(_FAMILY, "", 8)
        widths = (8, 52, 14, 26, 14, 16, 35)
        with pdf.table(
            col_widths=widths, headings_style=_HEAD, line_height=4, text_align="LEFT", align="LEFT"
        ) as table:
            head = ("STT", "Tên chỉ tiêu (tử số / mẫu số)", "Mục tiêu", "Kết quả", "Tỷ lệ", "Đánh giá", "Nguồn")
            heading = table.row()
            for text in head:
                heading.cell(text)
            for row in report.rows:
                cells = table.row()
                cells.cell(str(row.number), align="C")
                cells.cell(_t(f"{row.name}\n({row.explanation})"))
                cells.cell(_rate(row.target_percent), align="R")
                cells.cell(f"{integer(row.numerator)}/{integer(row.denominator)}", align="R")
                cells.cell(_rate(row.percent), align="R")
                cells.cell(_t(row.assessment), align="C")
                cells.cell(_t(row.source_detail))
        pdf.ln(3)
        pdf.set_font(_FAMILY, "B", 9)
        pdf.cell(0, 5, "Cách tính:", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FAMILY, "", 8)
        for rule in report.rules:
            pdf.multi_cell(0, 4, _t(f"- {rule}"), new_x="LMARGIN", new_y="NEXT")
        _closing(pdf, report)
        return _output(pdf)


def _closing(pdf: FPDF, report: CommuneReport) -> None:
    profile = report.profile
    pdf.ln(6)
    if pdf.will_page_break(45):
        pdf.add_page()
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    top = pdf.get_y()
    pdf.set_font(_FAMILY, "B", 9)
    pdf.cell(half, 5, "Nơi nhận:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FAMILY, "", 8)
    for recipient in (r.strip() for r in profile.recipients.split(";")):
        if recipient:
            pdf.cell(half, 4, _t(f"- {recipient};"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.set_font(_FAMILY, "B", 11)
    for line in (profile.signer_authority, profile.signer_title):
        pdf.cell(half, 6, _t(line), align="C", new_x="LEFT", new_y="NEXT")
    pdf.ln(22)
    pdf.set_x(pdf.l_margin + half)
    pdf.cell(half, 6, _t(profile.signer_name), align="C")


def visits_pdf(visits: VisitList, market_name: str) -> bytes:
    """The visit list for a round, A4 landscape, with a blank column for the visitor's notes."""
    with _document("landscape", f"Danh sách sạp cần thăm {date_vi(visits.as_of)}") as pdf:
        pdf.set_font(_FAMILY, "B", 13)
        pdf.cell(0, 7, _t(f"DANH SÁCH SẠP CẦN THĂM - {market_name}"), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FAMILY, "", 10)
        pdf.cell(
            0,
            6,
            _t(
                f"Tổ công nghệ số cộng đồng - ngày {date_vi(visits.as_of)}. Giao dịch tính từ "
                f"{date_vi(visits.window_from)}. Số sạp: {len(visits.visits)}."
            ),
            align="C",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)
        pdf.set_font(_FAMILY, "", 8)
        widths = (10, 10, 15, 34, 22, 24, 40, 20, 44, 43)
        with pdf.table(
            col_widths=widths, headings_style=_HEAD, line_height=4, text_align="LEFT", align="LEFT"
        ) as table:
            heading = table.row()
            for text in (
                "Khu",
                "Dãy",
                "Sạp",
                "Tiểu thương",
                "Điện thoại",
                "Ngành hàng",
                "Tình trạng",
                "Thu gần nhất",
                "Lý do chưa dùng",
                "Kết quả thăm",
            ):
                heading.cell(text)
            for visit in visits.visits:
                reason = " - ".join(part for part in (visit.reason_label, visit.note) if part)
                cells = table.row()
                for text in (
                    visit.zone,
                    visit.row or "",
                    visit.code,
                    visit.holder or "",
                    visit.phone or "",
                    visit.category,
                    visit.situation_label,
                    date_vi(visit.last_receipt_on) if visit.last_receipt_on else "chưa có",
                    reason,
                    "",
                ):
                    cells.cell(_t(text))
        if not visits.visits:
            pdf.cell(0, 8, _t("Không có sạp nào cần thăm / no stall to visit."), new_x="LMARGIN", new_y="NEXT")
        return _output(pdf)
