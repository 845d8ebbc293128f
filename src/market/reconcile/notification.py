"""The canonical notification: what every provider adapter produces and the matching core consumes.

One bank credit (or debit) as we understand it, whichever provider told us about it. The raw
request is kept beside it in the journal; this Struct holds only what the rest of the system
reasons about, so the matching core can run on it without I/O.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

__all__ = ["Direction", "Notification", "Provider"]

Provider = Literal["payos", "sepay", "casso", "vietqr", "generic", "statement"]
Direction = Literal["in", "out"]


class Notification(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One transfer reported by a provider.

    Attributes:
        provider: who told us (``statement`` for lines imported from a bank statement).
        provider_txn_id: the provider's id of this notification; unique per provider, it is
            our idempotency key (a provider retrying sends the same id).
        bank_reference: the bank's own reference (FT…, NAPAS trace) when the provider gives it;
            the same credit seen through two providers shares it, which is how we spot the
            second copy.
        account_number: our receiving account the money moved on.
        bank_bin: the receiving bank's BIN, when known.
        virtual_account: the virtual account number credited, when the bank uses them.
        order_code: a structural key the provider carries for us (payOS ``orderCode``), if any.
        amount: signed whole đồng: positive for money in, negative for money out.
        direction: ``in`` or ``out``; always agrees with the sign of ``amount``.
        memo: the transfer content exactly as the provider delivered it (wrappers and all).
        transferred_at: when the bank says the transfer happened (UTC, timezone-aware).
        received_at: when we received the notification (UTC, timezone-aware).
        counterparty_name / counterparty_account / counterparty_bank: the other side, if given.
    """

    provider: Provider
    provider_txn_id: str
    amount: int
    direction: Direction
    memo: str
    transferred_at: dt.datetime
    received_at: dt.datetime
    bank_reference: str | None = None
    account_number: str | None = None
    bank_bin: str | None = None
    virtual_account: str | None = None
    order_code: str | None = None
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    counterparty_bank: str | None = None

    def __post_init__(self) -> None:
        # The sign and the direction are two views of one fact; a mismatch is an adapter bug.
        if (self.amount > 0) != (self.direction == "in") or self.amount == 0:
            raise ValueError(f"amount {self.amount} does not agree with direction {self.direction!r}")
