"""The directory of Vietnamese banks and wallets that can receive a VietQR transfer.

Reference data every package needs: the registry validates a stall's account against it, the
VietQR codec writes and reads BINs, statements and webhooks name banks by code or short name.
It lives beside the shared modules because the registry comes before ``market.payments`` in the
dependency order. Data: ``banks.json`` (vietqr.io's fields, de-duplicated by BIN where sources
disagreed on a bank's code or name).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

import msgspec

from market.text import fold_vietnamese

__all__ = ["Bank", "all_banks", "check_account_number", "find_bank"]

# VietQR 38/01/01: the beneficiary's account (or card) number, 1-19 letters or digits
# (wallets use letters, e.g. MoMo "PSP…").
_ACCOUNT = re.compile(r"[A-Za-z0-9]{1,19}")

# Names people actually type for the banks of An Giang, beyond the directory's own spellings.
_ALIASES = {
    "970436": ("VCB", "Vietcombank", "Ngoai thuong"),
    "970418": ("BIDV", "BID", "Dau tu va Phat trien"),
    "970405": ("Agribank", "AGR", "VBA", "Nong nghiep"),
    "970415": ("VietinBank", "ICB", "CTG", "Cong thuong"),
    "970422": ("MB", "MBB", "MB Bank", "Quan doi"),
    "970407": ("TCB", "Techcombank"),
    "970403": ("STB", "Sacombank"),
    "970416": ("ACB", "A Chau"),
    "970432": ("VPB", "VPBank"),
    "970423": ("TPB", "TPBank"),
    "971025": ("MoMo", "Vi MoMo"),
    "970454": ("BVBank", "Ban Viet", "Viet Capital"),
    "970449": ("LienVietPostBank", "LienViet", "LPB"),
    "970406": ("DongA", "DongA Bank", "DAB"),
    "970414": ("Oceanbank", "OJB"),
    "970440": ("SSB", "SeABank"),
}


class Bank(msgspec.Struct, frozen=True, kw_only=True):
    """One bank or wallet as VietQR knows it."""

    bin: str
    code: str
    short_name: str
    name: str
    kind: str
    swift: str | None = None
    # Whether the bank's app can pay by scanning a VietQR; ``None`` where the sources do not say.
    transfer_supported: bool | None = None


def _key(text: str) -> str:
    # "Vietcombank", "VIETCOMBANK", "viet com bank" and "Ngoại thương" all find the same bank.
    return re.sub(r"[^a-z0-9]", "", fold_vietnamese(text).casefold())


@cache
def _directory() -> tuple[tuple[Bank, ...], dict[str, Bank]]:
    raw = json.loads(resources.files("market").joinpath("banks.json").read_text(encoding="utf-8"))
    banks = tuple(
        Bank(
            bin=item["bin"],
            code=item["code"],
            short_name=item["shortName"],
            name=item["name"],
            kind=item.get("kind", "bank"),
            swift=item.get("swift_code") or None,
            transfer_supported=None if item.get("transferSupported") is None else bool(item["transferSupported"]),
        )
        for item in raw["banks"]
    )
    index: dict[str, Bank] = {}
    for bank in banks:
        for name in (bank.bin, bank.code, bank.short_name, *_ALIASES.get(bank.bin, ()), bank.name):
            # The first bank to claim a name keeps it: BINs and codes are unique, aliases are curated.
            index.setdefault(_key(name), bank)
    return banks, index


def all_banks() -> tuple[Bank, ...]:
    """Every bank and wallet in the directory, in the directory's order."""
    return _directory()[0]


def find_bank(query: str) -> Bank | None:
    """The bank named by a BIN, a code, a short name or a common alias (case and accents ignored)."""
    return _directory()[1].get(_key(query))


def check_account_number(value: str) -> str | None:
    """Why ``value`` cannot be a VietQR account number, or ``None`` when it can."""
    if not value:
        return "account number is empty"
    if len(value) > 19:
        return f"account number has {len(value)} characters; at most 19 are allowed"
    if not _ACCOUNT.fullmatch(value):
        return "account number may contain only letters A-Z and digits 0-9 (no spaces or punctuation)"
    return None
