"""VietQR.vn transaction sync: we expose a token endpoint and a sync endpoint.

VietQR.vn first trades ``Authorization: Basic base64(username:password)`` (our
``MARKET_VIETQR_USERNAME`` / ``MARKET_VIETQR_PASSWORD``) for a bearer token valid 300 s, then posts
each transaction with ``Authorization: Bearer <token>``. Real deliveries spell keys in lower case
(``transactionid``, ``referencenumber``), the docs in camelCase, so keys are read case-insensitively.
The token is ours (``signatures.sign_token``, keyed by ``MARKET_SECRET_KEY``): no JWT library needed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping

import msgspec

from market.config import Settings
from market.reconcile.ingest.adapters.base import (
    Accepted,
    ForgedRequestError,
    MalformedRequestError,
    NotConfiguredError,
    decode_object,
    optional_text,
    parse_bank_time,
    required_text,
    whole_dong,
)
from market.reconcile.ingest.signatures import constant_time_equal, sign_token, verify_token
from market.reconcile.notification import Notification
from market.reconcile.reasons import OUTGOING_TRANSFER

__all__ = ["TOKEN_SECONDS", "Token", "issue_token", "parse"]

TOKEN_SECONDS = 300  # VietQR.vn's documented expires_in


class Token(msgspec.Struct, frozen=True):
    """The answer of ``token_generate``, field names as VietQR.vn reads them."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the token type, not a secret
    expires_in: int = TOKEN_SECONDS


def _credentials(settings: Settings) -> tuple[str, str]:
    username, password = settings.vietqr_username, settings.vietqr_password
    if not username or not password:
        raise NotConfiguredError(
            "VietQR.vn is not configured on this server (MARKET_VIETQR_USERNAME / MARKET_VIETQR_PASSWORD are empty)"
        )
    return username, password


def issue_token(authorization: str, settings: Settings, now: dt.datetime) -> Token:
    """Check VietQR.vn's Basic credentials and issue a bearer token valid :data:`TOKEN_SECONDS`.

    Raises:
        NotConfiguredError: the VietQR.vn credentials are not set.
        ForgedRequestError: no Basic credentials, or wrong ones.
    """
    username, password = _credentials(settings)
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise ForgedRequestError("token_generate needs Authorization: Basic base64(username:password)")
    try:
        given_user, sep, given_password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ForgedRequestError("the Basic credentials are not valid base64") from None
    # Both compared, always, so the timing does not tell which one was wrong.
    user_ok = constant_time_equal(username, given_user)
    password_ok = constant_time_equal(password, given_password)
    if not (sep and user_ok and password_ok):
        raise ForgedRequestError("wrong VietQR.vn username or password")
    expires = int(now.timestamp()) + TOKEN_SECONDS
    return Token(access_token=sign_token(settings.secret_key, username, expires))


def _transaction_time(value: object) -> dt.datetime:
    # Epoch milliseconds as a number or digit string; otherwise a date-time text.
    text = str(value).strip() if value is not None else ""
    if (isinstance(value, int | float) and not isinstance(value, bool)) or text.isdigit():
        try:
            return dt.datetime.fromtimestamp(int(float(text)) / 1000, dt.UTC)
        except (OverflowError, ValueError, OSError):
            raise MalformedRequestError(f"transactionTime is not a time in milliseconds: {text!r}") from None
    return parse_bank_time(text or None, "transactionTime")


def parse(body: bytes, headers: Mapping[str, str], settings: Settings, received_at: dt.datetime) -> Accepted:
    """Check the bearer token and turn one VietQR.vn transaction into a notification.

    Raises:
        NotConfiguredError: the VietQR.vn credentials are not set.
        ForgedRequestError: no bearer token, or one we did not issue or that has expired.
        MalformedRequestError: not JSON, or missing ``transactionId``/``amount``/``transType``...
    """
    username, _ = _credentials(settings)
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not verify_token(settings.secret_key, token, received_at.timestamp(), [username]):
        raise ForgedRequestError(
            "the bearer token is missing, invalid or expired; get one from /vietqr/api/token_generate"
        )
    event = {key.lower(): value for key, value in decode_object(body).items()}
    trans_type = (optional_text(event, "transtype") or "").upper()
    if trans_type not in ("C", "D"):
        raise MalformedRequestError("transType must be 'C' (credit) or 'D' (debit)")
    amount = abs(whole_dong(event, "amount"))
    reference = optional_text(event, "referencenumber")
    notification = Notification(
        provider="vietqr",
        provider_txn_id=optional_text(event, "transactionid") or required_text(event, "referencenumber"),
        amount=amount if trans_type == "C" else -amount,
        direction="in" if trans_type == "C" else "out",
        memo=optional_text(event, "content") or "",
        transferred_at=_transaction_time(event.get("transactiontime")),
        received_at=received_at,
        bank_reference=reference,
        account_number=optional_text(event, "bankaccount"),
        # Empty when the memo matched no VietQR.vn order.
        order_code=optional_text(event, "orderid"),
    )
    return Accepted(
        notification=notification, auth="bearer", review_reason=OUTGOING_TRANSFER if trans_type == "D" else None
    )
