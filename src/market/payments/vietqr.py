"""Build and parse VietQR (NAPAS247) transfer payloads: strict, and fast.

Layout (NAPAS VietQR spec, EMVCo merchant-presented mode)::

    00 02 "01"                      payload format indicator, always first
    01 02 "11" | "12"               static (many payments) | dynamic (one payment, has an amount)
    38 LL                           merchant account information, NAPAS template:
          00 10 "A000000727"          NAPAS GUID
          01 LL                       beneficiary organisation:
                00 06 BIN               bank BIN (tag 38/01/00)
                01 LL account           account or card number, 1-19 characters
          02 08 "QRIBFTTA"|"QRIBFTTC" transfer to an account | to a card
    53 03 "704"                     currency VND
    54 LL amount                    only with an amount: integer đồng
    58 02 "VN"
    62 LL                           additional data, only when there is text:
          01 LL bill number,  05 LL reference label,  08 LL purpose (the transfer content)
    63 04 CRC                       CRC-16/CCITT-FALSE over everything before it, "6304" included

Speed. A market has about 120 stalls, so almost every payload built or read starts with one
of a few hundred "merchant prefixes" (everything up to and including ``5303704``: the head,
the whole tag 38, the currency). The codec validates each prefix once, remembers it with the
CRC state after it, and from then on only builds or checks the short tail (amount, content,
CRC). The parser first tries this canonical layout, which is what we and the bank apps emit;
anything else (other field order, extra tags, any error) goes through the general strict
parser, which is the single authority on what is valid and produces every error message.
The canonical path never accepts what the strict parser rejects (a property test checks it).
"""

from __future__ import annotations

import re
from binascii import crc_hqx
from functools import cached_property
from typing import Final, Literal, TypeVar

import msgspec

from market.banks import check_account_number
from market.payments.banks import KNOWN_BINS, Bank, bank_by_bin
from market.payments.crc import CRC_INIT
from market.payments.errors import CRCError, NotVietQRError, ParseError, ValidationError
from market.payments.tlv import LENGTH_TEXT, LENGTHS, TLVField, decode_tlv
from market.text import fold_vietnamese

__all__ = [
    "MAX_AMOUNT",
    "MAX_TEXT",
    "MOMO_BIN",
    "NAPAS_GUID",
    "SERVICE_ACCOUNT",
    "SERVICE_CARD",
    "VNPAY_GUID",
    "ParsedVietQR",
    "Service",
    "VietQRRequest",
    "build_vietqr",
    "normalize_text",
    "parse_vietqr",
]

NAPAS_GUID: Final = "A000000727"
VNPAY_GUID: Final = "A000000775"
SERVICE_ACCOUNT: Final = "QRIBFTTA"
SERVICE_CARD: Final = "QRIBFTTC"
Service = Literal["QRIBFTTA", "QRIBFTTC"]
# NAPAS247 transfers must be below 500,000,000 đồng (spec §8.1.1).
MAX_AMOUNT: Final = 499_999_999
# 62/01-62/08 are ANS ≤ 25 (spec Bảng 8); vietqr.io also caps the content at 25.
MAX_TEXT: Final = 25
MAX_ACCOUNT: Final = 19
# MoMo's own BIN; its app routes a transfer to the wallet only with a 62/05 reference.
MOMO_BIN: Final = "971025"
_MOMO_REFERENCE = re.compile(r"MOMOW2W[0-9]{8}")

_K = TypeVar("_K")
_V = TypeVar("_V")
_SERVICES: dict[str, Service] = {SERVICE_ACCOUNT: SERVICE_ACCOUNT, SERVICE_CARD: SERVICE_CARD}
_HEADS = {"000201010211": False, "000201010212": True}  # the first 12 characters -> is dynamic
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


class VietQRRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What to put in one VietQR payload.

    Attributes:
        bin: the beneficiary bank's 6-digit BIN (resolve names with ``market.payments.get_bank``).
        account: account number, or card number when ``service`` is ``QRIBFTTC``;
            1-19 ASCII letters or digits (a card number: digits only).
        amount: integer đồng, 1..499,999,999; ``None`` makes a static QR the payer fills in.
        content: transfer content (62/08), folded to ASCII: see :func:`normalize_text`.
        bill_number: bill number (62/01), same rules as ``content``.
        reference: reference label (62/05), same rules; for MoMo (BIN 971025) it is required
            and must be ``MOMOW2W`` followed by 8 digits.
        service: ``QRIBFTTA`` (to an account, the default) or ``QRIBFTTC`` (to a card).
        allow_unknown_bin: accept a well-formed BIN that is not in the bank directory.
    """

    bin: str
    account: str
    amount: int | None = None
    content: str | None = None
    bill_number: str | None = None
    reference: str | None = None
    service: Service = SERVICE_ACCOUNT
    allow_unknown_bin: bool = False


# dict=True lets ``raw`` be a cached property: the raw fields are an inspection view that the hot
# consumers (matching, API) do not need, so they are decoded from ``payload`` on first use rather
# than on every parse (building them eagerly measured ~16% of a parse).
class ParsedVietQR(msgspec.Struct, frozen=True, dict=True):
    """A VietQR transfer payload, read back.

    Attributes:
        bank: the bank from the directory, ``None`` for a BIN it does not know.
        bin: tag 38/01/00.
        account: tag 38/01/01, the account or card number.
        service: ``QRIBFTTA`` (account) or ``QRIBFTTC`` (card).
        amount: integer đồng (tag 54), ``None`` when the payer chooses it.
        content: transfer content (62/08), as written in the payload.
        bill_number: bill number (62/01).
        reference: reference label (62/05), e.g. MoMo's ``MOMOW2W...`` routing reference.
        is_dynamic: point of initiation ``12`` (one payment) rather than ``11`` (static).
        payload: the payload text as given; :attr:`raw` is derived from it.
    """

    bank: Bank | None
    bin: str
    account: str
    service: Service
    amount: int | None
    content: str | None
    bill_number: str | None
    reference: str | None
    is_dynamic: bool
    payload: str

    @cached_property
    def raw(self) -> dict[str, str]:
        """Every root object, ID to value, in payload order (templates as their raw text).

        Computed from :attr:`payload` on first access, then kept.
        """
        return {tag: field.value for tag, field in decode_tlv(self.payload, stop_after="63").items()}

    @property
    def is_card(self) -> bool:
        """Whether the transfer goes to a card number (``QRIBFTTC``)."""
        return self.service == SERVICE_CARD


# ---------------------------------------------------------------------------------------------
# Shared rules
# ---------------------------------------------------------------------------------------------


def _account_problem(account: str, service: str) -> str | None:
    """Why ``account`` cannot be the beneficiary of ``service``, or ``None`` if it can.

    The account rule (1-19 ASCII letters or digits) is the project's one rule, shared with the
    registry; a card number (QRIBFTTC) must also be digits only. Only prefix-cache misses get
    here, so the shared rule's cost does not matter.
    """
    problem = check_account_number(account)
    if problem is None and service == SERVICE_CARD and not account.isdigit():
        problem = f"a card number is digits only, got {account!r}"
    return problem


def _is_bin(text: str) -> bool:
    return len(text) == 6 and text.isascii() and text.isdigit()


def _prefix_text(bin_code: str, account: str, service: str, dynamic: bool) -> str:
    """Everything before the amount: head, tag 38, currency (for validated inputs)."""
    size = len(account)
    # 38/01 = "0006"+BIN + "01"+LL+account; 38 = "0010"+GUID + "01"+LL+38/01 + "02"+LL+service.
    return (
        f"{'000201010212' if dynamic else '000201010211'}"
        f"38{LENGTH_TEXT[size + 44]}0010{NAPAS_GUID}"
        f"01{LENGTH_TEXT[size + 14]}0006{bin_code}01{LENGTH_TEXT[size]}{account}"
        f"02{LENGTH_TEXT[len(service)]}{service}5303704"
    )


# The builder's memory: (bin, account, service, dynamic) -> (prefix text, CRC state after it).
# Only validated accounts are stored, so a hit proves the account and service are valid (the
# BIN is checked before the lookup: whether it must be known depends on the request).
_BUILT: dict[tuple[str, str, str, bool], tuple[str, int]] = {}
# The parser's memory: prefix text -> (CRC state, dynamic, BIN, account, service, bank). Keyed
# by the text itself, so a hit proves the payload's whole prefix is canonical.
_READ: dict[str, tuple[int, bool, str, str, Service, Bank | None]] = {}
_CACHE_LIMIT = 4096  # entries per memory; a market has a few hundred accounts


def _remember(memory: dict[_K, _V], key: _K, value: _V) -> _V:
    if len(memory) >= _CACHE_LIMIT:
        memory.clear()  # crude but O(1) amortised; the working set refills in microseconds
    memory[key] = value
    return value


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


def normalize_text(text: str, *, field: str = "content") -> str:
    """Return ``text`` as a VietQR may carry it in 62/08 (content), 62/01 or 62/05.

    The rule, applied in this order:

    1. Vietnamese diacritics are removed with :func:`market.text.fold_vietnamese` (NFD, drop the
       combining marks, ``đ``→``d``, ``Đ``→``D``): "Thanh toán đơn" → "Thanh toan don".
       Bank apps reject or mangle accents; the NAPAS field is ASCII (ANS).
    2. Every run of whitespace (spaces, tabs, newlines, no-break spaces) becomes one space and
       leading/trailing whitespace is dropped.
    3. What remains must be printable ASCII (space to ``~``). Anything else (emoji, ``€``, CJK,
       control characters) is an error naming the character: it is never silently dropped,
       because the content carries the reconciliation code and a dropped character could
       change what the payer's bank reports back.
    4. At most 25 characters after folding; longer is an error, never truncated, for the same
       reason (banks cut long content at 25 or 19 characters anyway).

    An empty result means "no text" and the field is left out.

    Args:
        text: what the user or caller wrote.
        field: the request attribute, for error messages.

    Returns:
        The folded text, possibly empty.

    Raises:
        ValidationError: not a string, a character outside printable ASCII, or too long.
    """
    if type(text) is not str:
        raise ValidationError(field, "type", f"must be a string, got {type(text).__name__}")
    if text.isascii() and text.isprintable() and "  " not in text and text.strip() == text:
        # Already clean (the common case): nothing to fold or collapse; cheaper than split/join.
        if len(text) > MAX_TEXT:
            raise _text_too_long(field, text)
        return text
    if not text.isascii():
        text = fold_vietnamese(text)
    text = " ".join(text.split())
    if not (text.isascii() and text.isprintable()):
        index, char = next((i, c) for i, c in enumerate(text) if not (" " <= c <= "~"))
        raise ValidationError(
            field,
            "charset",
            f"{char!r} (U+{ord(char):04X}) at index {index} is not printable ASCII even after folding "
            "Vietnamese diacritics; use letters, digits, spaces and ASCII punctuation",
        )
    if len(text) > MAX_TEXT:
        raise _text_too_long(field, text)
    return text


def _text_too_long(field: str, text: str) -> ValidationError:
    return ValidationError(
        field, "length", f"must be at most {MAX_TEXT} characters after folding, got {len(text)}: {text!r}"
    )


def _check_bin(bin_code: object, allow_unknown: bool) -> None:
    if type(bin_code) is not str:
        raise ValidationError("bin", "type", f"must be a string, got {type(bin_code).__name__}")
    if bin_code in KNOWN_BINS:
        return
    if not _is_bin(bin_code):
        raise ValidationError("bin", "format", f"a BIN is 6 digits, got {bin_code!r}")
    if not allow_unknown:
        raise ValidationError(
            "bin",
            "unknown-bin",
            f"{bin_code} is not in the bank directory (set allow_unknown_bin to use it anyway)",
        )


def _check_target(account: object, service: object) -> None:
    if type(service) is not str or service not in _SERVICES:
        raise ValidationError("service", "value", f"must be {SERVICE_ACCOUNT} or {SERVICE_CARD}, got {service!r}")
    if type(account) is not str:
        raise ValidationError("account", "type", f"must be a string, got {type(account).__name__}")
    problem = _account_problem(account, str(service))
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
    if reference is None or not _MOMO_REFERENCE.fullmatch(normalize_text(reference, field="reference")):
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
        prefix = _BUILT.get(key)
    except TypeError:  # an unhashable account or service: reported by the check below
        prefix = None
    if prefix is None:
        _check_target(account, service)
        text = _prefix_text(bin_code, account, service, dynamic)
        prefix = _remember(_BUILT, key, (text, crc_hqx(text.encode(), CRC_INIT)))
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
    # printf-style formatting measured ~45 ns faster than an f-string here; this is the hot path.
    return f"{head}{tail}{'%04X' % crc_hqx(tail.encode(), state)}"  # noqa: UP031


# ---------------------------------------------------------------------------------------------
# Parsing: helpers of the canonical fast path (the path itself opens parse_vietqr, at the end)
# ---------------------------------------------------------------------------------------------


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


def _learn_prefix(text: str) -> tuple[int, bool, str, str, Service, Bank | None] | None:
    """Validate a would-be canonical prefix once and remember what it says; ``None`` if it is not one."""
    dynamic = _HEADS.get(text[:12])
    size = len(text) - 67
    bin_code, account, service = text[38:44], text[48 : 48 + size], _SERVICES.get(text[52 + size : 60 + size])
    if (
        dynamic is None
        or service is None
        or not _is_bin(bin_code)
        or _account_problem(account, service) is not None
        or _prefix_text(bin_code, account, service, dynamic) != text
    ):
        return None
    entry = (crc_hqx(text.encode(), CRC_INIT), dynamic, bin_code, account, service, bank_by_bin(bin_code))
    return _remember(_READ, text, entry)


# ---------------------------------------------------------------------------------------------
# Parsing: the strict general parser (any field order; the authority on errors)
# ---------------------------------------------------------------------------------------------


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
    if bin_field is None or not _is_bin(bin_field.value):
        found = "missing" if bin_field is None else repr(bin_field.value)
        position = organisation.value_position if bin_field is None else bin_field.value_position
        raise _error("38/01/00", "format", f"the BIN is 6 digits, got {found}", position)
    service_field = merchant.get("02")
    if service_field is None:
        raise _error("38/02", "mandatory", "the service code (38/02) is missing", merchant["00"].position)
    service = _SERVICES.get(service_field.value)
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
    problem = _account_problem(account_field.value, service)
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
    entry = _READ.get(s[:t])
    if entry is None:
        entry = _learn_prefix(s[:t])
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
