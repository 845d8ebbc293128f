"""Vietnamese number, percentage, money and date formatting (reporting.md §5).

- Grouping ".", decimal ",": ``1.234.567``, ``36,95``.
- Money in whole đồng: ``1.234.567 ₫`` (CLDR vi-VN), a no-break space before the sign.
- Percentages with two decimals, rounded half up (Đề án 06 style ``46,92``), printed ``36,95 %``
  with a no-break space so the sign never wraps onto the next line of a table cell.
- Dates ``dd/mm/yyyy`` explicitly; document headers write "ngày 08 tháng 10 năm 2024".
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "NBSP",
    "date_vi",
    "integer",
    "long_date_vi",
    "money",
    "parse_date",
    "percent",
    "percent_number",
    "period_vi",
    "ratio_percent",
]

NBSP = "\u00a0"
_TWO_PLACES = Decimal("0.01")


def integer(value: int) -> str:
    """``1234567`` → ``1.234.567``."""
    return f"{value:,}".replace(",", ".")


def money(value: int) -> str:
    """Whole đồng: ``1234567`` → ``1.234.567 ₫``."""
    return f"{integer(value)}{NBSP}₫"


def ratio_percent(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator`` as a percentage rounded half up to 2 places; ``None`` when nothing to divide by."""
    if denominator <= 0:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)


def percent_number(value: Decimal) -> str:
    """``Decimal("36.95")`` → ``36,95`` (no sign: a number Excel reads under a Vietnamese locale)."""
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value.quantize(_TWO_PLACES, rounding=ROUND_HALF_UP)):f}".partition(".")
    return f"{sign}{integer(int(whole))},{fraction or '00'}"


def percent(value: Decimal | None) -> str:
    """``Decimal("36.95")`` → ``36,95 %``; ``None`` (no denominator) → ``—``."""
    if value is None:
        return "—"
    return f"{percent_number(value)}{NBSP}%"


def date_vi(day: dt.date) -> str:
    """``dd/mm/yyyy``."""
    return day.strftime("%d/%m/%Y")


def long_date_vi(day: dt.date) -> str:
    """ "ngày 08 tháng 10 năm 2024": NĐ 30/2020 pads days below 10 and months 1–2 with a zero (reporting.md §2.1)."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def period_vi(year: int, month: int) -> str:
    """The reporting period of a month: "Tháng 10/2024" (reporting.md §5)."""
    return f"Tháng {month:02d}/{year}"


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` or ``dd/mm/yyyy`` (how Vietnamese users type dates) → a date.

    Raises:
        ValueError: neither form, or no such day.
    """
    text = text.strip()
    if "/" in text:
        day, month, year = text.split("/")
        if len(year) != 4:
            raise ValueError(f"year must have 4 digits: {text!r}")
        return dt.date(int(year), int(month), int(day))
    return dt.date.fromisoformat(text)
