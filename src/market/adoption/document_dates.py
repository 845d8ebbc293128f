"""How the commune's Vietnamese documents write a date and a reporting period.

The documents' numbers, money and plain dates are :mod:`market.formats`; these are the two forms
only the report headers use.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["long_date_vi", "period_vi"]


def long_date_vi(day: dt.date) -> str:
    """ "ngày 08 tháng 10 năm 2024": NĐ 30/2020 pads days below 10 and months 1–2 with a zero."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def period_vi(year: int, month: int) -> str:
    """The reporting period of a month: "Tháng 10/2024"."""
    return f"Tháng {month:02d}/{year}"
