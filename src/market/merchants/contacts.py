"""Holder contact and identity fields: Vietnamese mobile numbers and national ID numbers."""

from __future__ import annotations

import re

__all__ = ["normalize_national_id", "normalize_phone"]

_SEPARATORS = re.compile(r"[\s.()\-]")
# Vietnamese mobile numbers since the 2018 renumbering: 10 digits, 03/05/07/08/09 then 8 digits
# (10 digits starting with 0; +84 accepted).
_MOBILE = re.compile(r"0[35789]\d{8}")
# Căn cước (12 digits) or the older chứng minh nhân dân (9 digits).
_NATIONAL_ID = re.compile(r"\d{12}|\d{9}")


def normalize_phone(value: str) -> str:
    """A mobile number in the national form ``0912345678`` ("0912 345 678", "+84 912 345 678" → same).

    Raises:
        ValueError: not a Vietnamese mobile number.
    """
    digits = _SEPARATORS.sub("", value.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not _MOBILE.fullmatch(digits):
        raise ValueError(
            f"số điện thoại không hợp lệ {value!r}: cần 10 chữ số bắt đầu bằng 03, 05, 07, 08 hoặc 09 "
            "/ not a Vietnamese mobile number"
        )
    return digits


def normalize_national_id(value: str) -> str:
    """A national ID number as digits only (CCCD: 12 digits, old CMND: 9).

    Raises:
        ValueError: not 9 or 12 digits.
    """
    digits = _SEPARATORS.sub("", value.strip())
    if not _NATIONAL_ID.fullmatch(digits):
        raise ValueError("số CCCD/CMND cần 12 (hoặc 9) chữ số / national ID must have 12 (or 9) digits")
    return digits
