"""Reading a VietQR payload: the canonical fast path, and the strict general parser behind it."""

from __future__ import annotations

import re
from binascii import crc_hqx

from market.payments.banks import bank_by_bin
from market.payments.crc import CRC_INIT
from market.payments.errors import CRCError, NotVietQRError, ParseError
from market.payments.tlv import LENGTHS, TLVField, decode_tlv
from market.payments.vietqr.fields import (
    MAX_ACCOUNT,
    MAX_AMOUNT,
    MAX_TEXT,
    NAPAS_GUID,
    SERVICE_ACCOUNT,
    SERVICE_CARD,
    SERVICES,
    VNPAY_GUID,
    ParsedVietQR,
    Service,
    account_problem,
    is_bin,
)
from market.payments.vietqr.prefixes import READ, learn_prefix

# Header lookups for the canonical parser: one slice and one dict probe check IDs and their
# lengths at once. "54LL" -> LL for amounts of 1-9 digits (the largest allowed has 9);
# "5802VN62LL08ll" -> ll: the country code, then a tag 62 holding only a content of 1-25 characters.
_ACCOUNT_SIZES = {f"{n:02d}": n for n in range(1, MAX_ACCOUNT + 1)}
_AMOUNT_HEADERS = {f"54{n:02d}": n for n in range(1, 10)}
_CONTENT_HEADERS = {f"5802VN62{n + 4:02d}08{n:02d}": n for n in range(1, MAX_TEXT + 1)}
_CRC_HEX = re.compile(r"[0-9A-Fa-f]{4}")
_SERVICE_CODE = re.compile(r"[0-9A-Z]{1,10}")
_NAMES = {
    "00": "payload format indicator",
    "01": "point of initiation method",
    "38": "merchant account information",
    "38/00": "GUID",
    "38/01": "beneficiary organisation",
    "38/01/00": "BIN",
    "38/01/01": "account number",
    "38/02": "service code",
    "52": "merchant category code",
    "53": "currency",
    "54": "amount",
    "55": "tip or convenience fee indicator",
    "56": "fixed fee",
    "57": "percentage fee",
    "58": "country code",
    "59": "merchant name",
    "60": "merchant city",
    "61": "postal code",
    "62": "additional data",
    "62/01": "bill number",
    "62/05": "reference label",
    "62/08": "purpose of transaction",
    "62/09": "additional consumer data request",
    "63": "CRC",
    "64": "merchant information - language template",
}
# Root objects with a fixed or maximum length that VietQR transfers do not use but may carry.
_ROOT_MAX = {"52": 4, "55": 2, "56": 13, "57": 5, "59": 25, "60": 15, "61": 10}


def _split_additional(inner: str) -> tuple[str | None, str | None, str | None] | None:
    """(bill, reference, content) from a canonical tag-62 value, or ``None`` if not canonical."""
    bill = reference = content = None
    last = ""
    i, end = 0, len(inner)
    while i < end:
        tag = inner[i : i + 2]
        size = LENGTHS.get(inner[i + 2 : i + 4])
        # Canonical: only 01, 05, 08, each once, in ID order, each 1..25 characters.
        if size is None or size > MAX_TEXT or tag <= last:
            return None
        value_end = i + 4 + size
        if value_end > end:
            return None
        if tag == "08":
            content = inner[i + 4 : value_end]
        elif tag == "01":
            bill = inner[i + 4 : value_end]
        elif tag == "05":
            reference = inner[i + 4 : value_end]
        else:
            return None
        last = tag
        i = value_end
    if not inner.isprintable():
        return None
    return bill, reference, content


def _label(path: str) -> str:
    """A field as errors name it: the tag path and, when known, what it is ("38/01/01 (account number)")."""
    name = _NAMES.get(path)
    if name is None and len(path) == 2 and "02" <= path <= "51":
        name = "merchant account information"
    return f"{path} ({name})" if name else path


def _error(path: str, rule: str, message: str, position: int) -> ParseError:
    return ParseError(_label(path), rule, message, position=position)


def _decode_root(s: str) -> dict[str, TLVField]:
    root = decode_tlv(s, stop_after="63")
    crc = root.get("63")
    if crc is None:
        raise _error("63", "mandatory", "the CRC (63) is missing: the payload is cut short", len(s))
    if crc.end != len(s):
        raise _error(
            "63", "trailing-data", f"{len(s) - crc.end} characters follow the CRC, which must be last", crc.end
        )
    return root


