"""SePay webhooks: HMAC-SHA256 over ``timestamp.raw_body``, or an API key.

Two of SePay's four authentication modes are accepted, each only when its secret is set:
HMAC (``X-SePay-Timestamp`` + ``X-SePay-Signature``, 5-minute window, ``MARKET_SEPAY_WEBHOOK_SECRET``)
and API key (``Authorization: Apikey <key>``, ``MARKET_SEPAY_API_KEY``). "None" and OAuth are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import msgspec

from market.config import Settings
from market.reconcile.ingest.adapters.base import (
    Accepted,
    ForgedRequestError,
    MalformedRequestError,
    NotConfiguredError,
    Scalar,
    StaleRequestError,
    bank_bin,
    dong_value,
    parse_bank_time,
    text_value,
)
from market.reconcile.ingest.signatures import constant_time_equal, is_fresh, verify_sepay
from market.reconcile.notification import Notification
from market.reconcile.reasons import OUTGOING_TRANSFER

__all__ = ["REPLAY_WINDOW_SECONDS", "parse"]

# SePay's security checklist: refuse timestamps more than 5 minutes off.
REPLAY_WINDOW_SECONDS = 300


class _Event(msgspec.Struct, kw_only=True, gc=False):
    """The fields of a SePay delivery we read; others are ignored.

    Decoded straight into this in C: a dict and a lookup-and-check per field cost twice as much.
    Each may come as text or number (SePay's ``id`` is a number, a bank's ``code`` may be either).
    """

    id: Scalar = None
    gateway: Scalar = None
    transactionDate: Scalar = None  # noqa: N815 - SePay's names
    accountNumber: Scalar = None  # noqa: N815
    code: Scalar = None
    content: Scalar = None
    transferType: Scalar = None  # noqa: N815
    transferAmount: Scalar = None  # noqa: N815
    subAccount: Scalar = None  # noqa: N815
    referenceCode: Scalar = None  # noqa: N815
    description: Scalar = None


_DECODER = msgspec.json.Decoder(_Event)


def _authenticate(body: bytes, headers: Mapping[str, str], settings: Settings, now: dt.datetime) -> str:
    secret, api_key = settings.sepay_webhook_secret, settings.sepay_api_key
    if not secret and not api_key:
        raise NotConfiguredError(
            "SePay is not configured on this server (MARKET_SEPAY_WEBHOOK_SECRET and MARKET_SEPAY_API_KEY are empty)"
        )
    signature = headers.get("x-sepay-signature")
    if secret and signature is not None:
        timestamp = headers.get("x-sepay-timestamp", "").strip()
        if not timestamp.isdigit():
            raise ForgedRequestError("X-SePay-Timestamp is missing or not a number of seconds")
        if not verify_sepay(secret, timestamp, body, signature):
            raise ForgedRequestError("the X-SePay-Signature does not match the body")
        if not is_fresh(int(timestamp), now.timestamp(), REPLAY_WINDOW_SECONDS):
            raise StaleRequestError(f"X-SePay-Timestamp is more than {REPLAY_WINDOW_SECONDS} s away from our clock")
        return "hmac-sha256"
    scheme, _, credential = headers.get("authorization", "").strip().partition(" ")
    if api_key and scheme.lower() == "apikey":
        if not constant_time_equal(api_key, credential.strip()):
            raise ForgedRequestError("the SePay API key is wrong")
        return "apikey"
    expected = " or ".join(
        name for name, on in (("X-SePay-Signature", secret), ("Authorization: Apikey", api_key)) if on
    )
    raise ForgedRequestError(f"SePay deliveries must carry {expected}")


def parse(body: bytes, headers: Mapping[str, str], settings: Settings, received_at: dt.datetime) -> Accepted:
    """Authenticate a SePay delivery and turn it into a notification.

    Raises:
        NotConfiguredError: neither SePay secret is set.
        ForgedRequestError: missing or wrong signature or API key.
        StaleRequestError: the signed timestamp is outside the 5-minute window.
        MalformedRequestError: not JSON, or missing ``id``, ``transferAmount``, ``transferType``...
    """
    auth = _authenticate(body, headers, settings, received_at)
    try:
        event = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedRequestError(f"not a SePay transaction: {exc}") from None
    transfer_type = text_value(event.transferType, "transferType")
    if transfer_type not in ("in", "out"):
        raise MalformedRequestError("transferType must be 'in' or 'out'")
    # SePay sends the amount unsigned and the direction apart.
    amount = abs(dong_value(event.transferAmount, "transferAmount"))
    provider_txn_id = text_value(event.id, "id")
    if provider_txn_id is None:
        raise MalformedRequestError("id is required")
    notification = Notification(
        provider="sepay",
        provider_txn_id=provider_txn_id,
        amount=amount if transfer_type == "in" else -amount,
        direction="in" if transfer_type == "in" else "out",
        memo=text_value(event.content, "content") or text_value(event.description, "description") or "",
        transferred_at=parse_bank_time(text_value(event.transactionDate, "transactionDate"), "transactionDate"),
        received_at=received_at,
        bank_reference=text_value(event.referenceCode, "referenceCode"),
        account_number=text_value(event.accountNumber, "accountNumber"),
        bank_bin=bank_bin(text_value(event.gateway, "gateway")),
        virtual_account=text_value(event.subAccount, "subAccount"),
        order_code=text_value(event.code, "code"),
    )
    review = OUTGOING_TRANSFER if transfer_type == "out" else None
    return Accepted(notification=notification, auth=auth, review_reason=review)
