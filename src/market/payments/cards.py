"""From a registry stall to what its card shows: the VietQR payload of its default account and the card text.

The web routes and the CLI share this glue; the registry (``market.merchants``) owns the stalls,
the renderer (``market.payments.render``) draws plain ``CardData``. A card carries the stall's
*default* account, the one the registry marks for the card (exactly one per stall), as a static
VietQR (01 = 11, no amount) unless a fixed amount or content is asked for.

A stall that has left the market gets no card, and neither does one without an account: both
are errors a market officer can act on, with the stall named.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.banks import find_bank
from market.errors import ConflictError, NotFoundError
from market.merchants.schemas import Account, StallData
from market.merchants.stall_codes import normalize_stall_code
from market.merchants.store import load_stalls, stalls
from market.payments.errors import VietQRError
from market.payments.render import CardData
from market.payments.vietqr import VietQRRequest, build_vietqr, normalize_text

__all__ = [
    "CardSelection",
    "StallCard",
    "renderer_fingerprint",
    "select_cards",
    "stall_card",
]

_LEFT = "left"
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class StallCard:
    """One stall's card, and whether the stall's QR issue is already recorded.

    Attributes:
        card: what the card shows (``card.payload`` is what the QR encodes).
        qr_issued_on: the recorded issue date, ``None`` when the stall never got a card.
    """

    card: CardData
    qr_issued_on: dt.date | None


@dataclass(frozen=True, slots=True)
class CardSelection:
    """The cards of a print sheet, in walking order, and the stalls left out.

    Attributes:
        cards: one card per selected stall, ordered by zone, row, code.
        without_account: codes of stalls in a selected zone (or the whole market) that have no
            account to print, so no card; listed so the office can follow them up.
    """

    cards: list[CardData]
    without_account: list[str]


def _default_account(data: StallData) -> Account | None:
    return next((account for account in data.accounts if account.is_default), None)


def _card(data: StallData, market_name: str, amount: int | None, content: str | None) -> CardData:
    """The card of a stall that may have one; the errors name the stall."""
    if data.status == _LEFT:
        raise ConflictError(
            f"Sạp {data.code} đã ngưng kinh doanh, không cấp mã QR / stall {data.code} has left the market: no card"
        )
    account = _default_account(data)
    if account is None:
        raise ConflictError(
            f"Sạp {data.code} chưa có tài khoản mặc định / stall {data.code} has no default account to print"
        )
    bank = find_bank(account.bank_bin)
    bank_name = bank.short_name if bank else account.bank_bin
    try:
        payload = build_vietqr(
            VietQRRequest(bin=account.bank_bin, account=account.account_number, amount=amount, content=content)
        )
    except VietQRError as error:
        if error.field in ("amount", "content"):
            raise  # the caller's fixed amount or content: a 422 naming the field
        # Otherwise the stored account cannot be a VietQR beneficiary (e.g. a MoMo wallet, which
        # needs its own MOMOW2W reference): the registry must change, not the request.
        raise ConflictError(
            f"Tài khoản mặc định của sạp {data.code} ({bank_name} {account.account_number}) không tạo được "
            f"mã VietQR / stall {data.code}'s default account cannot be put in a VietQR: {error.message}"
        ) from None
    return CardData(
        payload=payload,
        market_name=market_name,
        stall_code=data.code,
        holder_name=data.full_name,
        bank_short_name=bank_name,
        account_number=account.account_number,
        account_holder=account.holder_name,
        zone=data.zone,
        amount=amount,
        # The card shows the content as the payer's app will: folded to ASCII, as in the payload.
        content=_shown_content(content),
    )


def _shown_content(content: str | None) -> str | None:
    return normalize_text(content) or None if content is not None else None


def _canonical(code: str) -> str:
    try:
        return normalize_stall_code(code)
    except ValueError:
        raise NotFoundError(f"Không có sạp {code!r} trong sổ / no stall {code!r} in the registry") from None


def stall_card(
    conn: Connection, code: str, *, market_name: str, amount: int | None = None, content: str | None = None
) -> StallCard:
    """The card of one stall, by any spelling of its code.

    Args:
        conn: a connection (a read is enough).
        code: the stall code ("a12" finds ``A-12``).
        market_name: printed in the card's header (``settings.market_name``).
        amount: a fixed amount in đồng; makes a one-payment (dynamic) QR.
        content: a fixed transfer content; folded to ASCII, at most 25 characters.

    Raises:
        NotFoundError: no such stall.
        ConflictError: the stall has left the market, has no account to print, or its default
            account cannot be put in a VietQR.
        ValidationError: the amount or content breaks a VietQR rule (a 422 naming the field).
    """
    canonical = _canonical(code)
    found = load_stalls(conn, stalls.c.code == canonical)
    if not found:
        raise NotFoundError(f"Không có sạp {code!r} trong sổ / no stall {code!r} in the registry")
    data = found[0].data
    return StallCard(_card(data, market_name, amount, content), data.qr_issued_on)


def _walking_key(data: StallData) -> tuple[object, ...]:
    # The order an officer walks the market in to hand out cards: zone, then row, then stall;
    # "Dãy 2" before "Dãy 10" (numbers compared as numbers), stalls without a row last.
    row = data.row or ""
    parts = tuple((0, int(p)) if p.isdigit() else (1, p.casefold()) for p in _DIGITS.split(row) if p)
    return (data.zone, not row, parts, data.code)


def select_cards(
    conn: Connection, *, market_name: str, zone: str | None = None, codes: Collection[str] = ()
) -> CardSelection:
    """The cards of a print sheet: the whole market, a zone, a list of stalls, or a zone plus stalls.

    Stalls that have left are never printed. A stall named in ``codes`` must have a card (else an
    error naming it); a stall merely in the zone or the market without an account is left out and
    listed in ``without_account``.

    Args:
        conn: a connection (a read is enough).
        market_name: printed in each card's header.
        zone: a zone ("B", any case); with ``codes``, the sheet holds both.
        codes: stall codes, any spelling; duplicates printed once.

    Raises:
        NotFoundError: a code names no stall, or the zone has no stall.
        ConflictError: a named stall has left or has no account to print, or a stall's default
            account cannot be put in a VietQR.
    """
    wanted = {_canonical(code) for code in codes}
    zone_code = zone.strip().upper() if zone and zone.strip() else None
    clauses: list[sa.ColumnElement[bool]] = []
    if wanted:
        clauses.append(stalls.c.code.in_(sorted(wanted)))
    if zone_code is not None:
        clauses.append(sa.and_(stalls.c.zone == zone_code, stalls.c.status != _LEFT))
    where = sa.or_(*clauses) if clauses else stalls.c.status != _LEFT
    found = sorted((stored.data for stored in load_stalls(conn, where)), key=_walking_key)
    missing = wanted - {data.code for data in found}
    if missing:
        listed = ", ".join(sorted(missing))
        raise NotFoundError(f"Không có sạp {listed} trong sổ / no stall {listed} in the registry")
    if zone_code is not None and not any(data.zone == zone_code for data in found):
        raise NotFoundError(f"Khu {zone_code} không có sạp nào đang kinh doanh / zone {zone_code} has no trading stall")
    cards: list[CardData] = []
    without_account: list[str] = []
    for data in found:
        if data.code not in wanted and _default_account(data) is None:
            without_account.append(data.code)
            continue
        cards.append(_card(data, market_name, None, None))
    return CardSelection(cards, without_account)


@functools.cache
def renderer_fingerprint() -> str:
    """A digest of the renderer's code and fonts: it changes exactly when the same data would draw differently.

    Part of the images' HTTP ETag, so that a new release never leaves a phone with its old cached card.
    """
    digest = hashlib.sha256()
    for name, entry in sorted(_renderer_files(resources.files("market.payments.render")), key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(entry.read_bytes())
    return digest.hexdigest()[:16]


def _renderer_files(root: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in root.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                found.extend(_renderer_files(entry, f"{prefix}{entry.name}/"))
        elif entry.name.endswith((".py", ".ttf")):
            found.append((f"{prefix}{entry.name}", entry))
    return found
