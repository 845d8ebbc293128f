"""How the market writes numbers, money, percentages and dates, and what "today" is there.

One way for every page, export, card and command: Vietnamese conventions in every language,
because the market's money is the đồng and its documents are Vietnamese.

- Grouping ".", decimal ",": ``1.234.567``, ``36,95``.
- Money in whole đồng the CLDR vi-VN way, a no-break space before the sign: ``1.234.567 ₫``.
- Percentages with two decimals, rounded half up, printed ``36,95 %`` with a no-break space so
  the sign never wraps onto the next line of a table cell.
- Dates ``dd/mm/yyyy``, zero-padded; :func:`parse_date` also reads ISO ``yyyy-mm-dd``.
- Days are the market's local days (``settings.timezone``); times are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "NBSP",
    "date_vi",
    "integer",
    "local_day",
    "local_today",
    "money",
    "parse_date",
    "percent",
    "percent_number",
    "percent_of",
    "ratio_percent",
]

NBSP: Final = "\u00a0"
_TWO_PLACES = Decimal("0.01")
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


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


def percent_of(numerator: int, denominator: int) -> str:
    """``numerator / denominator`` written as a percentage (``70,00 %``), ``—`` when nothing to divide by.

    Pages print it beside the two counts, so a reader can check the rounding.
    """
    return percent(ratio_percent(numerator, denominator))


def date_vi(day: dt.date) -> str:
    """``dd/mm/yyyy``, zero-padded."""
    return day.strftime("%d/%m/%Y")


def parse_date(value: str) -> dt.date:
    """A date written ``2024-10-08`` (ISO) or ``08/10/2024`` (day/month/year, how Vietnamese users type dates).

    The day/month/year form takes one or two digits for the day and the month, a four-digit year,
    and ``/``, ``.`` or ``-`` between them (spreadsheets write all three).

    Raises:
        ValueError: neither form, or no such day.
    """
    text = value.strip()
    match = _DMY.fullmatch(text)
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"ngày không hợp lệ {value!r}: dùng dd/mm/yyyy hoặc yyyy-mm-dd / invalid date") from None


def local_today(timezone: str) -> dt.date:
    """Today's date in the market's time zone (``settings.timezone``, Asia/Ho_Chi_Minh by default)."""
    return dt.datetime.now(ZoneInfo(timezone)).date()


def local_day(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The market's calendar day of ``moment``."""
    return moment.astimezone(zone).date()
