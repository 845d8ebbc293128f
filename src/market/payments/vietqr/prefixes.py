"""The merchant prefixes the codec remembers: everything before the amount, validated once.

A market has a few hundred accounts, so almost every payload built or read starts with one of a
few hundred prefixes (head, tag 38, currency). The builder and the parser each keep a bounded
memory of them with the CRC state after the prefix, and from then on only handle the short tail.
"""

from __future__ import annotations

from binascii import crc_hqx
from typing import TypeVar

from market.payments.banks import Bank, bank_by_bin
from market.payments.crc import CRC_INIT
from market.payments.tlv import LENGTH_TEXT
from market.payments.vietqr.fields import NAPAS_GUID, SERVICES, Service, account_problem, is_bin

_K = TypeVar("_K")
_V = TypeVar("_V")
HEADS = {"000201010211": False, "000201010212": True}  # the first 12 characters -> is dynamic


def prefix_text(bin_code: str, account: str, service: str, dynamic: bool) -> str:
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
BUILT: dict[tuple[str, str, str, bool], tuple[str, int]] = {}
# The parser's memory: prefix text -> (CRC state, dynamic, BIN, account, service, bank). Keyed
# by the text itself, so a hit proves the payload's whole prefix is canonical.
READ: dict[str, tuple[int, bool, str, str, Service, Bank | None]] = {}
CACHE_LIMIT = 4096  # entries per memory; a market has a few hundred accounts


def remember(memory: dict[_K, _V], key: _K, value: _V) -> _V:
    if len(memory) >= CACHE_LIMIT:
        memory.clear()  # crude but O(1) amortised; the working set refills in microseconds
    memory[key] = value
    return value


def learn_prefix(text: str) -> tuple[int, bool, str, str, Service, Bank | None] | None:
    """Validate a would-be canonical prefix once and remember what it says; ``None`` if it is not one."""
    dynamic = HEADS.get(text[:12])
    size = len(text) - 67
    bin_code, account, service = text[38:44], text[48 : 48 + size], SERVICES.get(text[52 + size : 60 + size])
    if (
        dynamic is None
        or service is None
        or not is_bin(bin_code)
        or account_problem(account, service) is not None
        or prefix_text(bin_code, account, service, dynamic) != text
    ):
        return None
    entry = (crc_hqx(text.encode(), CRC_INIT), dynamic, bin_code, account, service, bank_by_bin(bin_code))
    return remember(READ, text, entry)
