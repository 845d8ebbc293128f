"""Turn what a client or a spreadsheet sent (``StallIn``) into a validated ``StallData``.

Every rule is checked and every broken one reported, each under the field's path
(``holder.phone``, ``accounts[1].account_number``), so the API answers one 422 naming all the
bad fields and the CSV import reports them all per row. Normalisers are idempotent: validating
a record built from stored data gives back the same record, which is how PATCH and re-import
detect "nothing changed".
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import TypeVar

import msgspec

from market.banks import check_account_number, find_bank
from market.errors import FieldError, InvalidInputError
from market.formats import parse_date
from market.merchants.contacts import normalize_national_id, normalize_phone
from market.merchants.schemas import Account, AccountIn, HolderIn, OnboardingIn, StallData, StallIn
from market.merchants.stall_codes import normalize_stall_code, zone_of
from market.merchants.vocab import ACCOUNT_KINDS, CATEGORIES, FREQUENCIES, NO_CASHLESS_REASONS, STATUSES, Vocabulary
from market.text import upper_ascii_name

__all__ = ["to_input", "validate_stall"]

T = TypeVar("T")
_SPACES = re.compile(r"\s+")
_MAX_AREA_M2 = 10_000.0


class _Checker:
    """Collects field errors while normalising values, so one pass reports them all."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def run(self, field: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except ValueError as exc:
            self.errors.append(FieldError(field, str(exc)))
            return None

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))


def _text(value: str | None, *, limit: int, field_label: str) -> str | None:
    # NFC: spreadsheets typed with some Vietnamese keyboards hold decomposed letters.
    if value is None:
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()
    if len(text) > limit:
        raise ValueError(f"{field_label} dài quá {limit} ký tự / longer than {limit} characters")
    return text or None


def _optional(value: str | None, fn: Callable[[str], T]) -> T | None:
    return fn(value) if value is not None and value.strip() else None


def _choice(vocab: Vocabulary, value: str) -> str:
    code = vocab.lookup(value)
    if code is None:
        raise ValueError(f"giá trị không hợp lệ {value!r}; chọn một trong / one of: {vocab.describe()}")
    return code


def _area(value: float | None) -> float | None:
    if value is None:
        return None
    if not 0 < value <= _MAX_AREA_M2:
        raise ValueError(f"diện tích phải lớn hơn 0 và không quá {_MAX_AREA_M2:g} m² / area out of range")
    return round(value, 2)


def _account(check: _Checker, path: str, item: AccountIn, full_name: str | None) -> Account | None:
    bank = find_bank(item.bank.strip()) if item.bank.strip() else None
    if bank is None:
        check.fail(f"{path}.bank", f"không tìm thấy ngân hàng {item.bank!r} (BIN, mã hoặc tên) / unknown bank")
    number = item.account_number.strip()
    if (problem := check_account_number(number)) is not None:
        check.fail(f"{path}.account_number", f"{problem} (số tài khoản {item.account_number!r})")
    holder = upper_ascii_name(item.holder_name) if item.holder_name and item.holder_name.strip() else None
    holder = holder or (upper_ascii_name(full_name) if full_name else None)
    # Without a full name there is nothing to derive from; that error is reported on the name itself.
    if (holder is None and full_name) or (holder is not None and (not holder.isascii() or len(holder) > 70)):
        check.fail(f"{path}.holder_name", "tên chủ tài khoản cần chữ in hoa không dấu, tối đa 70 ký tự")
    given_kind = item.kind
    kind = check.run(f"{path}.kind", lambda: _choice(ACCOUNT_KINDS, given_kind)) if given_kind else None
    if bank is None or holder is None or check_account_number(number) is not None:
        return None
    kind = kind or ("e_wallet" if bank.kind == "e-wallet" else "bank_account")
    return Account(bank_bin=bank.bin, account_number=number, holder_name=holder, kind=kind, is_default=item.is_default)


def _accounts(check: _Checker, items: list[AccountIn], full_name: str | None) -> tuple[Account, ...]:
    accounts: list[Account] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        account = _account(check, f"accounts[{index}]", item, full_name)
        if account is None:
            continue
        key = (account.bank_bin, account.account_number)
        if key in seen:
            check.fail(f"accounts[{index}]", f"tài khoản {account.account_number} được nhập hai lần / duplicate")
        seen.add(key)
        accounts.append(account)
    defaults = sum(a.is_default for a in accounts)
    if defaults > 1:
        check.fail("accounts", "chỉ được một tài khoản mặc định (in trên thẻ QR) / exactly one default account")
    elif defaults == 0 and accounts:
        # One account, or none marked: the first one is the card's account.
        accounts[0] = msgspec.structs.replace(accounts[0], is_default=True)
    # The default first, whatever order it came in: one stored order, so re-sending the same
    # accounts (an export read back) is never a change.
    return tuple(sorted(accounts, key=lambda a: not a.is_default))


