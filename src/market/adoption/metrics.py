"""Adoption figures as SQL aggregates over the registry and the rollups the matching driver keeps.

Everything is read from ``stall_days`` (one row per stall per local day with counted receipts)
and ``stall_months`` (the same per calendar month), never from ``receipts``: a province's year is
~5 M day rows and ~200,000 month rows against ~10 M receipts, and a window reads only its own
days. Definitions and counting rules: :mod:`market.adoption.definitions`.

One query makes a snapshot (a per-stall pass over the registry with the activity of each stall
in the windows, folded into counts per group) and one more the 12-month trend (from the months);
nothing is counted in Python. ``benchmarks/bench_adoption.py`` measures both at province scale.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.adoption.definitions import (
    FUNNEL,
    REGULAR_MIN_DAYS,
    REGULAR_WINDOW_DAYS,
    RULES,
    definition,
    transacting_key,
)
from market.adoption.figures import Adoption, Average, Breakdown, Figure, FunnelStep, Gap, Group, TrendMonth
from market.errors import FieldError, InvalidInputError
from market.formats import integer, local_today, money, parse_date, percent, percent_number, ratio_percent
from market.merchants.models import Stall
from market.merchants.vocab import CATEGORIES
from market.reconcile.ledger.models import StallDay, StallMonth

__all__ = [
    "LONG_WINDOW_DAYS",
    "MAX_WINDOW_DAYS",
    "GroupBy",
    "adoption",
    "parse_as_of",
    "registered_before",
    "status_on",
    "window_start",
]

GroupBy = Literal["zone", "category"]
MAX_WINDOW_DAYS = 366
# Reported next to any window: small, irregular traders show up over 90 days.
LONG_WINDOW_DAYS = 90
TREND_MONTHS = 12

_stalls = Stall.__table__
_days = StallDay.__table__
_stall_months = StallMonth.__table__


def parse_as_of(value: str | None, timezone: str) -> dt.date:
    """The ``as_of`` parameter (``YYYY-MM-DD`` or ``dd/mm/yyyy``), today when absent.

    Raises:
        InvalidInputError: not a date, or a day after today (figures of the future are empty, not zero).
    """
    today = local_today(timezone)
    if value is None or not value.strip():
        return today
    text = value.strip()
    try:
        day = parse_date(text)
    except ValueError:
        raise InvalidInputError(
            [FieldError("as_of", f"ngày không hợp lệ {text!r}: cần YYYY-MM-DD hoặc dd/mm/yyyy / not a date")]
        ) from None
    if day > today:
        raise InvalidInputError([FieldError("as_of", "ngày chốt ở tương lai / as_of is in the future")])
    return day


def window_start(as_of: dt.date, days: int) -> dt.date:
    """First local day of the ``days``-day window ending on ``as_of`` inclusive (definitions.RULES)."""
    return as_of - dt.timedelta(days=days - 1)


def registered_before(day: dt.date, timezone: str) -> dt.datetime:
    """The UTC instant the local day after ``day`` starts: stalls created before it existed on ``day``."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), ZoneInfo(timezone))
    return midnight.astimezone(dt.UTC)


def status_on(day: Any) -> sa.ColumnElement[str]:
    """The stall's status on ``day`` (a date or a date column), from its current status and its date.

    Before ``status_since`` a stall now paused or gone was trading, and a stall now trading was
    not (definitions.py, the denominator rule).
    """
    since = _stalls.c.status_since
    return sa.case(
        (sa.or_(since.is_(None), since <= day), _stalls.c.status),
        (_stalls.c.status == "active", sa.literal("paused")),
        else_=sa.literal("active"),
    )


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _windows(window: int) -> list[int]:
    return sorted({window, REGULAR_WINDOW_DAYS, LONG_WINDOW_DAYS})


def _counted_days(first: dt.date | sa.ColumnElement[dt.date], last: dt.date) -> sa.ColumnElement[bool]:
    """The current stall's rollup rows from ``first`` to ``last`` that hold counted receipts.

    ``receipts > 0``: a reversal leaves its day's row at zero rather than deleting it.
    """
    return sa.and_(_days.c.stall_id == _stalls.c.id, _days.c.day.between(first, last), _days.c.receipts > 0)


