"""Print geometry: everything is laid out at 300 dpi on ISO paper sizes.

300 dpi is what office laser printers print at; drawing at exactly that resolution with
whole-pixel QR modules keeps module edges sharp (no resampling when printed at 100 %).
"""

from __future__ import annotations

__all__ = ["A4_MM", "A6_MM", "PRINT_DPI", "mm_to_pt", "mm_to_px"]

PRINT_DPI = 300
MM_PER_INCH = 25.4
PT_PER_INCH = 72

# ISO 216 sizes, portrait (width, height) in millimetres.
A6_MM = (105.0, 148.0)
A4_MM = (210.0, 297.0)


def mm_to_px(mm: float) -> int:
    """Millimetres to whole pixels at :data:`PRINT_DPI`."""
    return round(mm * PRINT_DPI / MM_PER_INCH)


def mm_to_pt(mm: float) -> float:
    """Millimetres to PDF points (1/72 inch)."""
    return mm * PT_PER_INCH / MM_PER_INCH
