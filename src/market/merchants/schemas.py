"""The registry's data shapes: what clients send, the validated record, and what they get back.

Inputs keep enumerations, dates and phone numbers as plain strings on purpose: the validator
(``market.merchants.validation``) checks them all and reports every bad field at once, by name,
instead of stopping at the first one the decoder trips on.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "Account",
    "AccountChangeOut",
    "AccountChangePage",
    "AccountIn",
    "AccountOut",
    "ChangeOut",
    "HistoryPage",
    "HolderIn",
    "HolderOut",
    "HolderPatch",
    "OnboardingIn",
    "OnboardingOut",
    "OnboardingPatch",
    "StallData",
    "StallIn",
    "StallOut",
    "StallPage",
    "StallPatch",
    "StallUpdate",
]


class _In(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of request bodies: a misspelt field is an error, not silently ignored."""


class AccountIn(_In):
    """A payment account as sent: the bank by BIN, code, short name or alias ("970405", "Agribank")."""

    bank: str
    account_number: str
    # As the bank shows it; derived from the holder's full name when not given.
    holder_name: str | None = None
    # bank_account / e_wallet / virtual_account; from the bank directory when not given.
    kind: str | None = None
    is_default: bool = False


class HolderIn(_In):
    """The stall holder as sent."""

    full_name: str
    phone: str | None = None
    zalo: str | None = None
    national_id: str | None = None
    trading_frequency: str = "daily"


class OnboardingIn(_In):
    """Onboarding state as sent; ``has_bank_account`` defaults to "a bank account is registered"."""

    has_bank_account: bool | None = None
    has_payment_app: bool = False
    qr_issued_on: str | None = None
    qr_displayed: bool = False
    no_cashless_reason: str | None = None
    no_cashless_note: str | None = None


class StallIn(_In):
    """``POST /api/merchants``: a new stall with its holder, accounts and onboarding state."""

    code: str
    holder: HolderIn
    zone: str | None = None
    row: str | None = None
    category: str = "other"
    area_m2: float | None = None
    status: str = "active"
    status_since: str | None = None
    accounts: list[AccountIn] = msgspec.field(default_factory=list)
    onboarding: OnboardingIn = msgspec.field(default_factory=OnboardingIn)


class HolderPatch(_In):
    """Holder fields to change; absent fields stay, ``null`` clears an optional one."""

    full_name: str | UnsetType = UNSET
    phone: str | UnsetType | None = UNSET
    zalo: str | UnsetType | None = UNSET
    national_id: str | UnsetType | None = UNSET
    trading_frequency: str | UnsetType = UNSET


class OnboardingPatch(_In):
    """Onboarding fields to change."""

    has_bank_account: bool | UnsetType = UNSET
    has_payment_app: bool | UnsetType = UNSET
    qr_issued_on: str | UnsetType | None = UNSET
    qr_displayed: bool | UnsetType = UNSET
    no_cashless_reason: str | UnsetType | None = UNSET
    no_cashless_note: str | UnsetType | None = UNSET


class StallPatch(_In):
    """``PATCH /api/merchants/{stall}``; ``accounts``, when given, replaces the whole list."""

    zone: str | UnsetType = UNSET
    row: str | UnsetType | None = UNSET
    category: str | UnsetType = UNSET
    area_m2: float | UnsetType | None = UNSET
    status: str | UnsetType = UNSET
    status_since: str | UnsetType | None = UNSET
    holder: HolderPatch | UnsetType = UNSET
    accounts: list[AccountIn] | UnsetType = UNSET
    onboarding: OnboardingPatch | UnsetType = UNSET


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """A validated payment account."""

    bank_bin: str
    account_number: str
    holder_name: str
    kind: str
    is_default: bool


class StallData(msgspec.Struct, frozen=True, kw_only=True):
    """A validated, normalised stall: everything the registry stores about it, comparable with ``==``."""

    code: str
    zone: str
    row: str | None
    category: str
    area_m2: float | None
    status: str
    status_since: dt.date | None
    full_name: str
    phone: str | None
    zalo: str | None
    national_id: str | None
    trading_frequency: str
    has_bank_account: bool
    has_payment_app: bool
    qr_issued_on: dt.date | None
    qr_displayed: bool
    no_cashless_reason: str | None
    no_cashless_note: str | None
    accounts: tuple[Account, ...]


class AccountOut(msgspec.Struct, frozen=True, kw_only=True):
    """A payment account as answered, with the bank's names from the directory."""

    bank_bin: str
    bank_short_name: str
    bank_name: str
    account_number: str
    holder_name: str
    kind: str
    kind_label: str
    is_default: bool


class HolderOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The holder as answered; ``national_id`` appears only when asked for (``?include=national_id``)."""

    full_name: str
    phone: str | None
    zalo: str | None
    trading_frequency: str
    trading_frequency_label: str
    national_id: str | UnsetType | None = UNSET


class OnboardingOut(msgspec.Struct, frozen=True, kw_only=True):
    """Onboarding fields and the derived ``state`` (qr_displayed, qr_issued, account_only, no_account)."""

    state: str
    state_label: str
    has_bank_account: bool
    has_payment_app: bool
    qr_issued_on: dt.date | None
    qr_displayed: bool
    no_cashless_reason: str | None
    no_cashless_reason_label: str | None
    no_cashless_note: str | None
    # The printed card shows accounts the stall no longer has; cleared when a card is issued again.
    card_reprint_needed: bool = False


class StallOut(msgspec.Struct, frozen=True, kw_only=True):
    """A stall as answered by the API."""

    code: str
    zone: str
    row: str | None
    category: str
    category_label: str
    area_m2: float | None
    status: str
    status_label: str
    status_since: dt.date | None
    holder: HolderOut
    accounts: list[AccountOut]
    onboarding: OnboardingOut
    updated_at: dt.datetime


class StallPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a stall listing; ``total`` counts every match, not just this page."""

    items: list[StallOut]
    total: int
    limit: int
    offset: int


class ChangeOut(msgspec.Struct, frozen=True, kw_only=True):
    """One history entry: who changed which field when, old → new (``null`` = empty)."""

    at: dt.datetime
    actor: str
    field: str
    old: str | None
    new: str | None
    # For a change of accounts: who approved whose request, or that no second person had to.
    note: str | None = None


class HistoryPage(msgspec.Struct, frozen=True, kw_only=True):
    """A stall's history, newest first."""

    stall: str
    items: list[ChangeOut]
    total: int
    limit: int
    offset: int


class AccountChangeOut(msgspec.Struct, frozen=True, kw_only=True):
    """A proposed change of a stall's receiving accounts: old → new, who asked, who decided.

    ``state`` is pending, approved, rejected or superseded (a newer request for the stall, or a
    change applied without approval, replaced it).
    """

    id: int
    stall: str
    state: str
    state_label: str
    old_accounts: list[AccountOut]
    new_accounts: list[AccountOut]
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None


class AccountChangePage(msgspec.Struct, frozen=True, kw_only=True):
    """Account changes, newest first; ``total`` counts every match."""

    items: list[AccountChangeOut]
    total: int
    limit: int
    offset: int


class StallUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """What a change of a stall did: the stall as it now is, and the accounts part left pending (if any)."""

    stall: StallOut
    pending_change: AccountChangeOut | None = None
