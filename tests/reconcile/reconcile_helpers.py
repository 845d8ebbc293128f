"""Builders shared by the reconcile integration tests: a small registry, journal rows, signed webhooks."""

import datetime as dt
import json
import time

import sqlalchemy as sa

from market.merchants import service
from market.merchants.schemas import AccountIn, HolderIn, StallIn
from market.reconcile.ingest.journal import Incoming, write_batch
from market.reconcile.ingest.signatures import generic_signature
from market.reconcile.ledger.intents import IntentIn, create_intent
from market.reconcile.notification import Notification

SECRET = "generic-test-secret"
# stall → (bank, receiving account)
STALLS = {
    "A-01": ("Vietcombank", "0100000001"),
    "A-02": ("Agribank", "7300205000002"),
    "B-07": ("BIDV", "21410000000007"),
}
ACCOUNT = {stall: account for stall, (_, account) in STALLS.items()}
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)


def register(engine) -> None:
    with engine.begin() as conn:
        for code, (bank, account) in STALLS.items():
            service.create_stall(
                conn,
                StallIn(
                    code=code,
                    holder=HolderIn(full_name=f"Chủ sạp {code}"),
                    accounts=[AccountIn(bank=bank, account_number=account, is_default=True)],
                ),
                "test",
            )


def intent(engine, stall: str, amount: int, *, expires_in: int = 900, now: dt.datetime = T0, note=None) -> str:
    with engine.begin() as conn:
        return create_intent(conn, IntentIn(stall=stall, amount=amount, expires_in=expires_in, note=note), now=now).code


def note(
    txn: str,
    amount: int,
    memo: str = "",
    *,
    stall: str | None = "A-01",
    at: dt.datetime | None = None,
    provider: str = "generic",
    account: str | None = None,
    payer: str | None = None,
    **extra,
) -> Notification:
    return Notification(
        provider=provider,
        provider_txn_id=txn,
        amount=amount,
        direction="in" if amount > 0 else "out",
        memo=memo,
        transferred_at=at or T0 + dt.timedelta(minutes=1),
        received_at=at or T0 + dt.timedelta(minutes=1),
        account_number=account or (ACCOUNT[stall] if stall else None),
        counterparty_account=payer,
        counterparty_name="NGUYEN VAN A" if payer else None,
        **extra,
    )


def journal(engine, *notifications: Notification) -> list[int]:
    """Journal notifications as ingest does (outgoing ones as ``review``, like every adapter)."""
    items = [
        Incoming(
            notification=n,
            raw_body=b"{}",
            raw_headers={},
            auth="test",
            review_reason="outgoing transfer" if n.direction == "out" else None,
        )
        for n in notifications
    ]
    with engine.begin() as conn:
        return [stored.id for stored in write_batch(conn, items)]


def signed_generic(
    txn: str, amount: int, memo: str, account: str, *, direction: str = "in", **extra
) -> tuple[bytes, dict]:
    body = json.dumps(
        {
            "id": txn,
            "amount": amount,
            "direction": direction,
            "memo": memo,
            "transferred_at": dt.datetime.now(dt.UTC).isoformat(),
            "account_number": account,
            **extra,
        }
    ).encode()
    timestamp = str(int(time.time()))
    signature = generic_signature(SECRET, timestamp, body)
    return body, {"X-Market-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}


def ledger(engine) -> dict:
    """Everything the driver writes, in a comparable form (ids of receipts replaced by journal ids)."""
    with engine.connect() as conn:
        receipts = conn.execute(
            sa.text(
                "SELECT r.journal_id, s.code AS stall, i.code AS intent, r.amount, r.kind, r.rule, r.local_day, "
                "o.journal_id AS reverses, r.is_reversed, r.flag, r.refund_due, r.reversed_amount "
                "FROM receipts r JOIN stalls s ON s.id = r.stall_id LEFT JOIN payment_intents i ON i.id = r.intent_id "
                "LEFT JOIN receipts o ON o.id = r.reverses_id ORDER BY r.journal_id"
            )
        ).all()
        days = conn.execute(
            sa.text(
                "SELECT s.code, d.day, d.receipts, d.value FROM stall_days d JOIN stalls s ON s.id = d.stall_id "
                "ORDER BY s.code, d.day"
            )
        ).all()
        intents = conn.execute(sa.text("SELECT code, paid_amount, state FROM payment_intents ORDER BY code")).all()
        reviews = conn.execute(
            sa.text("SELECT journal_id, reason, resolution FROM review_items ORDER BY journal_id")
        ).all()
        statuses = conn.execute(sa.text("SELECT id, status FROM notification_journal ORDER BY id")).all()
    return {
        "receipts": [tuple(r) for r in receipts],
        "days": [tuple(d) for d in days],
        "intents": [tuple(i) for i in intents],
        "reviews": [tuple(r) for r in reviews],
        "statuses": [tuple(s) for s in statuses],
    }


def receipts_of(engine) -> dict[int, tuple]:
    """journal id → (stall, intent, amount, kind, flag)."""
    return {r[0]: (r[1], r[2], r[3], r[4], r[9]) for r in ledger(engine)["receipts"]}
