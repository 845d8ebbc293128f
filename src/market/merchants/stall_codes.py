"""Stall codes: every spelling people type ("a12", "A 12", "a-12", "Sạp A12") becomes ``A-12``.

A code is a zone of one to three letters, a number, and an optional sub-stall letter ("A-12B").
The number is written with at least two digits ("A-1" → ``A-01``), the way market plans number
stalls ("A-01…"), so that ``A-1`` and ``A-01`` can never be two stalls.
"""

from __future__ import annotations

import re

from market.text import fold_vietnamese

__all__ = ["normalize_stall_code", "zone_of"]

# Words people put before the code in spreadsheets: "Sạp A12", "Lô A12", "Ki-ốt B3", "Quầy C7".
_PREFIX = re.compile(r"^(SAP|LO|QUAY|KI-?OT|KIOSK|STALL)\s+")
_CODE = re.compile(r"([A-Z]{1,3})[\s._-]*(\d{1,4})[\s._-]*([A-Z]?)")


def normalize_stall_code(value: str) -> str:
    """The canonical form of a stall code.

    Raises:
        ValueError: ``value`` is not a stall code; the message says what one looks like.
    """
    text = fold_vietnamese(value).upper().strip()
    text = _PREFIX.sub("", text)
    match = _CODE.fullmatch(text)
    if match is None:
        raise ValueError(f"mã sạp không hợp lệ {value!r}: cần dạng khu + số, ví dụ A-12 / stall code like A-12")
    zone, number, suffix = match.groups()
    return f"{zone}-{int(number):02d}{suffix}"


def zone_of(code: str) -> str:
    """The zone letters of a canonical code (``A-12`` → ``A``)."""
    return code.split("-", 1)[0]
