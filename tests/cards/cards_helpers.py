"""Helpers for the card tests: stalls in the registry, and reading QR codes back from our images.

Not a test module (no ``test_`` prefix). The scanning and rasterising helpers are the render
tests' own (tests/render/render_scan.py), loaded by path so both suites read images the same way.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from market.merchants import service
from market.merchants.schemas import AccountIn, HolderIn, OnboardingIn, StallIn
from market.payments import VietQRRequest, build_vietqr


def _render_scan():  # type: ignore[no-untyped-def]
    name = "render_scan"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "render" / "render_scan.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_scan = _render_scan()
scan = _scan.scan
pdf_pages = _scan.pdf_pages
rasterise_svg = _scan.rasterise_svg
degrade = _scan.degrade

# The card's account: Agribank (BIN 970405), the bank of most An Giang stall holders.
AGRIBANK = "970405"


def account_number(n: int) -> str:
    """A distinct 13-digit Agribank-shaped account number."""
    return f"60152944{n:05d}"


def static_payload(number: str, bank_bin: str = AGRIBANK) -> str:
    """What the card of a stall whose default account is ``number`` must encode: the static VietQR."""
    return build_vietqr(VietQRRequest(bin=bank_bin, account=number))


def add_stall(
    conn,
    code: str,
    *,
    n: int = 1,
    name: str = "Nguyễn Thị Đào",
    row: str | None = None,
    status: str = "active",
    accounts: list[AccountIn] | None = None,
    qr_issued_on: str | None = None,
) -> None:
    """Register a stall through the registry's service (one Agribank account unless ``accounts`` says)."""
    stall = StallIn(
        code=code,
        row=row,
        status=status,
        holder=HolderIn(full_name=name),
        accounts=[AccountIn(bank="Agribank", account_number=account_number(n))] if accounts is None else accounts,
        onboarding=OnboardingIn(qr_issued_on=qr_issued_on),
    )
    service.create_stall(conn, stall, "test")


def today_in_vietnam() -> dt.date:
    """The market's date, the one a card issue is recorded on."""
    return dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def qr_issued_entries(conn, code: str) -> list:
    """The history entries recording the stall's QR issue date."""
    history = service.stall_history(conn, code)
    return [item for item in history.items if item.field == "onboarding.qr_issued_on"]
