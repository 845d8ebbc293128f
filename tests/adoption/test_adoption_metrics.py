"""Every adoption figure against a count made by hand (the market of adoption_market.py)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from adoption_market import AS_OF, SALE, TWICE, build

from market.adoption.metrics import adoption
from market.errors import InvalidInputError
from market.reconcile.ingest.models import JournalEntry

ACTIVE = 6  # B-01, B-02 (not B-03: left; not C-01: paused; not A-03: registered later)


def _shares(figures):
    return {f.key: (f.numerator, f.denominator) for f in figures.indicators}


def test_every_figure_matches_a_hand_count(engine):
    build(engine)
    with engine.connect() as conn:
        figures = adoption(conn, as_of=AS_OF)
    assert (figures.registered, figures.active, figures.paused, figures.left) == (7, ACTIVE, 1, 1)
    assert _shares(figures) == {
        "active": (6, 7),
        "bank_account": (5, ACTIVE),  # all but B-02
        "payment_app": (3, ACTIVE),  # B-01
        "qr_issued": (4, ACTIVE),  # B-01
        "qr_displayed": (3, ACTIVE),
        "transacting_30d": (2, ACTIVE),  # A-01, B-01
        "transacting_90d": (3, ACTIVE),  # + A-02 (01/03)
        "regular": (1, ACTIVE),  # 8 distinct days
    }
    receipts, value = figures.averages
    assert (receipts.total, receipts.stalls, receipts.average) == (9 + 2, ACTIVE, 1.83)
    assert (value.total, value.stalls, value.average) == (9 * SALE + 2 * TWICE, ACTIVE, 108_333)
    assert figures.indicator("transacting_30d").display == "2/6 (33,33\u00a0%)"
    assert figures.window_from == dt.date(2026, 3, 2)


def test_funnel_only_narrows_and_gap_compares_said_and_seen(engine):
    build(engine)
    with engine.connect() as conn:
        figures = adoption(conn, as_of=AS_OF)
    # active 6 → bank 5 → + QR issued 4 → + displayed 3 → + transacting 1 → + regular 1
    assert [(s.key, s.stalls, s.of_previous.denominator) for s in figures.funnel] == [
        ("active", 6, 6),
        ("bank_account", 5, 6),
        ("qr_issued", 4, 5),
        ("qr_displayed", 3, 4),
        ("transacting", 1, 3),
        ("regular", 1, 1),
    ]
    gap = figures.gap
    assert (gap.self_reported.numerator, gap.measured.numerator) == (3, 2)
    assert gap.difference_points == pytest.approx(50.00 - 33.33)
    assert gap.displayed_without_receipt == 2
    assert gap.receipt_without_displayed_qr == 1  # B-01


def test_a_receipt_exactly_30_days_old_is_outside_the_30_day_window(engine):
    build(engine)
    with engine.connect() as conn:
        on_31 = adoption(conn, as_of=AS_OF)
        on_30 = adoption(conn, as_of=dt.date(2026, 3, 30))
    # A-02's only receipt is dated 01/03: 30 days before 31/03 (out), 29 days before 30/03 (in).
    assert on_31.indicator("transacting_30d").numerator == 2
    assert on_30.indicator("transacting_30d").numerator == 3
    # A-01's receipt at 00:30 local on 02/03 (17:30 UTC on 01/03) is the first day of the window.
    assert on_31.indicator("regular").numerator == 1


def test_a_reversed_sale_does_not_count(engine):
    build(engine)
    with engine.connect() as conn:
        figures = adoption(conn, as_of=AS_OF, by="zone")
    zone_a = next(g for g in figures.breakdown.groups if g.key == "A")
    # A-10's only sale was reversed: zone A has one transacting stall, and A-01's money only.
    assert {f.key: f.numerator for f in zone_a.indicators}["transacting_90d"] == 2
    assert {f.key: f.numerator for f in zone_a.indicators}["transacting_30d"] == 1
    assert zone_a.averages[1].total == 9 * SALE


def test_a_duplicate_notification_is_one_receipt_and_a_paid_twice_receipt_counts(engine):
    market = build(engine)
    with engine.connect() as conn:
        figures = adoption(conn, as_of=AS_OF, by="zone")
        journal = conn.execute(sa.select(sa.func.count()).select_from(JournalEntry).where(JournalEntry.amount == TWICE))
        deliveries = journal.scalar_one()
    zone_b = next(g for g in figures.breakdown.groups if g.key == "B")
    assert deliveries == 3  # the sale, its second delivery, the customer's second payment
    assert zone_b.averages[0].total == 2  # the second delivery is not a receipt; the second payment is
    assert zone_b.averages[1].total == 2 * TWICE
    assert {f.key: (f.numerator, f.denominator) for f in zone_b.indicators}["transacting_30d"] == (1, 2)
    assert market.stall_ids["B-01"]


def test_a_stall_that_left_counts_only_while_it_traded(engine):
    build(engine)
    with engine.connect() as conn:
        before = adoption(conn, as_of=dt.date(2026, 2, 10))
        after = adoption(conn, as_of=AS_OF)
    # 10/02: B-03 and C-01 still trade; B-03's receipts of 20/01 and 01/02 are in its 30 days, so is A-01's 15/01.
    assert _shares(before)["transacting_30d"] == (2, 8)
    assert (before.left, before.paused) == (0, 0)
    # 31/03: B-03's receipt of 10/03 (after it left) and C-01's of 05/03 (before its pause) are not counted.
    assert after.averages[0].total == 11


def test_breakdown_by_category_uses_vietnamese_labels_and_adds_up(engine):
    build(engine)
    with engine.connect() as conn:
        figures = adoption(conn, as_of=AS_OF, by="category")
    groups = {g.key: g for g in figures.breakdown.groups}
    assert groups["fresh_food"].label == "Thực phẩm tươi sống"
    # fresh_food: trade; B-03 left; A-03 registered after the day.
    assert (groups["fresh_food"].registered, groups["fresh_food"].active) == (2, 2)
    assert sum(g.active for g in groups.values()) == ACTIVE
    assert sum(g.registered for g in groups.values()) == figures.registered


def test_monthly_trend_counts_stalls_trading_at_each_month_end(engine):
    build(engine)
    with engine.connect() as conn:
        trend = adoption(conn, as_of=AS_OF, trend=True).trend
    assert [m.month for m in trend][:1] + [m.month for m in trend][-1:] == ["2025-04", "2026-03"]
    by_month = {m.month: (m.transacting.numerator, m.transacting.denominator) for m in trend}
    assert by_month["2025-12"] == (0, 8)
    assert by_month["2026-01"] == (2, 8)  # A-01 (15/01), B-03 (20/01)
    assert by_month["2026-02"] == (0, 7)  # B-03 left on 15/02: neither counted nor its 01/02 receipt
    assert by_month["2026-03"] == (3, 6)  # B-01 (C-01 paused on 20/03)
    assert trend[-1].label == "Tháng 03/2026"


def test_a_month_cut_off_early_counts_only_its_days_up_to_the_cutoff(engine):
    build(engine)
    with engine.connect() as conn:
        trend = adoption(conn, as_of=dt.date(2026, 3, 10), trend=True).trend
    assert (trend[-1].month, trend[-1].cutoff) == ("2026-03", dt.date(2026, 3, 10))
    # Trading on 10/03: all but B-03 (left) and A-03 (not yet registered). Receipts 01-10/03:
    # A-01 (02, 05, 09), A-02 (01), C-01 (05, paused only from 20/03); not B-01 (15/03).
    assert (trend[-1].transacting.numerator, trend[-1].transacting.denominator) == (3, 7)
    assert (trend[-2].transacting.numerator, trend[-2].transacting.denominator) == (0, 7)


def test_an_empty_market_has_zero_over_zero_not_an_error(engine):
    with engine.connect() as conn:
        figures = adoption(conn, as_of=AS_OF, by="zone")
    assert figures.indicator("transacting_30d").display == "0/0 (—)"
    assert figures.indicator("transacting_30d").percent is None
    assert figures.breakdown.groups == []


@pytest.mark.parametrize(("window", "by"), [(0, None), (367, None), (30, "row")])
def test_bad_parameters_are_refused_with_the_field_named(engine, window, by):
    with engine.connect() as conn, pytest.raises(InvalidInputError) as caught:
        adoption(conn, as_of=AS_OF, window=window, by=by)
    assert caught.value.errors[0].field == ("window" if by is None else "by")


def test_another_window_is_reported_next_to_30_and_90_days(engine):
    build(engine)
    with engine.connect() as conn:
        figures = adoption(conn, as_of=AS_OF, window=7)
    # Last 7 days (25/03–31/03): only A-01 (26/03).
    assert _shares(figures)["transacting_7d"] == (1, ACTIVE)
    assert figures.averages[0].total == 2
    assert {"transacting_30d", "transacting_90d"} <= set(_shares(figures))
