"""The visit list of the community digital team (Tổ công nghệ số cộng đồng, reporting.md §1.4).

On its Tuesday and Thursday rounds the team visits two kinds of trading stall:

- ``qr_idle``: a QR code was issued, but no counted cashless receipt in the last 30 days
  (the self-reported "uses QR" that the ledger does not confirm);
- ``no_qr``: no QR code yet.

Each line carries what the visitor needs at the stall: the holder's name and phone, the reason
recorded for not taking cashless payments, and the last counted receipt. Lines are in walking
order: zone, then row, then stall number ("A-2" before "A-10").
"""

from __future__ import annotations

import datetime as dt
import re

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.adoption.definitions import REGULAR_WINDOW_DAYS
from market.adoption.metrics import registered_before, status_on, window_start
from market.merchants.models import Merchant, Stall
from market.merchants.vocab import CATEGORIES, NO_CASHLESS_REASONS
from market.reconcile.ledger.models import StallDay

__all__ = ["SITUATIONS", "Visit", "VisitList", "visit_list"]

SITUATIONS = {
    "qr_idle": "Có mã QR, chưa có giao dịch trong 30 ngày",
    "no_qr": "Chưa có mã QR",
}
_NUMBERS = re.compile(r"(\d+)")


class Visit(msgspec.Struct, frozen=True, kw_only=True):
    """One stall to visit and why."""

    zone: str
    row: str | None
    code: str
    holder: str | None
    phone: str | None
    category: str
    situation: str
    situation_label: str
    qr_issued_on: dt.date | None
    qr_displayed: bool
    has_bank_account: bool
    has_payment_app: bool
    last_receipt_on: dt.date | None
    reason: str | None
    reason_label: str | None
    note: str | None


class VisitList(msgspec.Struct, frozen=True, kw_only=True):
    """The visits as of one day, in walking order."""

    as_of: dt.date
    window_from: dt.date
    visits: list[Visit]


def _walking_key(visit: Visit) -> tuple[object, ...]:
    def natural(text: str | None) -> tuple[object, ...]:
        # "Dãy 2" before "Dãy 10"; rows left empty walk last in their zone.
        if not text:
            return ((1, ""),)
        return tuple((0, int(part)) if part.isdigit() else (0, part.casefold()) for part in _NUMBERS.split(text))

    return (natural(visit.zone), natural(visit.row), natural(visit.code))


def visit_list(conn: Connection, *, as_of: dt.date, timezone: str = "Asia/Ho_Chi_Minh") -> VisitList:
    """The stalls trading on ``as_of`` that have no QR, or a QR but no counted receipt in 30 days.

    Args:
        conn: a connection to the market database.
        as_of: the local day of the round; the 30-day window ends on it inclusive.
        timezone: the market's time zone.
    """
    stalls, days = Stall.__table__, StallDay.__table__
    since = window_start(as_of, REGULAR_WINDOW_DAYS)
    counted = sa.and_(days.c.stall_id == stalls.c.id, days.c.receipts > 0, days.c.day <= as_of)
    last_receipt = sa.select(sa.func.max(days.c.day)).where(counted).scalar_subquery()
    recent = sa.exists().where(counted, days.c.day >= since)
    issued = stalls.c.qr_issued_on <= as_of
    query = (
        sa.select(
            stalls.c.zone,
            stalls.c.row,
            stalls.c.code,
            stalls.c.category,
            stalls.c.qr_issued_on,
            stalls.c.qr_displayed,
            stalls.c.has_bank_account,
            stalls.c.has_payment_app,
            stalls.c.no_cashless_reason,
            stalls.c.no_cashless_note,
            Merchant.__table__.c.full_name,
            Merchant.__table__.c.phone,
            sa.case((issued, "qr_idle"), else_="no_qr").label("situation"),
            last_receipt.label("last_receipt_on"),
        )
        .select_from(stalls.outerjoin(Merchant.__table__, Merchant.__table__.c.stall_id == stalls.c.id))
        .where(
            status_on(as_of) == "active",
            stalls.c.created_at < registered_before(as_of, timezone),
            sa.or_(sa.not_(sa.func.coalesce(issued, False)), sa.not_(recent)),
        )
    )
    visits = [
        Visit(
            zone=row.zone,
            row=row.row,
            code=row.code,
            holder=row.full_name,
            phone=row.phone,
            category=CATEGORIES.labels.get(row.category, row.category),
            situation=row.situation,
            situation_label=SITUATIONS[row.situation],
            qr_issued_on=row.qr_issued_on if row.situation == "qr_idle" else None,
            qr_displayed=bool(row.qr_displayed),
            has_bank_account=bool(row.has_bank_account),
            has_payment_app=bool(row.has_payment_app),
            last_receipt_on=row.last_receipt_on,
            reason=row.no_cashless_reason,
            reason_label=NO_CASHLESS_REASONS.labels.get(row.no_cashless_reason) if row.no_cashless_reason else None,
            note=row.no_cashless_note,
        )
        for row in conn.execute(query)
    ]
    return VisitList(as_of=as_of, window_from=since, visits=sorted(visits, key=_walking_key))
