"""Payment intents: a sale's dynamic QR, and what has been paid against it.

A stall asks for ``amount`` đồng; we draw a reference code (``market.reconcile.matching.references``), put it
**first** in the transfer content of a dynamic VietQR for the stall's default account (tag 62/08,
at most 25 characters: the code is 9, so truncation by any bank eats the note, never the code)
and store the intent. The matching driver credits it as transfers arrive; :func:`get_intent`
reads its state and the payments applied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.db import utcnow
from market.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from market.merchants import normalize_stall_code
from market.merchants.store import accounts_table, stalls
from market.payments import MAX_AMOUNT, MAX_TEXT, ValidationError, VietQRRequest, build_vietqr
from market.reconcile.ledger.tables import intents_table, journal_table, receipts_table
from market.reconcile.matching import references
from market.reconcile.matching.book import Intent, intent_status
from market.text import fold_vietnamese

__all__ = [
    "DEFAULT_EXPIRES_IN",
    "MAX_EXPIRES_IN",
    "IntentIn",
    "IntentOut",
    "PaymentOut",
    "create_intent",
    "find_intent_row",
    "get_intent",
    "intent_image_url",
    "intent_payload",
    "transfer_content",
]

# A market sale is paid on the spot: 15 minutes by default, a week at most (an order picked up later).
DEFAULT_EXPIRES_IN = 15 * 60
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 7 * 24 * 3600
MAX_NOTE = 200


class IntentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/intents``: the stall, the amount in whole đồng, an optional note and lifetime (seconds)."""

    stall: str
    amount: int
    note: str | None = None
    expires_in: int | None = None


class PaymentOut(msgspec.Struct, kw_only=True):
    """One transfer applied to an intent (a reversal has a negative amount)."""

    journal_id: int
    amount: int
    kind: str
    rule: str
    occurred_at: dt.datetime
    provider: str
    memo: str
    payer_name: str | None
    flag: str | None
    refund_due: int


class IntentOut(msgspec.Struct, kw_only=True):
    """An intent as the API shows it.

    ``state`` is ``open``, ``partial``, ``paid``, ``overpaid`` or ``expired`` (unpaid past its
    expiry, as of the request); ``paid`` counts every đồng credited, duplicates included, like
    payOS's ``amountPaid``; ``remaining`` is what is still expected (never negative).
    """

    code: str
    stall: str
    amount: int
    paid: int
    remaining: int
    state: str
    note: str | None
    content: str
    payload: str
    image_url: str
    created_at: dt.datetime
    expires_at: dt.datetime
    payments: list[PaymentOut] = msgspec.field(default_factory=list)


def intent_image_url(code: str) -> str:
    """Where the QR image of an intent is served."""
    return f"/api/intents/{code}/qr.png"


def transfer_content(code: str, note: str | None) -> str:
    """The 62/08 transfer content: the code first, then as much of the folded note as fits in 25 characters."""
    if not note:
        return code
    words = " ".join(fold_vietnamese(note).split())
    printable = "".join(ch for ch in words if " " <= ch <= "~")
    return f"{code} {printable}"[:MAX_TEXT].rstrip()


def intent_payload(bank_bin: str, account: str, amount: int, content: str) -> str:
    """The dynamic VietQR payload of an intent (raises :class:`ConflictError` if the account cannot carry one)."""
    try:
        return build_vietqr(VietQRRequest(bin=bank_bin, account=account, amount=amount, content=content))
    except ValidationError as exc:
        raise ConflictError(
            f"Tài khoản mặc định của sạp không tạo được mã QR động / the stall's default account cannot carry "
            f"a dynamic QR: {exc}"
        ) from None