def _check_crc(s: str, crc: TLVField) -> None:
    if len(crc.value) != 4:
        raise CRCError(_label("63"), "length", "the CRC has 4 hex digits", position=crc.position + 2)
    if not _CRC_HEX.fullmatch(crc.value):
        raise CRCError(_label("63"), "format", f"{crc.value!r} is not 4 hex digits", position=crc.value_position)
    # UTF-8 like every implementation; "surrogatepass" so that a lone surrogate (possible in a
    # Python str, e.g. from JSON) gives a CRC mismatch or a charset error, never UnicodeEncodeError.
    expected = "%04X" % crc_hqx(s[: crc.value_position].encode("utf-8", "surrogatepass"), CRC_INIT)  # noqa: UP031
    if crc.value.upper() != expected:
        raise CRCError(
            _label("63"),
            "crc",
            f"CRC {crc.value} does not match the content (expected {expected}): the payload was mistyped, "
            "cut or altered",
            position=crc.value_position,
        )


def _guid(s: str, field: TLVField) -> str | None:
    """The GUID (sub-ID 00) of a merchant-account template, or ``None`` if it has none."""
    try:
        sub = decode_tlv(s, field.value_position, field.end, path=f"{field.tag}/")
    except ParseError:
        return None
    guid = sub.get("00")
    return None if guid is None else guid.value


def _napas_template(s: str, root: dict[str, TLVField]) -> dict[str, TLVField]:
    """The decoded tag 38 of a NAPAS payload; otherwise say what kind of payload this is."""
    field = root.get("38")
    if field is not None:
        sub = decode_tlv(s, field.value_position, field.end, path="38/")
        guid = sub.get("00")
        if guid is None:
            raise _error("38/00", "mandatory", "the NAPAS GUID (38/00) is missing", field.value_position)
        if guid.value != NAPAS_GUID:
            raise NotVietQRError(
                _label("38/00"),
                "emv-other",
                f"tag 38 belongs to network {guid.value!r}, not NAPAS ({NAPAS_GUID}): not a VietQR transfer",
                position=guid.value_position,
            )
        return sub
    others = [f for tag, f in root.items() if "02" <= tag <= "51"]
    for other in others:
        if _guid(s, other) == VNPAY_GUID:
            raise NotVietQRError(
                _label(other.tag),
                "vnpay-qr",
                f"this is a VNPAY-QR merchant code (tag {other.tag}, GUID {VNPAY_GUID}), not a VietQR transfer; "
                "bank apps pay it through VNPAY",
                position=other.position,
            )
    if others:
        first = others[0]
        raise NotVietQRError(
            _label(first.tag),
            "emv-other",
            f"this is an EMV merchant code of network {_guid(s, first)!r} (tag {first.tag}), "
            f"not a VietQR transfer (tag 38, GUID {NAPAS_GUID})",
            position=first.position,
        )
    raise _error("38", "mandatory", "merchant account information (38) is missing: not a VietQR", len(s) - 8)


def _check_charset(s: str, root: dict[str, TLVField]) -> None:
    if s.isascii() and s.isprintable():
        return
    index = next(i for i, c in enumerate(s) if not (" " <= c <= "~"))
    tag = next((f.tag for f in root.values() if f.position <= index < f.end), "payload")
    raise _error(
        tag,
        "charset",
        f"{s[index]!r} (U+{ord(s[index]):04X}) is not printable ASCII; VietQR fields are digits or ASCII (ANS)",
        index,
    )


def _mandatory(root: dict[str, TLVField], tag: str, s: str) -> TLVField:
    field = root.get(tag)
    if field is None:
        raise _error(tag, "mandatory", f"mandatory field {tag} is missing", len(s) - 8)
    return field


def _expect(field: TLVField, path: str, allowed: tuple[str, ...]) -> None:
    if field.value not in allowed:
        wanted = " or ".join(repr(a) for a in allowed)
        raise _error(path, "value", f"must be {wanted}, got {field.value!r}", field.value_position)


def _check_root_extras(root: dict[str, TLVField]) -> None:
    """Rules for the optional root objects a transfer does not use but a payload may carry."""
    for tag, limit in _ROOT_MAX.items():
        field = root.get(tag)
        if field is not None and len(field.value) > limit:
            raise _error(tag, "length", f"at most {limit} characters, got {len(field.value)}", field.position + 2)
    mcc = root.get("52")
    if mcc is not None and not (len(mcc.value) == 4 and mcc.value.isdigit()):
        raise _error("52", "format", f"an MCC is 4 digits, got {mcc.value!r}", mcc.value_position)
    fee = root.get("55")
    if fee is not None:
        _expect(fee, "55", ("01", "02", "03"))
        needed = {"02": "56", "03": "57"}.get(fee.value)
        if needed is not None and needed not in root:
            raise _error(needed, "mandatory", f"55={fee.value} requires tag {needed}", fee.value_position)


