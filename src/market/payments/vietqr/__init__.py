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

from market.payments.vietqr.build import build_vietqr
from market.payments.vietqr.fields import (
    MAX_AMOUNT,
    MAX_TEXT,
    MOMO_BIN,
    NAPAS_GUID,
    SERVICE_ACCOUNT,
    SERVICE_CARD,
    VNPAY_GUID,
    ParsedVietQR,
    Service,
    VietQRRequest,
    normalize_text,
)
from market.payments.vietqr.parse import parse_vietqr

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
