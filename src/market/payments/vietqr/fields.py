"""What a VietQR payload holds: its constants, the request to build one, the parsed result, the text rule."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Final, Literal

import msgspec

from market.banks import check_account_number
from market.payments.banks import Bank
from market.payments.errors import ValidationError
from market.payments.tlv import decode_tlv
from market.text import fold_vietnamese

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
MOMO_REFERENCE = re.compile(r"MOMOW2W[0-9]{8}")

SERVICES: dict[str, Service] = {SERVICE_ACCOUNT: SERVICE_ACCOUNT, SERVICE_CARD: SERVICE_CARD}


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
# than on every parse (building them eagerly is a sizeable share of a parse).
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


def account_problem(account: str, service: str) -> str | None:
    """Why ``account`` cannot be the beneficiary of ``service``, or ``None`` if it can.

    The account rule (1-19 ASCII letters or digits) is the project's one rule, shared with the
    registry; a card number (QRIBFTTC) must also be digits only. Only prefix-cache misses get
    here, so the shared rule's cost does not matter.
    """
    problem = check_account_number(account)
    if problem is None and service == SERVICE_CARD and not account.isdigit():
        problem = f"a card number is digits only, got {account!r}"
    return problem


def is_bin(text: str) -> bool:
    return len(text) == 6 and text.isascii() and text.isdigit()


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
            raise text_too_long(field, text)
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
        raise text_too_long(field, text)
    return text


def text_too_long(field: str, text: str) -> ValidationError:
    return ValidationError(
        field, "length", f"must be at most {MAX_TEXT} characters after folding, got {len(text)}: {text!r}"
    )
