"""Diacritics-insensitive search over stall code, holder name and phone numbers.

Each stall row stores ``search_text``: the folded (lower-case, no diacritics) code, name and
numbers. A query is folded the same way and matched with ``LIKE``, so the database filters on
SQLite and PostgreSQL alike and "nguyen" finds "Nguyễn Thị Đào".
"""

from __future__ import annotations

import contextlib
import re

import sqlalchemy as sa

from market.merchants.schemas import StallData
from market.merchants.stall_codes import normalize_stall_code
from market.text import search_key

__all__ = ["search_clause", "search_text"]

_PUNCTUATION = re.compile(r"[\s.\-_/()+]")


def _compact(text: str) -> str:
    # "A-12" → "a12", "0912 345 678" → "0912345678": how people type codes and numbers.
    return _PUNCTUATION.sub("", text)


def search_text(data: StallData) -> str:
    """The folded text a stall is found by."""
    parts = [data.code, _compact(data.code), data.full_name, data.phone or "", data.zalo or ""]
    return " ".join(search_key(part) for part in parts if part)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_clause(column: sa.ColumnElement[str], query: str) -> sa.ColumnElement[bool] | None:
    """A condition matching rows whose ``column`` contains the query (as typed, or without separators)."""
    key = search_key(query)
    if not key:
        return None
    variants = {key, _compact(key)} - {""}
    if key.startswith("+84"):  # "+84 912…" is stored as "0912…"
        variants.add("0" + _compact(key)[3:])
    with contextlib.suppress(ValueError):  # "b2" is stall B-02
        variants.add(search_key(normalize_stall_code(query)))
    return sa.or_(*(column.like(_like_pattern(v), escape="\\") for v in sorted(variants)))
