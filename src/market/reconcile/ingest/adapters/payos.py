"""payOS webhooks: the signature is inside the body and covers the sorted ``data`` fields.

The signature is computed over the raw ``data`` object exactly as it arrived, so a field payOS
adds later is covered and does not break verification. payOS sends a test event when the URL is
registered (``orderCode`` 123, ``description`` ``VQRIO123``); it is verified and answered, not stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from market.config import Settings
from market.reconcile.ingest.adapters.base import (
    Accepted,
    ForgedRequestError,
    MalformedRequestError,
    NotConfiguredError,
    decode_object,
    digest_id,
    optional_text,
    parse_bank_time,
    whole_dong,
)
from market.reconcile.ingest.signatures import payos_canonical, verify_payos
from market.reconcile.notification import Notification
from market.reconcile.reasons import OUTGOING_TRANSFER

__all__ = ["parse"]

_TEST_DESCRIPTIONS = frozenset({"VQRIO123", "Ma giao dich thu nghiem"})
_TEST_REFERENCE = "TF230204212323"


def _is_test_event(data: Mapping[str, Any]) -> bool:
    return data.get("orderCode") == 123 and (
        data.get("description") in _TEST_DESCRIPTIONS or data.get("reference") == _TEST_REFERENCE
    )


def parse(body: bytes, headers: Mapping[str, str], settings: Settings, received_at: dt.datetime) -> Accepted:
    """Verify a payOS delivery and turn it into a notification.

    Raises:
        NotConfiguredError: ``MARKET_PAYOS_CHECKSUM_KEY`` is empty.
        MalformedRequestError: not JSON, or no ``data`` object / ``signature`` string.
        ForgedRequestError: the signature does not match.
    """
    del headers  # payOS signs inside the body; no header carries anything we check
    key = settings.payos_checksum_key
    if not key:
        raise NotConfiguredError("payOS is not configured on this server (MARKET_PAYOS_CHECKSUM_KEY is empty)")
    envelope = decode_object(body)
    data, signature = envelope.get("data"), envelope.get("signature")
    if not isinstance(data, dict) or not isinstance(signature, str):
        raise MalformedRequestError("a payOS webhook has a 'data' object and a 'signature' string")
    if not verify_payos(key, data, signature):
        raise ForgedRequestError("the payOS signature does not match the data")
    if _is_test_event(data):
        return Accepted(notification=None, auth="hmac-sha256")
    amount = whole_dong(data, "amount")
    reference = optional_text(data, "reference")
    status = optional_text(data, "code")
    review = None
    if status != "00":
        review = f"payOS reports status {status or 'missing'} ({optional_text(data, 'desc') or 'no description'})"
    elif amount < 0:
        review = OUTGOING_TRANSFER
    notification = Notification(
        provider="payos",
        # One payment link can be settled by several transfers; each has its own bank reference.
        provider_txn_id=reference or digest_id(payos_canonical(data)),
        amount=amount,
        direction="in" if amount > 0 else "out",
        memo=optional_text(data, "description") or "",
        transferred_at=parse_bank_time(optional_text(data, "transactionDateTime"), "data.transactionDateTime"),
        received_at=received_at,
        bank_reference=reference,
        account_number=optional_text(data, "accountNumber"),
        virtual_account=optional_text(data, "virtualAccountNumber"),
        order_code=optional_text(data, "orderCode"),
        counterparty_name=optional_text(data, "counterAccountName"),
        counterparty_account=optional_text(data, "counterAccountNumber"),
        counterparty_bank=optional_text(data, "counterAccountBankName") or optional_text(data, "counterAccountBankId"),
    )
    return Accepted(notification=notification, auth="hmac-sha256", review_reason=review)