def _received(first: dt.date, last: dt.date) -> sa.ColumnElement[int]:
    """1 when the current stall has a counted receipt from ``first`` to ``last``, else 0."""
    return sa.case((sa.exists().where(_counted_days(first, last)), 1), else_=0)


def _window_sum(column: sa.ColumnElement[int], first: dt.date, last: dt.date) -> sa.ColumnElement[int]:
    """The current stall's total of ``column`` (receipts or value) from ``first`` to ``last``."""
    return sa.select(sa.func.coalesce(sa.func.sum(column), 0)).where(_counted_days(first, last)).scalar_subquery()


def _activity_scan(as_of: dt.date, window: int) -> sa.Subquery:
    """Per stall with counted receipts in the longest window: counted days per window, receipts, value."""
    day = _days.c.day
    in_window = day >= window_start(as_of, window)
    days = [
        sa.func.sum(sa.case((day >= window_start(as_of, n), 1), else_=0)).label(f"days_{n}") for n in _windows(window)
    ]
    return (
        sa.select(
            _days.c.stall_id,
            *days,
            sa.func.sum(sa.case((in_window, _days.c.receipts), else_=0)).label("receipts"),
            sa.func.sum(sa.case((in_window, _days.c.value), else_=0)).label("value"),
        )
        .where(day.between(window_start(as_of, max(_windows(window))), as_of), _days.c.receipts > 0)
        .group_by(_days.c.stall_id)
        .subquery("activity")
    )


