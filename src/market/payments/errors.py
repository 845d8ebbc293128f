"""Typed errors of the VietQR codec.

Every failure names the field (a request attribute such as ``account`` when building, a tag
path such as ``38/01/01`` when parsing), the rule it breaks (a short stable identifier that
tests and callers can branch on), and, when parsing, the 0-based character position in the
payload. They derive from :class:`market.errors.InvalidInputError`, so the web layer answers
422 with the field named without knowing about VietQR, and from :class:`ValueError`, so
generic code that expects "bad value" errors still catches them.
"""

from __future__ import annotations

from market.errors import FieldError, InvalidInputError

__all__ = [
    "CRCError",
    "NotVietQRError",
    "ParseError",
    "UnknownBankError",
    "ValidationError",
    "VietQRError",
]


class VietQRError(InvalidInputError, ValueError):
    """Base of every error the codec raises; nothing else escapes ``build``/``parse``.

    Attributes:
        field: the request attribute (building) or tag path like ``38/01/01`` (parsing).
        rule: short identifier of the broken rule, e.g. ``length``, ``charset``, ``crc``.
        message: the human sentence, without the field prefix.
        position: 0-based character offset in the payload when parsing, else ``None``.
    """

    def __init__(self, field: str, rule: str, message: str, *, position: int | None = None) -> None:
        self.field = field
        self.rule = rule
        self.message = message
        self.position = position
        detail = f"{field}: {message}" if position is None else f"{field}: {message} (at position {position})"
        super().__init__([FieldError(field, message)], detail=detail)
        self.extra["rule"] = rule
        if position is not None:
            self.extra["position"] = position

    def __reduce__(self) -> tuple[object, ...]:
        # The constructor takes more than ``args``; keep errors picklable for worker processes.
        return (_rebuild, (type(self), self.field, self.rule, self.message, self.position, self.__dict__))


def _rebuild(
    cls: type[VietQRError], field: str, rule: str, message: str, position: int | None, state: dict[str, object]
) -> VietQRError:
    error = cls.__new__(cls)
    VietQRError.__init__(error, field, rule, message, position=position)
    error.__dict__.update(state)
    return error


class ValidationError(VietQRError):
    """The input to ``build_vietqr`` breaks a rule; nothing was emitted."""


class UnknownBankError(ValidationError):
    """The bank (BIN, code or name) is not in the directory and was not explicitly allowed."""


class ParseError(VietQRError):
    """The payload is not a well-formed VietQR; ``position`` says where it goes wrong."""


class CRCError(ParseError):
    """The payload's CRC (tag 63) does not match its content: it was mistyped, cut or altered."""


class NotVietQRError(ParseError):
    """A well-formed EMV QR payload that is not a NAPAS247 VietQR transfer.

    ``kind`` says what it is instead:

    - ``vnpay-qr``: a VNPAY-QR merchant code (tag 26, GUID ``A000000775``);
    - ``emv-other``: another EMV merchant-presented code (ShopeePay/AirPay, EVN bills, ...);
    - ``napas-service``: a NAPAS code for another service than a transfer (e.g. ``QRPUSH``).
    """

    def __init__(self, field: str, kind: str, message: str, *, position: int | None = None) -> None:
        super().__init__(field, "not-vietqr", message, position=position)
        self.kind = kind
        self.extra["kind"] = kind
