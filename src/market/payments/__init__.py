"""Payments: the VietQR codec (build, parse, validate, CRC) and the bank directory.

Pure code: no I/O beyond reading the bundled ``banks.json`` once, and no imports from the
web, database or reconciliation layers.
"""

from market.payments.banks import Bank, all_banks, bank_by_bin, find_bank, get_bank, is_known_bin
from market.payments.crc import crc16_ccitt_false, crc16_hex
from market.payments.errors import (
    CRCError,
    NotVietQRError,
    ParseError,
    UnknownBankError,
    ValidationError,
    VietQRError,
)
from market.payments.tlv import TLVField, decode_tlv, encode_tlv
from market.payments.vietqr import (
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
    build_vietqr,
    normalize_text,
    parse_vietqr,
)

__all__ = [
    "MAX_AMOUNT",
    "MAX_TEXT",
    "MOMO_BIN",
    "NAPAS_GUID",
    "SERVICE_ACCOUNT",
    "SERVICE_CARD",
    "VNPAY_GUID",
    "Bank",
    "CRCError",
    "NotVietQRError",
    "ParseError",
    "ParsedVietQR",
    "Service",
    "TLVField",
    "UnknownBankError",
    "ValidationError",
    "VietQRError",
    "VietQRRequest",
    "all_banks",
    "bank_by_bin",
    "build_vietqr",
    "crc16_ccitt_false",
    "crc16_hex",
    "decode_tlv",
    "encode_tlv",
    "find_bank",
    "get_bank",
    "is_known_bin",
    "normalize_text",
    "parse_vietqr",
]
