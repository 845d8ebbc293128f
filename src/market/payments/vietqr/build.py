"""Building a VietQR payload: every rule checked before anything is emitted."""

from __future__ import annotations

from binascii import crc_hqx

from market.payments.banks import KNOWN_BINS
from market.payments.crc import CRC_INIT
from market.payments.errors import ValidationError
from market.payments.tlv import LENGTH_TEXT
from market.payments.vietqr.fields import (
    MAX_AMOUNT,
    MOMO_BIN,
    MOMO_REFERENCE,
    SERVICE_ACCOUNT,
    SERVICE_CARD,
    SERVICES,
    VietQRRequest,
    account_problem,
    is_bin,
    normalize_text,
)
from market.payments.vietqr.prefixes import BUILT, prefix_text, remember


def _check_bin(bin_code: object, allow_unknown: bool) -> None:
    if type(bin_code) is not str:
        raise ValidationError("bin", "type", f"must be a string, got {type(bin_code).__name__}")
    if bin_code in KNOWN_BINS:
        return
    if not is_bin(bin_code):
        raise ValidationError("bin", "format", f"a BIN is 6 digits, got {bin_code!r}")
    if not allow_unknown:
        raise ValidationError(
            "bin",
            "unknown-bin",
            f"{bin_code} is not in the bank directory (set allow_unknown_bin to use it anyway)",
        )


def _check_target(account: object, service: object) -> None:
    if type(service) is not str or service not in SERVICES:
        raise ValidationError("service", "value", f"must be {SERVICE_ACCOUNT} or {SERVICE_CARD}, got {service!r}")
    if type(account) is not str:
        raise ValidationError("account", "type", f"must be a string, got {type(account).__name__}")
    problem = account_problem(account, str(service))
    if problem is not None:
        raise ValidationError("account", "format", problem)


def _amount_error(amount: object) -> ValidationError:
    if type(amount) is not int:
        return ValidationError("amount", "type", f"must be an integer number of đồng, got {type(amount).__name__}")
    return ValidationError("amount", "range", f"must be 1..{MAX_AMOUNT:,} đồng, got {amount:,}")


def _additional_field(request: VietQRRequest) -> str:
    """Tag 62 with a bill number and/or reference (and maybe content), or ``""`` if all are empty."""
    content, bill, reference = request.content, request.bill_number, request.reference
    if request.bin == MOMO_BIN:
        _check_momo_reference(reference)
    parts = []
    # Sub-objects in ID order, as NAPAS's own example (§6.1.3: 01 then 08) writes them.
    for tag, value, field in (("01", bill, "bill_number"), ("05", reference, "reference"), ("08", content, "content")):
        if value is not None:
            text = normalize_text(value, field=field)
            if text:
                parts.append(f"{tag}{LENGTH_TEXT[len(text)]}{text}")
    inner = "".join(parts)
    if len(inner) > 99:  # cannot happen with 3 x (4 + 25) = 87; guards future fields
        raise ValidationError("additional data", "length", f"tag 62 would hold {len(inner)} characters, max 99")
    return f"62{LENGTH_TEXT[len(inner)]}{inner}" if inner else ""


def _check_momo_reference(reference: str | None) -> None:
    if reference is None or not MOMO_REFERENCE.fullmatch(normalize_text(reference, field="reference")):
        raise ValidationError(
            "reference",
            "momo-reference",
            "MoMo (BIN 971025) needs the wallet's reference MOMOW2W + 8 digits (62/05) from its receive QR; "
            f"got {reference!r}",
        )


def build_vietqr(request: VietQRRequest) -> str:
    """Return the VietQR payload for ``request``; every rule is checked before anything is emitted.

    Static or dynamic follows the amount: with an amount the point of initiation is ``12``
    (one payment) and tag 54 holds the integer đồng; without one it is ``11`` and there is no
    tag 54 (vietqr.io and bank apps expect exactly this). Text fields (content in 62/08, bill
    number in 62/01, reference in 62/05) are folded to ASCII by :func:`normalize_text`:
    Vietnamese diacritics removed ("Thanh toán đơn" → "Thanh toan don"), whitespace runs
    collapsed to one space and trimmed, then printable ASCII only and at most 25 characters,
    or a :class:`ValidationError`; nothing is silently dropped or truncated. An empty text
    leaves its field out. MoMo (BIN 971025) requires the ``MOMOW2W`` + 8 digits reference.

    Args:
        request: the transfer target and optional amount and texts.

    Returns:
        The payload, ASCII, ending in the 4 upper-case hex digits of its CRC.

    Raises:
        ValidationError: a field breaks a rule; its ``field`` and ``rule`` say which.
    """
    bin_code = request.bin
    if type(bin_code) is not str or bin_code not in KNOWN_BINS:
        _check_bin(bin_code, request.allow_unknown_bin)
    account, service, amount = request.account, request.service, request.amount
    dynamic = amount is not None
    key = (bin_code, account, service, dynamic)
    try:
        prefix = BUILT.get(key)
    except TypeError:  # an unhashable account or service: reported by the check below
        prefix = None
    if prefix is None:
        _check_target(account, service)
        text = prefix_text(bin_code, account, service, dynamic)
        prefix = remember(BUILT, key, (text, crc_hqx(text.encode(), CRC_INIT)))
    head, state = prefix
    if dynamic:
        # bool is an int subclass and float is how money goes wrong: only a real int passes.
        if type(amount) is not int or not 0 < amount <= MAX_AMOUNT:
            raise _amount_error(amount)
        digits = str(amount)
        tail = f"54{LENGTH_TEXT[len(digits)]}{digits}5802VN"
    else:
        tail = "5802VN"
    content = request.content
    if request.bill_number is not None or request.reference is not None or bin_code == MOMO_BIN:
        tail += _additional_field(request)
    elif content is not None:
        # The common case, a content alone, inline: tag 62 holding only 08.
        content = normalize_text(content)
        if content:
            size = len(content)
            tail = f"{tail}62{LENGTH_TEXT[size + 4]}08{LENGTH_TEXT[size]}{content}"
    tail += "6304"
    # printf-style formatting is faster than an f-string here, and this is the hot path.
    return f"{head}{tail}{'%04X' % crc_hqx(tail.encode(), state)}"  # noqa: UP031


# ---------------------------------------------------------------------------------------------
# Parsing: helpers of the canonical fast path (the path itself opens parse_vietqr, at the end)