def validate_stall(stall: StallIn) -> StallData:
    """Check and normalise every field of ``stall``.

    Raises:
        InvalidInputError: one ``FieldError`` per broken rule, named by its path.
    """
    check = _Checker()
    code = check.run("code", lambda: normalize_stall_code(stall.code))
    zone = check.run("zone", lambda: _text(stall.zone, limit=16, field_label="khu"))
    row = check.run("row", lambda: _text(stall.row, limit=32, field_label="dãy"))
    category = check.run("category", lambda: _choice(CATEGORIES, stall.category))
    area = check.run("area_m2", lambda: _area(stall.area_m2))
    status = check.run("status", lambda: _choice(STATUSES, stall.status))
    status_since = check.run("status_since", lambda: _optional(stall.status_since, parse_date))
    holder: HolderIn = stall.holder
    errors_before = len(check.errors)
    full_name = check.run("holder.full_name", lambda: _text(holder.full_name, limit=120, field_label="họ tên"))
    if full_name is None and len(check.errors) == errors_before:
        check.fail("holder.full_name", "cần họ tên tiểu thương / full name is required")
    phone = check.run("holder.phone", lambda: _optional(holder.phone, normalize_phone))
    zalo = check.run("holder.zalo", lambda: _optional(holder.zalo, normalize_phone))
    national_id = check.run("holder.national_id", lambda: _optional(holder.national_id, normalize_national_id))
    frequency = check.run("holder.trading_frequency", lambda: _choice(FREQUENCIES, holder.trading_frequency))
    accounts = _accounts(check, stall.accounts, full_name)
    onboarding: OnboardingIn = stall.onboarding
    qr_issued_on = check.run("onboarding.qr_issued_on", lambda: _optional(onboarding.qr_issued_on, parse_date))
    if (onboarding.qr_issued_on or onboarding.qr_displayed) and not stall.accounts:
        check.fail("onboarding.qr_displayed", "mã QR cần một tài khoản nhận tiền / a QR needs a payment account")
    reason = check.run(
        "onboarding.no_cashless_reason",
        lambda: _optional(onboarding.no_cashless_reason, lambda v: _choice(NO_CASHLESS_REASONS, v)),
    )
    note = check.run(
        "onboarding.no_cashless_note", lambda: _text(onboarding.no_cashless_note, limit=500, field_label="ghi chú")
    )
    if reason == "other" and not note:
        check.fail("onboarding.no_cashless_note", "lý do 'Khác' cần ghi rõ / reason 'other' needs a note")
    if check.errors or code is None or full_name is None:
        raise InvalidInputError(check.errors)
    has_bank_account = onboarding.has_bank_account
    if has_bank_account is None:
        has_bank_account = any(a.kind == "bank_account" for a in accounts)
    return StallData(
        code=code,
        zone=(zone or zone_of(code)).upper(),
        row=row,
        category=category or "other",
        area_m2=area,
        status=status or "active",
        status_since=status_since,
        full_name=full_name,
        phone=phone,
        zalo=zalo,
        national_id=national_id,
        trading_frequency=frequency or "daily",
        has_bank_account=has_bank_account,
        has_payment_app=onboarding.has_payment_app,
        qr_issued_on=qr_issued_on,
        qr_displayed=onboarding.qr_displayed,
        no_cashless_reason=reason,
        no_cashless_note=note,
        accounts=accounts,
    )


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def to_input(data: StallData) -> StallIn:
    """The input that validates back to ``data`` (the starting point of a PATCH)."""
    return StallIn(
        code=data.code,
        zone=data.zone,
        row=data.row,
        category=data.category,
        area_m2=data.area_m2,
        status=data.status,
        status_since=_iso(data.status_since),
        holder=HolderIn(
            full_name=data.full_name,
            phone=data.phone,
            zalo=data.zalo,
            national_id=data.national_id,
            trading_frequency=data.trading_frequency,
        ),
        accounts=[
            AccountIn(
                bank=a.bank_bin,
                account_number=a.account_number,
                holder_name=a.holder_name,
                kind=a.kind,
                is_default=a.is_default,
            )
            for a in data.accounts
        ],
        onboarding=OnboardingIn(
            has_bank_account=data.has_bank_account,
            has_payment_app=data.has_payment_app,
            qr_issued_on=_iso(data.qr_issued_on),
            qr_displayed=data.qr_displayed,
            no_cashless_reason=data.no_cashless_reason,
            no_cashless_note=data.no_cashless_note,
        ),
    )
