"""Casso webhooks v2: ``X-Casso-Signature: t=<ms>,v1=<hex HMAC-SHA512>``.

The signature covers ``t + "." + the whole body re-serialised with keys sorted``; the official
samples disagree on escaping, so every plausible form is tried (``signatures.casso_candidates``)
and the one that matched is journalled. Casso's test call (``id`` 0, reference
``MA_GIAO_DICH_THU_NGHIEM``) is verified and answered, not stored. Legacy v1 (``Secure-Token``,
no signature) is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from market.config import Settings
from market.reconcile.ingest.adapters.base import (
    Accepted,
    ForgedRequestError,
    MalformedRequestError,
    NotConfiguredError,
    StaleRequestError,
    bank_bin,
    decode_object_noting_floats,
    optional_text,
    parse_bank_time,
    required_text,
    whole_dong,
)
from market.reconcile.ingest.signatures import is_fresh, parse_timed_header, verify_casso
from market.reconcile.notification import Notification
from market.reconcile.reasons import OUTGOING_TRANSFER

__all__ = ["REPLAY_WINDOW_SECONDS", "parse"]

# Casso documents no window; we use SePay's 5 minutes. A retry that reuses an old ``t`` would be
# refused, so watch for 401s in Casso's delivery log after go-live (Casso does not say whether a
# retry is signed anew).
REPLAY_WINDOW_SECONDS = 300
_TEST_REFERENCE = "MA_GIAO_DICH_THU_NGHIEM"


def parse(body: bytes, headers: Mapping[str, str], settings: Settings, received_at: dt.datetime) -> Accepted:
    """Verify a Casso v2 delivery and turn it into a notification.

    Raises:
        NotConfiguredError: ``MARKET_CASSO_SECRET`` is empty.
        ForgedRequestError: missing, unparseable or wrong ``X-Casso-Signature``.
        StaleRequestError: ``t`` is outside the replay window.
        MalformedRequestError: not JSON, or no ``data`` object with ``id``, ``amount``...
    """
    secret = settings.casso_secret
    if not secret:
        raise NotConfiguredError("Casso is not configured on this server (MARKET_CASSO_SECRET is empty)")
    parts = parse_timed_header(headers.get("x-casso-signature", ""))
    if parts is None:
        raise ForgedRequestError("X-Casso-Signature must look like t=<milliseconds>,v1=<hex>")
    timestamp, signature = parts
    envelope, floats = decode_object_noting_floats(body)
    form = verify_casso(secret, timestamp, envelope, signature, floats=floats)
    if form is None:
        raise ForgedRequestError("the X-Casso-Signature does not match the body")
    if not is_fresh(int(timestamp) / 1000, received_at.timestamp(), REPLAY_WINDOW_SECONDS):
        raise StaleRequestError(
            f"the X-Casso-Signature time is more than {REPLAY_WINDOW_SECONDS} s away from our clock"
        )
    auth = f"hmac-sha512:{form}"
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise MalformedRequestError("a Casso v2 webhook has one transaction in a 'data' object")
    if data.get("reference") == _TEST_REFERENCE:
        return Accepted(notification=None, auth=auth)
    amount = whole_dong(data, "amount")  # Casso signs the amount: negative for money out
    bank_name = optional_text(data, "bankAbbreviation") or optional_text(data, "bankName")
    notification = Notification(
        provider="casso",
        provider_txn_id=required_text(data, "id"),
        amount=amount,
        direction="in" if amount > 0 else "out",
        memo=optional_text(data, "description") or "",
        transferred_at=parse_bank_time(optional_text(data, "transactionDateTime"), "data.transactionDateTime"),
        received_at=received_at,
        bank_reference=optional_text(data, "reference"),
        account_number=optional_text(data, "accountNumber"),
        bank_bin=bank_bin(bank_name),
        virtual_account=optional_text(data, "virtualAccountNumber"),
        counterparty_name=optional_text(data, "counterAccountName"),
        counterparty_account=optional_text(data, "counterAccountNumber"),
        counterparty_bank=optional_text(data, "counterAccountBankName") or optional_text(data, "counterAccountBankId"),
    )
    return Accepted(notification=notification, auth=auth, review_reason=OUTGOING_TRANSFER if amount < 0 else None)