def _per_stall(as_of: dt.date, window: int, by: GroupBy | None, timezone: str, dialect: str) -> sa.CTE:
    """One row per registered stall: its status, onboarding flags and activity (0/1) as of ``as_of``.

    The two databases want opposite plans (benchmarks/bench_adoption.py, 20,000 stalls):

    - SQLite looks activity up stall by stall through the rollup's primary key (stall_id, day): an
      EXISTS stops at the first counted day, "regular" at the 8th, so a window costs a few index
      probes per stall rather than a scan of every stall-day in it (the probes are an order of
      magnitude faster there). Lookups run only for trading stalls (CASE evaluates lazily).
    - PostgreSQL pays a fixed cost per correlated sub-plan call, so there one grouped scan of the
      longest window is joined to the stalls instead (an index-only scan of the covering index on
      (day, stall_id, receipts, value), several times faster than the probes there).

    MATERIALIZED keeps each value from being recomputed in every aggregate that uses it.
    """
    status = status_on(as_of)
    trading = status == "active"

    def if_trading(value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.case((trading, value), else_=0)

    def flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.case((condition, 1), else_=0)

    issued = _stalls.c.qr_issued_on <= as_of
    source: sa.FromClause = _stalls
    if dialect == "postgresql":
        scan = _activity_scan(as_of, window)
        source = _stalls.outerjoin(scan, scan.c.stall_id == _stalls.c.id)
        counted = {n: sa.func.coalesce(scan.c[f"days_{n}"], 0) for n in _windows(window)}
        activity = [
            *(if_trading(flag(counted[n] > 0)).label(f"days_{n}") for n in _windows(window)),
            if_trading(flag(counted[REGULAR_WINDOW_DAYS] >= REGULAR_MIN_DAYS)).label("regular"),
            if_trading(sa.func.coalesce(scan.c.receipts, 0)).label("receipts"),
            if_trading(sa.func.coalesce(scan.c.value, 0)).label("value"),
        ]
    else:
        first = window_start(as_of, window)
        eighth_day = (
            sa.select(_days.c.day)
            .where(_counted_days(window_start(as_of, REGULAR_WINDOW_DAYS), as_of))
            .order_by(_days.c.day)
            .limit(1)
            .offset(REGULAR_MIN_DAYS - 1)
            .scalar_subquery()
        )
        activity = [
            *(if_trading(_received(window_start(as_of, n), as_of)).label(f"days_{n}") for n in _windows(window)),
            if_trading(flag(eighth_day.is_not(None))).label("regular"),
            if_trading(_window_sum(_days.c.receipts, first, as_of)).label("receipts"),
            if_trading(_window_sum(_days.c.value, first, as_of)).label("value"),
        ]
    columns: list[sa.ColumnElement[Any]] = [
        (_stalls.c[by] if by else sa.literal("")).label("key"),
        status.label("status"),
        flag(_stalls.c.has_bank_account.is_(True)).label("bank"),
        flag(_stalls.c.has_payment_app.is_(True)).label("app"),
        flag(issued).label("issued"),
        flag(sa.and_(issued, _stalls.c.qr_displayed.is_(True))).label("displayed"),
        *activity,
    ]
    query = sa.select(*columns).select_from(source).where(_stalls.c.created_at < registered_before(as_of, timezone))
    return query.cte("per_stall").prefix_with("MATERIALIZED")


def _snapshot_rows(
    conn: Connection, as_of: dt.date, window: int, by: GroupBy | None, timezone: str
) -> list[dict[str, Any]]:
    stall = _per_stall(as_of, window, by, timezone, conn.dialect.name)
    c = stall.c
    active = c.status == "active"
    transacting = c[f"days_{window}"] == 1
    bank, issued, displayed, regular = c.bank == 1, c.issued == 1, c.displayed == 1, c.regular == 1
    columns: list[sa.ColumnElement[Any]] = [
        _count(c.status != "left").label("registered"),
        _count(active).label("active"),
        _count(c.status == "paused").label("paused"),
        _count(c.status == "left").label("left"),
        _count(sa.and_(active, bank)).label("bank_account"),
        _count(sa.and_(active, c.app == 1)).label("payment_app"),
        _count(sa.and_(active, issued)).label("qr_issued"),
        _count(sa.and_(active, displayed)).label("qr_displayed"),
        _count(sa.and_(active, regular)).label("regular"),
        sa.func.coalesce(sa.func.sum(c.receipts), 0).label("receipts"),
        sa.func.coalesce(sa.func.sum(c.value), 0).label("value"),
        _count(sa.and_(active, bank, issued)).label("funnel_qr_issued"),
        _count(sa.and_(active, bank, displayed)).label("funnel_qr_displayed"),
        _count(sa.and_(active, bank, displayed, transacting)).label("funnel_transacting"),
        _count(sa.and_(active, bank, displayed, transacting, regular)).label("funnel_regular"),
        _count(sa.and_(active, displayed, sa.not_(transacting))).label("displayed_without_receipt"),
        _count(sa.and_(active, sa.not_(displayed), transacting)).label("receipt_without_displayed_qr"),
        *(_count(c[f"days_{n}"] == 1).label(transacting_key(n)) for n in _windows(window)),
    ]
    query = sa.select(*columns)
    if by:
        query = query.add_columns(c.key.label("key")).group_by(c.key).order_by(c.key)
    return [{str(name): value for name, value in row.items()} for row in conn.execute(query).mappings()]


def _figure(key: str, numerator: int, denominator: int, name: str | None = None) -> Figure:
    share = ratio_percent(numerator, denominator)
    return Figure(
        key=key,
        name=name or definition(key).name,
        numerator=numerator,
        denominator=denominator,
        percent=None if share is None else float(share),
        display=f"{integer(numerator)}/{integer(denominator)} ({percent(share)})",
    )


def _indicator_keys(window: int) -> list[str]:
    keys = ["bank_account", "payment_app", "qr_issued", "qr_displayed"]
    keys += [transacting_key(n) for n in _windows(window)]
    return [*keys, "regular"]


def _indicators(row: Mapping[str, Any], window: int) -> list[Figure]:
    figures = [_figure("active", row["active"], row["registered"])]
    figures += [_figure(key, row[key], row["active"]) for key in _indicator_keys(window)]
    return figures


def _averages(row: Mapping[str, Any]) -> list[Average]:
    stalls = int(row["active"])
    receipts, value = int(row["receipts"]), int(row["value"])
    per_receipts = None if not stalls else (Decimal(receipts) / stalls).quantize(Decimal("0.01"))
    per_value = None if not stalls else round(Decimal(value) / stalls)
    return [
        Average(
            key="receipts_per_stall",
            name=definition("receipts_per_stall").name,
            total=receipts,
            stalls=stalls,
            average=None if per_receipts is None else float(per_receipts),
            display=f"{integer(receipts)}/{integer(stalls)}"
            + ("" if per_receipts is None else f" = {percent_number(per_receipts)}"),
        ),
        Average(
            key="value_per_stall",
            name=definition("value_per_stall").name,
            total=value,
            stalls=stalls,
            average=None if per_value is None else float(per_value),
            display=f"{money(value)}/{integer(stalls)}" + ("" if per_value is None else f" = {money(int(per_value))}"),
        ),
    ]


def _funnel(row: Mapping[str, Any], window: int) -> list[FunnelStep]:
    counts = {
        "active": row["active"],
        "bank_account": row["bank_account"],
        "qr_issued": row["funnel_qr_issued"],
        "qr_displayed": row["funnel_qr_displayed"],
        "transacting": row["funnel_transacting"],
        "regular": row["funnel_regular"],
    }
    steps: list[FunnelStep] = []
    previous = counts["active"]
    for key, label in FUNNEL:
        stalls = int(counts[key])
        steps.append(
            FunnelStep(
                key=key,
                label=label,
                stalls=stalls,
                of_previous=_figure(key, stalls, previous, name=label),
                of_active=_figure(key, stalls, counts["active"], name=label),
            )
        )
        previous = stalls
    return steps


def _gap(row: Mapping[str, Any], window: int) -> Gap:
    said = _figure("qr_displayed", row["qr_displayed"], row["active"])
    seen = _figure(transacting_key(window), row[transacting_key(window)], row["active"])
    difference = None
    if said.percent is not None and seen.percent is not None:
        difference = float(Decimal(str(said.percent)) - Decimal(str(seen.percent)))
    return Gap(
        self_reported=said,
        measured=seen,
        difference_points=difference,
        displayed_without_receipt=row["displayed_without_receipt"],
        receipt_without_displayed_qr=row["receipt_without_displayed_qr"],
    )


def _sum_rows(rows: Sequence[Mapping[str, Any]]) -> Counter[str]:
    """Totals over the groups; a figure of an empty market is 0 (``Counter`` answers 0 for any key)."""
    totals: Counter[str] = Counter()
    for row in rows:
        totals.update({name: int(value) for name, value in row.items() if name != "key"})
    return totals


def _group_label(by: GroupBy, key: str) -> str:
    if by == "category":
        return CATEGORIES.labels.get(key, key)
    return f"Khu {key}"


def _months(as_of: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The 12 calendar months ending with the month of ``as_of``: (first day, cut-off day)."""
    months: list[tuple[dt.date, dt.date]] = []
    year, month = as_of.year, as_of.month
    for _ in range(TREND_MONTHS):
        first = dt.date(year, month, 1)
        months.append((first, min(_month_end(first), as_of)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _month_receipts(whole: Sequence[dt.date], cut_short: tuple[dt.date, dt.date] | None) -> sa.Subquery:
    """Per stall with a rollup row: counted receipts in each month (column ``m<YYYYMM>``).

    ``whole`` months (their first days, in order) come from ``stall_months``, ~12 rows per stall;
    the month ``cut_short`` at a cut-off, ``(first day, cut-off)``, from its ``stall_days`` up to
    the cut-off, summed per stall first so the pivot reads one row per stall for it too.
    """
    parts: list[sa.Select[Any]] = [
        sa.select(_stall_months.c.stall_id, _stall_months.c.month, _stall_months.c.receipts).where(
            _stall_months.c.month.between(whole[0], whole[-1])
        )
    ]
    firsts = list(whole)
    if cut_short is not None:
        first, cutoff = cut_short
        parts.append(
            sa.select(_days.c.stall_id, sa.literal(first, sa.Date), sa.func.sum(_days.c.receipts))
            .where(_days.c.day.between(first, cutoff))
            .group_by(_days.c.stall_id)
        )
        firsts.append(first)
    rows = sa.union_all(*parts).subquery("month_rows")
    return (
        sa.select(
            rows.c.stall_id,
            *(
                sa.func.sum(sa.case((rows.c.month == first, rows.c.receipts), else_=0)).label(f"m{first:%Y%m}")
                for first in firsts
            ),
        )
        .group_by(rows.c.stall_id)
        .subquery("month_receipts")
    )


def _month_end(first: dt.date) -> dt.date:
    """The last day of the month that starts on ``first``."""
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _trend(conn: Connection, as_of: dt.date, timezone: str) -> list[TrendMonth]:
    """Per month: stalls trading at its cut-off, and those of them with a counted receipt in the month.

    One grouped scan of the year's ``stall_months`` joined to the stalls: ~200,000 rows for a
    province, not ~5 M stall-days. The last month, when ``as_of`` cuts it short (most days of the
    year), is read from its ``stall_days`` instead: PostgreSQL sums them in the same scan;
    SQLite would sort ~350,000 stall-days to group them, so there each trading stall's days are
    probed instead (an EXISTS stops at the first, see :func:`_per_stall`): ~0.1 s less.
    """
    months = _months(as_of)
    last, cutoff = months[-1]
    whole = [first for first, _cutoff in months]
    cut_short: tuple[dt.date, dt.date] | None = None
    probed: dt.date | None = None
    if cutoff != _month_end(last):
        whole.pop()
        if conn.dialect.name == "postgresql":
            cut_short = (last, cutoff)
        else:
            probed = last
    activity = _month_receipts(whole, cut_short)
    columns: list[sa.ColumnElement[Any]] = []
    for first, month_cutoff in months:
        trading = sa.and_(
            status_on(month_cutoff) == "active", _stalls.c.created_at < registered_before(month_cutoff, timezone)
        )
        if first == probed:
            received = _received(first, month_cutoff)
        else:
            received = sa.case((activity.c[f"m{first:%Y%m}"] > 0, 1), else_=0)
        columns.append(_count(trading))
        columns.append(sa.func.coalesce(sa.func.sum(sa.case((trading, received), else_=0)), 0))
    source = _stalls.outerjoin(activity, activity.c.stall_id == _stalls.c.id)
    row = conn.execute(sa.select(*columns).select_from(source)).one()
    trend: list[TrendMonth] = []
    for index, (first, cutoff) in enumerate(months):
        trend.append(
            TrendMonth(
                month=f"{first.year:04d}-{first.month:02d}",
                label=f"Tháng {first.month:02d}/{first.year}",
                cutoff=cutoff,
                transacting=_figure(
                    "transacting_month",
                    int(row[2 * index + 1]),
                    int(row[2 * index]),
                    name="Sạp có giao dịch không dùng tiền mặt trong tháng",
                ),
            )
        )
    return trend


def _check(window: int, by: str | None) -> None:
    errors: list[FieldError] = []
    if not 1 <= window <= MAX_WINDOW_DAYS:
        errors.append(FieldError("window", f"cần từ 1 đến {MAX_WINDOW_DAYS} ngày / must be 1..{MAX_WINDOW_DAYS}"))
    if by not in (None, "zone", "category"):
        errors.append(FieldError("by", "chỉ nhận zone hoặc category / must be zone or category"))
    if errors:
        raise InvalidInputError(errors)


def adoption(
    conn: Connection,
    *,
    as_of: dt.date,
    window: int = 30,
    by: GroupBy | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
    trend: bool = False,
) -> Adoption:
    """Every adoption figure as of the local day ``as_of``.

    Args:
        conn: a connection to the market database.
        as_of: the data cut-off (ngày chốt số liệu), a local day; windows end on it inclusive.
        window: days of the main "transacting" window and of the receipt totals (30 by default;
            the 30- and 90-day variants are always reported too).
        by: also split the figures by ``"zone"`` or ``"category"``.
        timezone: the market's time zone (registration instants are compared in it).
        trend: also compute the 12-month trend (one grouped scan of a year of ``stall_months``:
            ~0.1-0.4 s at province scale).

    Raises:
        InvalidInputError: ``window`` outside 1..366 or ``by`` not a known breakdown.
    """
    _check(window, by)
    rows = _snapshot_rows(conn, as_of, window, by, timezone)
    totals = _sum_rows(rows)
    breakdown = None
    if by is not None:
        groups = [
            Group(
                key=str(row["key"]),
                label=_group_label(by, str(row["key"])),
                registered=row["registered"],
                active=row["active"],
                paused=row["paused"],
                indicators=_indicators(row, window),
                averages=_averages(row),
            )
            for row in rows
        ]
        breakdown = Breakdown(by=by, groups=groups)
    keys = ["active", *_indicator_keys(window), "receipts_per_stall", "value_per_stall"]
    return Adoption(
        as_of=as_of,
        window_days=window,
        window_from=window_start(as_of, window),
        window_to=as_of,
        registered=totals["registered"],
        active=totals["active"],
        paused=totals["paused"],
        left=totals["left"],
        indicators=_indicators(totals, window),
        averages=_averages(totals),
        funnel=_funnel(totals, window),
        gap=_gap(totals, window),
        breakdown=breakdown,
        trend=_trend(conn, as_of, timezone) if trend else [],
        definitions=[definition(key) for key in keys],
        rules=list(RULES),
    )
