"""The registry's controlled vocabularies: the codes stored, and the Vietnamese labels people read.

Codes are short English words (stable in the database, the API and CSV exports); every code has
a Vietnamese label that the CSV import also accepts in place of
the code, so a spreadsheet typed by the market office can say "Hàng khô" instead of ``dry_goods``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

from market.text import search_key

__all__ = [
    "ACCOUNT_CHANGE_STATES",
    "ACCOUNT_KINDS",
    "CATEGORIES",
    "FREQUENCIES",
    "NO_CASHLESS_REASONS",
    "ONBOARDING_STATES",
    "STATUSES",
    "Vocabulary",
]


@functools.lru_cache(maxsize=1024)
def _key(value: str) -> str:
    # "fresh_food", "Fresh food" and "fresh food" are one spelling; so are "Hàng khô" and "hang kho".
    # Cached: an import looks up the same few labels on every one of thousands of rows.
    return search_key(value.replace("_", " "))


class Vocabulary:
    """An ordered set of codes with Vietnamese labels; ``lookup`` accepts either, accents ignored."""

    def __init__(self, name: str, labels: Mapping[str, str], aliases: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.labels: Mapping[str, str] = MappingProxyType(dict(labels))
        index = {_key(code): code for code in labels}
        index.update({_key(label): code for code, label in labels.items()})
        index.update({_key(alias): code for alias, code in (aliases or {}).items()})
        self._index = index

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes, in display order."""
        return tuple(self.labels)

    def lookup(self, value: str) -> str | None:
        """The code named by ``value`` (a code, its Vietnamese label or a known alias), or ``None``."""
        return self._index.get(_key(value))

    def label(self, code: str) -> str:
        """The Vietnamese label of ``code``."""
        return self.labels[code]

    def describe(self) -> str:
        """The accepted values, for error messages: ``fresh_food (Thực phẩm tươi sống), ...``."""
        return ", ".join(f"{code} ({label})" for code, label in self.labels.items())


# Goods categories (ngành hàng); NĐ 60/2024 asks larger markets to zone by category.
CATEGORIES = Vocabulary(
    "category",
    {
        "fresh_food": "Thực phẩm tươi sống",
        "dry_goods": "Hàng khô",
        "clothing": "Quần áo",
        "food_stall": "Ăn uống",
        "services": "Dịch vụ",
        "other": "Khác",
    },
    {"fresh food": "fresh_food", "dry goods": "dry_goods", "food stall": "food_stall", "Tạp hóa": "dry_goods"},
)

# Trading status (tình trạng kinh doanh): trading / suspended / stopped.
STATUSES = Vocabulary(
    "status",
    {"active": "Đang kinh doanh", "paused": "Tạm ngưng", "left": "Ngưng kinh doanh"},
    {"Ngưng": "left", "Đã nghỉ": "left"},
)

# Trading frequency (tần suất buôn bán): hằng ngày / theo phiên / thời vụ.
FREQUENCIES = Vocabulary(
    "trading_frequency",
    {"daily": "Hằng ngày", "session": "Theo phiên chợ", "seasonal": "Thời vụ"},
    {"Hàng ngày": "daily", "Theo phiên": "session", "by session": "session", "market session": "session"},
)

# Why a holder does not take cashless payments yet ("30 % ... buôn bán nhỏ lẻ").
NO_CASHLESS_REASONS = Vocabulary(
    "no_cashless_reason",
    {
        "small_irregular": "Buôn bán nhỏ lẻ, không thường xuyên",
        "prefers_cash": "Thích dùng tiền mặt",
        "no_smartphone": "Không có điện thoại thông minh",
        "fees": "Lo ngại phí",
        "other": "Khác",
    },
    {"small or irregular": "small_irregular", "Nhỏ lẻ": "small_irregular", "Khách trả tiền mặt": "prefers_cash"},
)

# Payment account kinds ("Tài khoản thanh toán").
ACCOUNT_KINDS = Vocabulary(
    "kind",
    {"bank_account": "Tài khoản ngân hàng", "e_wallet": "Ví điện tử", "virtual_account": "Tài khoản ảo"},
    {"bank": "bank_account", "wallet": "e_wallet", "ewallet": "e_wallet", "virtual": "virtual_account"},
)

# Where a stall stands on the way to taking QR payments; derived from the onboarding fields.
ONBOARDING_STATES = Vocabulary(
    "onboarding",
    {
        "qr_displayed": "Đã niêm yết mã QR",
        "qr_issued": "Đã cấp mã QR, chưa niêm yết",
        "account_only": "Có tài khoản, chưa có mã QR",
        "no_account": "Chưa có tài khoản",
    },
)

# Where a proposed change of a stall's receiving accounts stands (market.merchants.account_changes).
ACCOUNT_CHANGE_STATES = Vocabulary(
    "account_change",
    {
        "pending": "Chờ duyệt",
        "approved": "Đã duyệt",
        "rejected": "Bị từ chối",
        "superseded": "Đã được thay thế",
    },
)
