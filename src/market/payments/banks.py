"""The bank directory as the codec uses it.

The project has one directory, :mod:`market.banks` (shared because the registry, which comes
before payments, validates accounts against it). This module adds what the codec needs on top:
an exact BIN index (the parser looks up every payload's BIN), the set of known BINs (the builder
checks every request against it) and a lookup that fails with a typed error for the CLI and API.
"""

from __future__ import annotations

from market.banks import Bank, all_banks, find_bank
from market.payments.errors import UnknownBankError

__all__ = ["KNOWN_BINS", "Bank", "all_banks", "bank_by_bin", "find_bank", "get_bank", "is_known_bin"]

_BY_BIN: dict[str, Bank] = {bank.bin: bank for bank in all_banks()}
# A frozenset is the cheapest membership test for the builder's hot path.
KNOWN_BINS: frozenset[str] = frozenset(_BY_BIN)


def bank_by_bin(bin_code: str) -> Bank | None:
    """Return the bank with exactly this 6-digit BIN (tag 38/01/00), or ``None``.

    Args:
        bin_code: the BIN as written in a payload.
    """
    return _BY_BIN.get(bin_code)


def is_known_bin(bin_code: str) -> bool:
    """Return whether ``bin_code`` is a BIN in the directory."""
    return bin_code in KNOWN_BINS


def get_bank(query: str) -> Bank:
    """Find a bank by BIN, code, short name or alias, or fail with a typed error.

    Lookup is :func:`market.banks.find_bank`: case, Vietnamese diacritics, spaces and
    punctuation are ignored, so ``"VCB"``, ``"vietcombank"`` and ``"970436"`` find Vietcombank.

    Args:
        query: what the user typed.

    Returns:
        The bank.

    Raises:
        UnknownBankError: nothing in the directory has that name.
    """
    bank = find_bank(query) if type(query) is str else None
    if bank is None:
        raise UnknownBankError(
            "bank", "unknown-bank", f"no bank or wallet called {query!r} (try its BIN like 970436, or a code like VCB)"
        )
    return bank
