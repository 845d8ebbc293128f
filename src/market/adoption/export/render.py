"""One entry point for every report file: which writer, which media type, which file name."""

from __future__ import annotations

from typing import Literal

import msgspec

from market.adoption.commune import CommuneReport
from market.adoption.export.csvfile import adoption_csv, commune_csv, visits_csv
from market.adoption.export.pdf import commune_pdf, visits_pdf
from market.adoption.export.xlsx import commune_xlsx
from market.adoption.figures import Adoption
from market.adoption.visits import VisitList

__all__ = ["ADOPTION_FORMATS", "COMMUNE_FORMATS", "VISIT_FORMATS", "Rendered", "render"]

Format = Literal["json", "csv", "xlsx", "pdf"]
ADOPTION_FORMATS: tuple[Format, ...] = ("json", "csv")
COMMUNE_FORMATS: tuple[Format, ...] = ("xlsx", "pdf", "csv", "json")
VISIT_FORMATS: tuple[Format, ...] = ("csv", "pdf", "json")

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class Rendered(msgspec.Struct, frozen=True):
    """A report file: its bytes, how to serve it, and whether it is text a terminal can show."""

    content: bytes
    media_type: str
    filename: str

    @property
    def binary(self) -> bool:
        """XLSX and PDF: never written to a terminal."""
        return not self.media_type.startswith(("text/", "application/json"))


def render(report: Adoption | CommuneReport | VisitList, fmt: Format, *, market_name: str = "") -> Rendered:
    """``report`` as a ``fmt`` file.

    Raises:
        ValueError: that report has no such format (callers validate the format first).
    """
    content: bytes | None = None
    if fmt == "json":
        content = msgspec.json.encode(report)
    elif isinstance(report, Adoption) and fmt == "csv":
        content = adoption_csv(report)
    elif isinstance(report, CommuneReport):
        writers = {"csv": commune_csv, "xlsx": commune_xlsx, "pdf": commune_pdf}
        content = writers[fmt](report) if fmt in writers else None
    elif isinstance(report, VisitList) and fmt in ("csv", "pdf"):
        content = visits_csv(report) if fmt == "csv" else visits_pdf(report, market_name)
    if content is None:
        raise ValueError(f"{type(report).__name__} has no {fmt} format")
    return Rendered(content, MEDIA_TYPES[fmt], f"{_stem(report)}.{fmt}")


def _stem(report: Adoption | CommuneReport | VisitList) -> str:
    if isinstance(report, Adoption):
        return f"chi-so-ttkdtm-{report.as_of.isoformat()}"
    if isinstance(report, CommuneReport):
        return f"bao-cao-xa-hoi-so-{report.period}"
    return f"danh-sach-tham-{report.as_of.isoformat()}"
