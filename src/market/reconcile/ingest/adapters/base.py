"""What every provider adapter shares: the result type, the typed rejections, and field readers.

An adapter turns one raw request (body bytes + headers) into an :class:`Accepted` or raises a
:class:`RejectionError` subclass that says why. The web layer maps each rejection to a status
(forged or stale → 401, malformed → 400, not configured → 503); packages below the web layer
never speak HTTP.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
from collections.abc import Mapping
from typing import Any

import msgspec

from market.banks import find_bank
from market.reconcile.notification import Notification

__all__ = [
    "HEADERS_KEPT",
    "MAX_DONG",
    "VIETNAM",
    "Accepted",
    "ForgedRequestError",
    "MalformedRequestError",
    "NotConfiguredError",
    "RejectionError",
    "Scalar",
    "StaleRequestError",
    "bank_bin",
    "decode_object",
    "decode_object_noting_floats",
    "digest_id",
    "dong_value",
    "optional_text",
    "parse_bank_time",
    "required_text",
    "text_value",
    "whole_dong",
]

# Banks and providers write local times without a zone; Vietnam has been UTC+7 without DST since 1975.
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")
_VIETNAM_OFFSET = dt.timedelta(hours=7)
# Headers journalled beside the raw body: what proves where a delivery came from. Never the
# ``Authorization`` header: it carries a reusable credential (API key, bearer token).
HEADERS_KEPT = (
    "content-type",
    "user-agent",
    "x-sepay-timestamp",
    "x-sepay-signature",
    "x-casso-signature",
    "x-market-signature",
    "x-forwarded-for",
)


class RejectionError(Exception):
    """The request is not a notification we accept; ``str(rejection)`` says why in one sentence."""


class ForgedRequestError(RejectionError):
    """The signature or credential is missing or wrong."""


class StaleRequestError(RejectionError):
    """The signed timestamp is outside the replay window."""


class MalformedRequestError(RejectionError):
    """The body is not JSON, or not the shape this provider sends."""


class NotConfiguredError(RejectionError):
    """The provider's secret is not set, so nothing from it can be verified (and nothing is accepted)."""


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated delivery.

    Attributes:
        notification: the canonical notification, or ``None`` for a provider's test event
            (sent when the webhook URL is registered; answered 2xx, nothing to reconcile).
        auth: how the delivery proved itself, for the journal (``hmac-sha256``, ``apikey``, ...).
        review_reason: why a person must look at it (outgoing transfer, failed status...), if so.
    """

    notification: Notification | None
    auth: str
    review_reason: str | None = None


_DECODER = msgspec.json.Decoder()


def decode_object(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``.

    Raises:
        MalformedRequestError: the body is not JSON, or is JSON but not an object.
    """
    return _object_from(_DECODER, body)


def _object_from(decoder: msgspec.json.Decoder[Any], body: bytes) -> dict[str, Any]:
    try:
        value = decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedRequestError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedRequestError("the body must be a JSON object")
    return value


class _FloatWatch(threading.local):
    """Whether the watching decoder met a JSON float in this thread's last decode."""

    seen = False


_FLOATS = _FloatWatch()


def _noted_float(text: str) -> float:
    _FLOATS.seen = True
    return float(text)  # correctly rounded, as msgspec's own parse


# Called only for floats, which deliveries almost never hold: noting them costs nothing otherwise,
# where looking through every decoded body for one would cost on every delivery.
_WATCHING_DECODER = msgspec.json.Decoder(float_hook=_noted_float)


def decode_object_noting_floats(body: bytes) -> tuple[dict[str, Any], bool]:
    """:func:`decode_object`, and whether the JSON held a float anywhere.

    Raises:
        MalformedRequestError: the body is not JSON, or is JSON but not an object.
    """
    watch = _FLOATS
    watch.seen = False
    value = _object_from(_WATCHING_DECODER, body)
    return value, watch.seen


def optional_text(obj: Mapping[str, Any], key: str) -> str | None:
    """``obj[key]`` as stripped text; ``None`` when absent, null or blank.

    Raises:
        MalformedRequestError: the value is an object, a list or a boolean.
    """
    value = obj.get(key)
    if type(value) is str:  # nearly always: one call per field, not two
        return value.strip() or None
    return text_value(value, key)