class _TakenCodes:
    """``code in taken`` asks the database, so :func:`references.new_code` never reuses an issued code."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def __contains__(self, code: object) -> bool:
        query = sa.select(intents_table.c.id).where(intents_table.c.code == code)
        return self._conn.execute(query).first() is not None


def _validate(data: IntentIn) -> tuple[str, int]:
    errors = []
    try:
        stall = normalize_stall_code(data.stall)
    except ValueError as exc:
        errors.append(FieldError("stall", str(exc)))
        stall = ""
    if type(data.amount) is not int or not 0 < data.amount <= MAX_AMOUNT:
        errors.append(
            FieldError("amount", f"số tiền nguyên đồng từ 1 đến {MAX_AMOUNT:,} / whole đồng, 1..{MAX_AMOUNT}")
        )
    expires_in = DEFAULT_EXPIRES_IN if data.expires_in is None else data.expires_in
    if not MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN:
        errors.append(FieldError("expires_in", f"seconds between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN}"))
    if data.note is not None and len(data.note) > MAX_NOTE:
        errors.append(FieldError("note", f"at most {MAX_NOTE} characters"))
    if errors:
        raise InvalidInputError(errors)
    return stall, expires_in


def create_intent(conn: Connection, data: IntentIn, *, now: dt.datetime | None = None) -> IntentOut:
    """Issue a payment intent for a stall (the caller commits).

    Raises:
        InvalidInputError: a bad stall code, amount, note or lifetime (each field named).
        NotFoundError: no such stall.
        ConflictError: the stall has no default account, or it cannot carry a dynamic QR.
    """
    stall_code, expires_in = _validate(data)
    now = now or utcnow()
    query = (
        sa.select(stalls.c.id, accounts_table.c.bank_bin, accounts_table.c.account_number)
        .select_from(stalls)
        .outerjoin(accounts_table, sa.and_(accounts_table.c.stall_id == stalls.c.id, accounts_table.c.is_default))
        .where(stalls.c.code == stall_code)
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"Không có sạp {data.stall!r} trong sổ / no stall {data.stall!r} in the registry")
    if row.account_number is None:
        raise ConflictError(f"Sạp {stall_code} chưa có tài khoản nhận tiền / stall {stall_code} has no account")
    code = references.new_code(taken=_TakenCodes(conn))
    content = transfer_content(code, data.note)
    payload = intent_payload(row.bank_bin, row.account_number, data.amount, content)
    expires_at = now + dt.timedelta(seconds=expires_in)
    conn.execute(
        sa.insert(intents_table).values(
            code=code,
            stall_id=row.id,
            amount=data.amount,
            paid_amount=0,
            state="open",
            note=data.note,
            payload=payload,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return IntentOut(
        code=code,
        stall=stall_code,
        amount=data.amount,
        paid=0,
        remaining=data.amount,
        state="open",
        note=data.note,
        content=content,
        payload=payload,
        image_url=intent_image_url(code),
        created_at=now,
        expires_at=expires_at,
    )


def _payments(conn: Connection, intent_id: int) -> list[PaymentOut]:
    r, j = receipts_table.c, journal_table.c
    query = (
        sa.select(
            r.journal_id,
            r.amount,
            r.kind,
            r.rule,
            r.occurred_at,
            r.flag,
            r.refund_due,
            j.provider,
            j.memo,
            j.counterparty_name,
        )
        .join(journal_table, j.id == r.journal_id)
        .where(r.intent_id == intent_id)
        .order_by(r.journal_id)
    )
    return [
        PaymentOut(
            journal_id=row.journal_id,
            amount=row.amount,
            kind=row.kind,
            rule=row.rule,
            occurred_at=row.occurred_at,
            provider=row.provider,
            memo=row.memo,
            payer_name=row.counterparty_name,
            flag=row.flag,
            refund_due=row.refund_due,
        )
        for row in conn.execute(query)
    ]


def find_intent_row(conn: Connection, ref: str) -> Any:
    """The stored intent for any spelling of its code (``p-cgh 5kmn7``), or :class:`NotFoundError`."""
    code = references.normalise_code(ref)
    i = intents_table.c
    query = (
        sa.select(
            i.id,
            i.code,
            stalls.c.code.label("stall"),
            i.amount,
            i.paid_amount,
            i.note,
            i.payload,
            i.created_at,
            i.expires_at,
        )
        .join(stalls, stalls.c.id == i.stall_id)
        .where(i.code == code)
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"Không có đơn thanh toán {ref!r} / no payment intent {ref!r}")
    return row


def get_intent(conn: Connection, ref: str, *, now: dt.datetime | None = None) -> IntentOut:
    """An intent by code with its state as of ``now`` and every payment applied to it.

    Raises:
        NotFoundError: no intent has that code.
    """
    row = find_intent_row(conn, ref)
    intent = Intent(code=row.code, stall=row.stall, amount=row.amount, expires_at=row.expires_at, paid=row.paid_amount)
    return IntentOut(
        code=row.code,
        stall=row.stall,
        amount=row.amount,
        paid=row.paid_amount,
        remaining=max(0, row.amount - row.paid_amount),
        state=intent_status(intent, now or utcnow()),
        note=row.note,
        content=transfer_content(row.code, row.note),
        payload=row.payload,
        image_url=intent_image_url(row.code),
        created_at=row.created_at,
        expires_at=row.expires_at,
        payments=_payments(conn, row.id),
    )
