"""Demo registry: about 120 stalls of a Mekong-delta market, in the seed article's proportions.

The seed (what the market reports of itself): every holder has a bank account, about 70 % take QR payments, and
the rest mostly do not because their trade is small or irregular. Names, banks and numbers are
invented but shaped like An Giang's: Agribank first, the big four state banks, Sacombank, MB,
MoMo as a second account; CCCD numbers start with An Giang's province code 089. The same seed
always builds the same market.
"""

from __future__ import annotations

import datetime as dt
import random

from market.config import Settings
from market.db import create_sync_engine_for, utcnow
from market.merchants.schemas import AccountIn, HolderIn, OnboardingIn, StallData, StallIn
from market.merchants.store import insert_stalls
from market.merchants.validation import validate_stall

__all__ = ["QR_SHARE", "SEED", "ZONES", "build_stalls", "populate"]

SEED = 20241008  # the date of the seed article's working session
QR_SHARE = 0.70
# Zone → (category, number of stalls); larger markets zone by goods category (NĐ 60/2024).
ZONES: dict[str, tuple[str, int]] = {
    "A": ("fresh_food", 36),
    "B": ("dry_goods", 30),
    "C": ("clothing", 24),
    "D": ("food_stall", 18),
    "E": ("services", 8),
    "F": ("other", 4),
}
# (bank, weight, account-number length): Agribank dominates in the rural Mekong delta.
_BANKS = (
    ("Agribank", 34, 13),
    ("VietinBank", 14, 12),
    ("BIDV", 12, 14),
    ("Vietcombank", 12, 10),
    ("Sacombank", 10, 12),
    ("MB", 8, 11),
    ("Kienlongbank", 4, 10),
    ("ACB", 3, 9),
    ("Techcombank", 3, 14),
)
# Why the rest do not take QR yet: mostly small or irregular trade (the seed's 30 %).
_REASONS = ("small_irregular",) * 7 + ("prefers_cash", "no_smartphone", "fees")
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Lý")
_MIDDLE_F = ("Thị", "Ngọc", "Thị Kim", "Thị Thanh", "Thị Mỹ", "Bích")
_MIDDLE_M = ("Văn", "Minh", "Hữu", "Thanh", "Quốc", "Văn Út")
_GIVEN_F = ("Đào", "Lan", "Hoa", "Cúc", "Hạnh", "Thảo", "Nhung", "Mai", "Hương", "Bé", "Diễm", "Loan", "Phượng")
_GIVEN_M = ("Hùng", "Dũng", "Tâm", "Phúc", "Sang", "Tài", "Lộc", "Hải", "Nghĩa", "Trí", "Khánh", "Thành")
_MOBILE_PREFIXES = (
    "091",
    "094",
    "088",
    "083",
    "084",
    "096",
    "097",
    "098",
    "086",
    "032",
    "035",
    "039",
    "070",
    "077",
    "090",
)


def _name(rng: random.Random) -> tuple[str, bool]:
    female = rng.random() < 0.7  # most market traders are women
    middle, given = (_MIDDLE_F, _GIVEN_F) if female else (_MIDDLE_M, _GIVEN_M)
    return f"{rng.choice(_FAMILY)} {rng.choice(middle)} {rng.choice(given)}", female


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"
        if phone not in used:
            used.add(phone)
            return phone


def _accounts(rng: random.Random, phone: str, takes_qr: bool) -> list[AccountIn]:
    bank, _, length = rng.choices(_BANKS, weights=[b[1] for b in _BANKS])[0]
    number = (
        phone
        if bank == "MB" and rng.random() < 0.5
        else f"{rng.randrange(1, 10):d}" + "".join(str(rng.randrange(10)) for _ in range(length - 1))
    )
    accounts = [AccountIn(bank=bank, account_number=number, is_default=True)]
    if takes_qr and rng.random() < 0.25:
        accounts.append(AccountIn(bank="MoMo", account_number=phone))
    return accounts


def _stall(rng: random.Random, code: str, category: str, takes_qr: bool, used_phones: set[str]) -> StallIn:
    full_name, female = _name(rng)
    phone = _phone(rng, used_phones)
    reason = None if takes_qr else rng.choice(_REASONS)
    frequency = "daily" if takes_qr or reason != "small_irregular" else rng.choice(("session", "seasonal"))
    birth_year = rng.randrange(1958, 2000)
    national_id = None
    if rng.random() < 0.6:
        national_id = f"089{int(female)}{birth_year % 100:02d}{rng.randrange(10**6):06d}"
    issued = dt.date(2024, 3, 1) + dt.timedelta(days=rng.randrange(214)) if takes_qr else None
    return StallIn(
        code=code,
        row=f"Dãy {rng.randrange(1, 5)}",
        category=category,
        area_m2=rng.randrange(6, 25) / 2,
        holder=HolderIn(
            full_name=full_name,
            phone=phone,
            zalo=phone if rng.random() < 0.8 else None,
            national_id=national_id,
            trading_frequency=frequency,
        ),
        accounts=_accounts(rng, phone, takes_qr),
        onboarding=OnboardingIn(
            has_bank_account=True,
            has_payment_app=takes_qr or rng.random() < 0.5,
            qr_issued_on=issued.isoformat() if issued else None,
            qr_displayed=takes_qr,
            no_cashless_reason=reason,
        ),
    )


def build_stalls(seed: int = SEED) -> list[StallData]:
    """The demo market's stalls, the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    codes = [(f"{zone}-{n:02d}", category) for zone, (category, count) in ZONES.items() for n in range(1, count + 1)]
    qr_count = round(len(codes) * QR_SHARE)
    takes_qr = set(rng.sample(range(len(codes)), qr_count))
    used_phones: set[str] = set()
    return [
        validate_stall(_stall(rng, code, category, index in takes_qr, used_phones))
        for index, (code, category) in enumerate(codes)
    ]


def populate(settings: Settings) -> None:
    """Register the demo market's stalls in the (freshly migrated) database of ``settings``."""
    engine = create_sync_engine_for(settings)
    try:
        with engine.begin() as conn:
            insert_stalls(conn, build_stalls(), "demo", utcnow())
    finally:
        engine.dispose()
