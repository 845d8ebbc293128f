"""Change history: a stall as named fields, and the field-by-field difference between two versions.

History entries hold text, as a person reads it in the stall's history ("zone: A → B"), so one
flat view of a stall serves the diff, the history and its display. The national ID is sensitive
(NĐ 13/2023 on personal data): its history says that it changed, not what to.
"""

from __future__ import annotations

from typing import NamedTuple

from market.banks import find_bank
from market.merchants.schemas import Account, StallData

__all__ = ["CREATED", "HIDDEN", "Change", "describe_accounts", "diff", "flatten"]

# The field of the one entry written when a stall is registered.
CREATED = "created"
# What the history shows in place of a sensitive value.
HIDDEN = "***"
_SENSITIVE = frozenset({"holder.national_id"})


class Change(NamedTuple):
    """One field that changed; ``None`` means empty. ``note`` says how a change of accounts was let through."""

    field: str
    old: str | None
    new: str | None
    note: str | None = None


def _account_text(account: Account) -> str:
    bank = find_bank(account.bank_bin)
    name = bank.short_name if bank else account.bank_bin
    text = f"{name} {account.account_number} {account.holder_name} ({account.kind})"
    return text + " [mặc định]" if account.is_default else text


def describe_accounts(accounts: tuple[Account, ...]) -> str | None:
    """The accounts as one readable line, the default one marked."""
    return "; ".join(_account_text(a) for a in accounts) or None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def flatten(data: StallData) -> dict[str, str | None]:
    """The stall as ``{field: text}``, with the field names the API uses (``holder.phone``)."""
    return {
        "zone": data.zone,
        "row": data.row,
        "category": data.category,
        "area_m2": _text(data.area_m2),
        "status": data.status,
        "status_since": _text(data.status_since),
        "holder.full_name": data.full_name,
        "holder.phone": data.phone,
        "holder.zalo": data.zalo,
        "holder.national_id": data.national_id,
        "holder.trading_frequency": data.trading_frequency,
        "accounts": describe_accounts(data.accounts),
        "onboarding.has_bank_account": _text(data.has_bank_account),
        "onboarding.has_payment_app": _text(data.has_payment_app),
        "onboarding.qr_issued_on": _text(data.qr_issued_on),
        "onboarding.qr_displayed": _text(data.qr_displayed),
        "onboarding.no_cashless_reason": data.no_cashless_reason,
        "onboarding.no_cashless_note": data.no_cashless_note,
    }


def _mask(field: str, value: str | None) -> str | None:
    return HIDDEN if field in _SENSITIVE and value is not None else value


def diff(old: StallData, new: StallData) -> list[Change]:
    """The fields that differ between two versions of one stall, in a stable order."""
    if old == new:
        return []
    before, after = flatten(old), flatten(new)
    return [
        Change(field, _mask(field, before[field]), _mask(field, after[field]))
        for field in after
        if before[field] != after[field]
    ]
