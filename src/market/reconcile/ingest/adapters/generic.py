"""Our own signed format, for any bank or relay that is not one of the named providers.

Request: ``POST /webhooks/generic`` with ``Content-Type: application/json`` and the header
``X-Market-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>``, where the
secret is ``MARKET_GENERIC_WEBHOOK_SECRET``; ``t`` must be within 5 minutes of our clock. Body::

    {
      "id": "VCB-20250601-000123",            # required: your unique id; a retry sends the same id
      "amount": 50000,                        # required: whole đồng, positive
      "direction": "in",                      # required: "in" (credit) or "out" (debit)
      "memo": "PAB3K7QX9 chuyen tien",        # the transfer content as the bank shows it
      "transferred_at": "2025-06-01T09:15:42+07:00",  # required: ISO-8601 with its zone
      "account_number": "0123456789",         # our receiving account
      "bank_bin": "970436",                   # the receiving bank's BIN
      "bank_reference": "FT25152123456789",   # the bank's reference (FT..., trace)
      "virtual_account": null,
      "counterparty_name": "NGUYEN VAN A", "counterparty_account": "9876543210", "counterparty_bank": "970422"
    }

Unknown fields are ignored, so the format can grow without breaking senders. The answer to a
stored delivery is 200 ``{"success": true, "id": <journal id>, "created": <bool>}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from market.config import Settings
from market.reconcile.ingest.adapters.base import (
    MAX_DONG,
    Accepted,
    ForgedRequestError,
    MalformedRequestError,
    NotConfiguredError,
    StaleRequestError,
)
from market.reconcile.ingest.signatures import is_fresh, parse_timed_header, verify_generic
from market.reconcile.notification import Notification
from market.reconcile.reasons import OUTGOING_TRANSFER

__all__ = ["REPLAY_WINDOW_SECONDS", "GenericTransfer", "parse"]

REPLAY_WINDOW_SECONDS = 300

_Text = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
_Optional = Annotated[str, msgspec.Meta(max_length=512)] | None


class GenericTransfer(msgspec.Struct, frozen=True, kw_only=True):
    """The body of a generic webhook (see the module docstring)."""

    id: _Text
    amount: Annotated[int, msgspec.Meta(gt=0, le=MAX_DONG)]
    direction: Literal["in", "out"]
    transferred_at: dt.datetime
    memo: Annotated[str, msgspec.Meta(max_length=4096)] = ""
    account_number: _Optional = None
    bank_bin: _Optional = None
    bank_reference: _Optional = None
    virtual_account: _Optional = None
    counterparty_name: _Optional = None
    counterparty_account: _Optional = None
    counterparty_bank: _Optional = None


_DECODER = msgspec.json.Decoder(GenericTransfer)


def parse(body: bytes, headers: Mapping[str, str], settings: Settings, received_at: dt.datetime) -> Accepted:
    """Verify a generic delivery and turn it into a notification.

    Raises:
        NotConfiguredError: ``MARKET_GENERIC_WEBHOOK_SECRET`` is empty.
        ForgedRequestError: missing or wrong ``X-Market-Signature``.
        StaleRequestError: ``t`` is outside the 5-minute window.
        MalformedRequestError: not JSON or not the documented shape (the reason names the field).
    """
    secret = settings.generic_webhook_secret
    if not secret:
        raise NotConfiguredError("the generic webhook is not configured on this server (MARKET_GENERIC_WEBHOOK_SECRET)")
    parts = parse_timed_header(headers.get("x-market-signature", ""))
    if parts is None:
        raise ForgedRequestError("X-Market-Signature must look like t=<unix seconds>,v1=<hex>")
    timestamp, signature = parts
    if not verify_generic(secret, timestamp, body, signature):
        raise ForgedRequestError("the X-Market-Signature does not match the body")
    if not is_fresh(int(timestamp), received_at.timestamp(), REPLAY_WINDOW_SECONDS):
        raise StaleRequestError(
            f"the X-Market-Signature time is more than {REPLAY_WINDOW_SECONDS} s away from our clock"
        )
    try:
        transfer = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedRequestError(f"not a generic transfer: {exc}") from None
    if transfer.transferred_at.tzinfo is None:
        raise MalformedRequestError("transferred_at needs its time zone, e.g. 2025-06-01T09:15:42+07:00")
    try:
        transferred_at = transfer.transferred_at.astimezone(dt.UTC)
    except OverflowError:
        raise MalformedRequestError(f"transferred_at is out of range: {transfer.transferred_at}") from None
    signed = transfer.amount if transfer.direction == "in" else -transfer.amount
    notification = Notification(
        provider="generic",
        provider_txn_id=transfer.id,
        amount=signed,
        direction=transfer.direction,
        memo=transfer.memo,
        transferred_at=transferred_at,
        received_at=received_at,
        bank_reference=transfer.bank_reference or None,
        account_number=transfer.account_number or None,
        bank_bin=transfer.bank_bin or None,
        virtual_account=transfer.virtual_account or None,
        counterparty_name=transfer.counterparty_name or None,
        counterparty_account=transfer.counterparty_account or None,
        counterparty_bank=transfer.counterparty_bank or None,
    )
    return Accepted(
        notification=notification,
        auth="hmac-sha256",
        review_reason=OUTGOING_TRANSFER if transfer.direction == "out" else None,
    )
