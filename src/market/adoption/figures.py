"""What the adoption figures are: the shapes ``metrics.adoption`` returns to the API, the pages and the reports.

Every figure is a count of stalls (or receipts) over a stated denominator; ``definitions`` says
what each one means.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from market.adoption.definitions import Definition

__all__ = [
    "Adoption",
    "Average",
    "Breakdown",
    "Figure",
    "FunnelStep",
    "Gap",
    "Group",
    "TrendMonth",
]


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """A share of stalls: ``numerator`` of ``denominator`` (``percent`` is derived, 2 decimals)."""

    key: str
    name: str
    numerator: int
    denominator: int
    percent: float | None
    display: str


class Average(msgspec.Struct, frozen=True, kw_only=True):
    """A total spread over stalls: ``total`` / ``stalls`` (receipts, or đồng)."""

    key: str
    name: str
    total: int
    stalls: int
    average: float | None
    display: str


class FunnelStep(msgspec.Struct, frozen=True, kw_only=True):
    """Stalls that reached this step and every step before it."""

    key: str
    label: str
    stalls: int
    of_previous: Figure
    of_active: Figure


class Gap(msgspec.Struct, frozen=True, kw_only=True):
    """What holders say (QR displayed) against what the ledger shows (a receipt in the window)."""

    self_reported: Figure
    measured: Figure
    difference_points: float | None
    displayed_without_receipt: int
    receipt_without_displayed_qr: int


class Group(msgspec.Struct, frozen=True, kw_only=True):
    """The figures of one zone or goods category."""

    key: str
    label: str
    registered: int
    active: int
    paused: int
    indicators: list[Figure]
    averages: list[Average]


class Breakdown(msgspec.Struct, frozen=True, kw_only=True):
    """The figures split by zone or by goods category."""

    by: str
    groups: list[Group]


class TrendMonth(msgspec.Struct, frozen=True, kw_only=True):
    """One calendar month: stalls trading at its cut-off with ≥ 1 counted receipt in it."""

    month: str
    label: str
    cutoff: dt.date
    transacting: Figure


class Adoption(msgspec.Struct, frozen=True, kw_only=True):
    """Every adoption figure as of one local day."""

    as_of: dt.date
    window_days: int
    window_from: dt.date
    window_to: dt.date
    registered: int
    active: int
    paused: int
    left: int
    indicators: list[Figure]
    averages: list[Average]
    funnel: list[FunnelStep]
    gap: Gap
    breakdown: Breakdown | None
    trend: list[TrendMonth]
    definitions: list[Definition]
    rules: list[str]

    def indicator(self, key: str) -> Figure:
        """The indicator named ``key`` (``KeyError`` if absent)."""
        for figure in self.indicators:
            if figure.key == key:
                return figure
        raise KeyError(key)