# What a provider may send where we want text or a number: a typed field of this decodes in C and
# refuses objects, arrays and booleans with a message naming the field.
Scalar = int | float | str | None


def text_value(value: object, key: str) -> str | None:
    """``value`` (the field ``key``) as stripped text; ``None`` when null or blank.

    Raises:
        MalformedRequestError: the value is an object, a list or a boolean.
    """
    if value is None:
        return None
    if type(value) is str:
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedRequestError(f"{key} must be a string or a number")
    return str(value).strip() or None


def required_text(obj: Mapping[str, Any], key: str) -> str:
    """``obj[key]`` as non-empty text.

    Raises:
        MalformedRequestError: the value is missing, blank or not text/number.
    """
    text = optional_text(obj, key)
    if text is None:
        raise MalformedRequestError(f"{key} is required")
    return text


def whole_dong(obj: Mapping[str, Any], key: str) -> int:
    """``obj[key]`` as a whole number of đồng (``25000``, ``25000.0`` and ``"25000"`` all give 25000).

    Raises:
        MalformedRequestError: missing, not a number, fractional, zero (a transfer moves money), or
            beyond ``MAX_DONG``.
    """
    return dong_value(obj.get(key), key)


# Larger than any transfer (a million billion đồng), and far inside the journal's BIGINT: an
# amount past it is a malformed delivery (400), not a journal write that fails (503) forever.
MAX_DONG = 10**15


def dong_value(value: object, key: str) -> int:
    """``value`` (the field ``key``) as a whole number of đồng; see :func:`whole_dong`."""
    if type(value) is int and value and -MAX_DONG <= value <= MAX_DONG:
        return value
    if isinstance(value, str):
        try:
            value = float(value) if "." in value else int(value)
        except ValueError:
            raise MalformedRequestError(f"{key} must be a number of đồng, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedRequestError(f"{key} must be a number of đồng")
    if isinstance(value, float):
        if not value.is_integer():
            raise MalformedRequestError(f"{key} must be a whole number of đồng, got {value}")
        value = int(value)
    if value == 0:
        raise MalformedRequestError(f"{key} must not be zero")
    if abs(value) > MAX_DONG:
        raise MalformedRequestError(f"{key} is beyond any transfer: {value} đồng")
    return value


def parse_bank_time(text: str | None, key: str) -> dt.datetime:
    """A provider's transfer time in UTC: ``YYYY-MM-DD HH:MM:SS`` is Vietnam time, ISO-8601 with a zone is kept.

    Raises:
        MalformedRequestError: missing, not a date-time, or not a time UTC can hold.
    """
    if not text:
        raise MalformedRequestError(f"{key} is required")
    if len(text) == 19:  # "YYYY-MM-DD HH:MM:SS", what the providers send
        # Read as UTC ("Z": tzinfo is dt.UTC itself), then shifted back by Vietnam's fixed offset:
        # several times cheaper than a naive parse and .replace(tzinfo=).
        # Anything this does not take (a zone in 19 characters, an hour out of range) gets the
        # general parse below and its message.
        try:
            return dt.datetime.fromisoformat(text + "Z") - _VIETNAM_OFFSET
        except (ValueError, OverflowError):
            pass
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MalformedRequestError(f"{key} must be a date-time like 2025-06-01 09:15:42, got {text!r}") from None
    try:
        if parsed.tzinfo is None:
            # Vietnam time without DST: a fixed shift (cheaper than attaching the zone and converting).
            return (parsed - _VIETNAM_OFFSET).replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # the first hours of year 1 or the last of 9999: no such time in UTC
        raise MalformedRequestError(f"{key} is out of range: {text!r}") from None


@functools.lru_cache(maxsize=512)
def _bin_of(name: str) -> str | None:
    bank = find_bank(name)
    return bank.bin if bank else None


def bank_bin(name: str | None) -> str | None:
    """The BIN of the bank a provider names (code, short name or alias); ``None`` for none or one unknown.

    Cached: a provider names the same few banks in every delivery.
    """
    return _bin_of(name) if name else None


def digest_id(*parts: str) -> str:
    """A stable id for a notification whose provider gave none, so that its retries still dedupe."""
    return "sha256:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
