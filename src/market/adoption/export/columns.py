"""The commune report's columns that every file of it shows, in this order, between the indicator and its source."""

from __future__ import annotations

__all__ = ["MEASURE_COLUMNS"]

MEASURE_COLUMNS = (
    "Giải thích (tử số / mẫu số)",
    "ĐVT",
    "Mục tiêu (%)",
    "Tử số",
    "Mẫu số",
    "Tỷ lệ (%)",
    "Tự đánh giá",
)