def _amount(field: TLVField) -> int:
    text = field.value
    # VND has no minor unit: digits, optionally one trailing "." (spec §5.2.6 lists "50000.").
    digits = text[:-1] if text.endswith(".") else text
    if len(text) > 13 or not (digits.isascii() and digits.isdigit()):
        raise _error(
            "54",
            "format",
            f"must be whole đồng in digits (no separators or decimals), got {text!r}",
            field.value_position,
        )
    amount = int(digits)
    if not 0 < amount <= MAX_AMOUNT:
        raise _error("54", "range", f"must be 1..{MAX_AMOUNT:,} đồng, got {amount:,}", field.value_position)
    return amount


def _beneficiary(s: str, merchant: dict[str, TLVField]) -> tuple[str, str, Service]:
    """(BIN, account, service) from a decoded NAPAS tag 38."""
    for tag, field in merchant.items():
        if tag not in ("00", "01", "02"):
            raise _error(f"38/{tag}", "unknown-field", "tag 38 holds only 00 (GUID), 01 and 02", field.position)
    organisation = merchant.get("01")
    if organisation is None:
        raise _error("38/01", "mandatory", "the beneficiary (38/01) is missing", merchant["00"].position)
    inner = decode_tlv(s, organisation.value_position, organisation.end, path="38/01/")
    for tag, field in inner.items():
        if tag not in ("00", "01"):
            where = " (the service code belongs in 38/02)" if tag == "02" else ""
            raise _error(
                f"38/01/{tag}", "unknown-field", f"38/01 holds only 00 (BIN) and 01 (account){where}", field.position
            )
    bin_field = inner.get("00")
    if bin_field is None or not is_bin(bin_field.value):
        found = "missing" if bin_field is None else repr(bin_field.value)
        position = organisation.value_position if bin_field is None else bin_field.value_position
        raise _error("38/01/00", "format", f"the BIN is 6 digits, got {found}", position)
    service_field = merchant.get("02")
    if service_field is None:
        raise _error("38/02", "mandatory", "the service code (38/02) is missing", merchant["00"].position)
    service = SERVICES.get(service_field.value)
    if service is None:
        if _SERVICE_CODE.fullmatch(service_field.value):
            raise NotVietQRError(
                _label("38/02"),
                "napas-service",
                f"NAPAS service {service_field.value!r} is not a transfer ({SERVICE_ACCOUNT} or {SERVICE_CARD})",
                position=service_field.value_position,
            )
        raise _error("38/02", "format", f"not a service code: {service_field.value!r}", service_field.value_position)
    account_field = inner.get("01")
    if account_field is None:
        raise _error("38/01/01", "mandatory", "the account number is missing", organisation.value_position)
    problem = account_problem(account_field.value, service)
    if problem is not None:
        raise _error("38/01/01", "format", problem, account_field.value_position)
    return bin_field.value, account_field.value, service


def _additional(s: str, field: TLVField | None) -> tuple[str | None, str | None, str | None]:
    """(bill number, reference, content) from tag 62."""
    if field is None:
        return None, None, None
    sub = decode_tlv(s, field.value_position, field.end, path="62/")
    for tag, item in sub.items():
        if "01" <= tag <= "08":
            if len(item.value) > MAX_TEXT:
                raise _error(
                    f"62/{tag}", "length", f"at most {MAX_TEXT} characters, got {len(item.value)}", item.position + 2
                )
        elif tag == "09":
            value = item.value
            if len(value) > 3 or set(value) - set("AME") or len(set(value)) != len(value):
                raise _error("62/09", "format", f"A, M and/or E, each at most once, got {value!r}", item.value_position)
        elif tag == "00":
            raise _error("62/00", "unknown-field", "tag 62 has no sub-ID 00", item.position)
        # 10-49 are reserved for EMVCo and 50-99 for payment systems: carried, not interpreted.
    bill, reference, content = sub.get("01"), sub.get("05"), sub.get("08")
    return (
        None if bill is None else bill.value,
        None if reference is None else reference.value,
        None if content is None else content.value,
    )


