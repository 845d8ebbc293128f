"""SePay webhooks (webhooks.md §2): HMAC-SHA256 over ``timestamp.raw_body``, or an API key.

Two of SePay's four authentication modes are accepted, each only when its secret is set:
HMAC (``X-SePay-Timestamp`` + ``X-SePay-Signature``, 5-minute window, ``MARKET_SEPAY_WEBHOOK_SECRET``)
and API key (``Authorization: Apikey <key>``, ``MARKET_SEPAY_API_KEY``). "None" and OAuth are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from market.config import Settings
from market.reconcile.adapters.base import (
    Accepted,
    ForgedRequestError,
    MalformedRequestError,
    NotConfiguredError,
    StaleRequestError,
    bank_bin,
    decode_object,
    optional_text,
    parse_bank_time,
    required_text,
    whole_dong,
)
from market.reconcile.notification import Notification
from market.reconcile.signatures import constant_time_equal, is_fresh, verify_sepay

__all__ = ["REPLAY_WINDOW_SECONDS", "parse"]

# SePay's security checklist: refuse timestamps more than 5 minutes off (webhooks.md §2.2 step 4).
REPLAY_WINDOW_SECONDS = 300


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
    event = decode_object(body)
    transfer_type = optional_text(event, "transferType")
    if transfer_type not in ("in", "out"):
        raise MalformedRequestError("transferType must be 'in' or 'out'")
    # SePay sends the amount unsigned and the direction apart.
    amount = abs(whole_dong(event, "transferAmount"))
    gateway = optional_text(event, "gateway")
    notification = Notification(
        provider="sepay",
        provider_txn_id=required_text(event, "id"),
        amount=amount if transfer_type == "in" else -amount,
        direction="in" if transfer_type == "in" else "out",
        # ``content`` is the memo as the bank renders it; ``description`` the raw bank message around it.
        memo=optional_text(event, "content") or optional_text(event, "description") or "",
        transferred_at=parse_bank_time(optional_text(event, "transactionDate"), "transactionDate"),
        received_at=received_at,
        bank_reference=optional_text(event, "referenceCode"),
        account_number=optional_text(event, "accountNumber"),
        bank_bin=bank_bin(gateway),
        virtual_account=optional_text(event, "subAccount"),
        order_code=optional_text(event, "code"),
    )
    review = "outgoing transfer" if transfer_type == "out" else None
    return Accepted(notification=notification, auth=auth, review_reason=review)