def _parse_strict(payload: object) -> ParsedVietQR:
    if not isinstance(payload, str):
        raise ParseError("payload", "type", f"must be text (str), got {type(payload).__name__}", position=0)
    s = payload
    if not s:
        raise ParseError("payload", "empty", "is empty", position=0)
    if not s.startswith("000201"):
        raise _error("00", "format", "not an EMV QR payload: it must start with 000201", 0)
    root = _decode_root(s)
    _check_crc(s, root["63"])
    merchant = _napas_template(s, root)
    _check_charset(s, root)
    initiation = _mandatory(root, "01", s)
    _expect(initiation, "01", ("11", "12"))
    _expect(_mandatory(root, "53", s), "53", ("704",))
    _expect(_mandatory(root, "58", s), "58", ("VN",))
    _check_root_extras(root)
    amount_field = root.get("54")
    amount = None if amount_field is None else _amount(amount_field)
    bin_code, account, service = _beneficiary(s, merchant)
    bill, reference, content = _additional(s, root.get("62"))
    return ParsedVietQR(
        bank=bank_by_bin(bin_code),
        bin=bin_code,
        account=account,
        service=service,
        amount=amount,
        content=content,
        bill_number=bill,
        reference=reference,
        is_dynamic=initiation.value == "12",
        payload=s,
    )


def parse_vietqr(payload: str) -> ParsedVietQR:
    """Read a VietQR transfer payload, strictly.

    Fields may come in any order. The CRC is compared case-insensitively (the MB Bank app
    writes it in lower case). Rejected, each with the position: malformed or inconsistent
    lengths at any level, a wrong CRC, a missing mandatory field (01, 38 with 00/01/02, 53,
    58, 63), anything after the CRC, characters outside printable ASCII, an amount that is not
    whole đồng in 1..499,999,999, an account that is not 1-19 letters or digits.

    Args:
        payload: the text read from the QR code.

    Returns:
        The transfer it describes.

    Raises:
        NotVietQRError: a valid EMV payload of another kind (VNPAY-QR, ShopeePay, EVN, a NAPAS
            non-transfer service); ``kind`` says which.
        CRCError: the checksum does not match.
        ParseError: anything else malformed (the base class of both).
    """
    # Fast path: a payload laid out exactly as build_vietqr writes it (and as bank apps do).
    # Every deviation hands the payload to the strict parser, which decides and explains;
    # this path only ever accepts what the strict parser accepts, with the same result.
    s = payload
    if type(s) is not str:
        return _parse_strict(s)
    # The account length sits at a fixed offset in the canonical layout; it gives the prefix end.
    size = _ACCOUNT_SIZES.get(s[46:48])
    if size is None or not s.isascii():  # isascii() is O(1) on CPython
        return _parse_strict(s)
    t = start = 67 + size
    entry = READ.get(s[:t])
    if entry is None:
        entry = learn_prefix(s[:t])
        if entry is None:
            return _parse_strict(s)
    state, dynamic, bin_code, account, service, bank = entry
    amount = None
    digits_size = _AMOUNT_HEADERS.get(s[t : t + 4])
    if digits_size is not None:
        t += 4
        digits = s[t : t + digits_size]
        if not digits.isdigit():  # ASCII was checked above, so this is [0-9]+
            return _parse_strict(s)
        amount = int(digits)
        if not 0 < amount <= MAX_AMOUNT:
            return _parse_strict(s)
        t += digits_size
    bill = reference = content = None
    content_size = _CONTENT_HEADERS.get(s[t : t + 14])
    if content_size is not None:
        # The common case, a content alone in tag 62, without the general loop.
        t += 14
        content = s[t : t + content_size]
        if not content.isprintable():
            return _parse_strict(s)
        t += content_size
    else:
        if not s.startswith("5802VN", t):
            return _parse_strict(s)
        t += 6
        if s.startswith("62", t):
            # Bill number and/or reference, with or without content: the general loop.
            inner_size = LENGTHS.get(s[t + 2 : t + 4])
            if inner_size is None:
                return _parse_strict(s)
            inner = s[t + 4 : t + 4 + inner_size]
            texts = _split_additional(inner)
            if texts is None:
                return _parse_strict(s)
            bill, reference, content = texts
            t += 4 + inner_size
    if t != len(s) - 8 or not s.startswith("6304", t):
        return _parse_strict(s)
    # The CRC resumes from the state after the prefix: only the tail is checksummed here.
    crc_text = "%04X" % crc_hqx(s[start:-4].encode(), state)  # noqa: UP031
    if not s.endswith(crc_text) and s[-4:].upper() != crc_text:  # MB Bank writes it in lower case
        return _parse_strict(s)
    # Positional arguments (in field order) are measurably cheaper than keywords here; the
    # property tests compare every result with the strict parser's keyword-built one.
    return ParsedVietQR(bank, bin_code, account, service, amount, content, bill, reference, dynamic, s)
