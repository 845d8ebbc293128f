"""``market qr ...`` (build a VietQR payload, read one back, draw a stall's QR) and ``market cards`` (print sheet).

The commands are a public contract (docs/contract.md): ``qr encode`` prints the payload, ``qr decode``
prints the parsed fields as JSON, ``qr image`` writes one stall's QR as PNG or SVG, ``cards``
writes the print sheet of stall cards as PDF. Bad input, an unknown stall or a stall without a
card prints one ``Error: ...`` line on standard error and exits with status 2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NoReturn

import click
import msgspec
import sqlalchemy as sa

from market.cliutil import cli_actor, cli_settings, sync_engine
from market.config import Settings
from market.errors import MarketError
from market.formats import local_today
from market.merchants.service import record_qr_issued
from market.payments.banks import get_bank
from market.payments.cards import select_cards, stall_card
from market.payments.errors import ValidationError, VietQRError
from market.payments.render import qr_png, qr_svg, write_sheet
from market.payments.render.sheet import CARDS_PER_PAGE
from market.payments.vietqr import SERVICE_ACCOUNT, SERVICE_CARD, VietQRRequest, build_vietqr, parse_vietqr

__all__ = ["COMMANDS", "cards", "qr"]

USAGE_ERROR = 2  # click's own status for usage errors; the contract says 2 for bad input too


def _fail(error: MarketError) -> NoReturn:
    """Print the error the way click prints its own, and exit 2."""
    click.echo(f"Error: {error}", err=True)
    raise click.exceptions.Exit(USAGE_ERROR)


def _amount(text: str | None) -> int | None:
    """Parse ``--amount``: whole đồng in ASCII digits only, so "1,000" or "1500.5" is refused."""
    if text is None:
        return None
    cleaned = text.strip()
    if not (cleaned.isascii() and cleaned.isdigit()):
        raise ValidationError("amount", "format", f"must be whole đồng in digits, e.g. 50000; got {text!r}")
    return int(cleaned)


@click.group("qr")
def qr() -> None:
    """VietQR payloads (mã VietQR): build one, or read one back."""


@qr.command("encode")
@click.option(
    "--bank",
    "bank_query",
    required=True,
    metavar="BIN_OR_SHORTNAME",
    help="Beneficiary bank: BIN (970436), code (VCB) or name (Vietcombank).",
)
@click.option("--account", required=True, metavar="N", help="Account number, or card number with --card.")
@click.option("--amount", metavar="VND", help="Amount in đồng (digits only); makes a one-payment, dynamic QR.")
@click.option(
    "--purpose", metavar="TEXT", help="Transfer content (nội dung); diacritics are folded, at most 25 characters."
)
@click.option(
    "--reference",
    metavar="TEXT",
    help="Reference label (62/05); MoMo (971025) needs its wallet's MOMOW2W + 8 digits, from its receive QR.",
)
@click.option("--bill-number", metavar="TEXT", help="Bill number (62/01), at most 25 characters.")
@click.option("--card", is_flag=True, help="Transfer to a card number (QRIBFTTC) instead of an account.")
def encode(
    bank_query: str,
    account: str,
    amount: str | None,
    purpose: str | None,
    reference: str | None,
    bill_number: str | None,
    card: bool,
) -> None:
    """Print the VietQR payload for a transfer to ACCOUNT at BANK."""
    try:
        request = VietQRRequest(
            bin=get_bank(bank_query).bin,
            account=account,
            amount=_amount(amount),
            content=purpose,
            bill_number=bill_number,
            reference=reference,
            service=SERVICE_CARD if card else SERVICE_ACCOUNT,
        )
        payload = build_vietqr(request)
    except VietQRError as error:
        _fail(error)
    click.echo(payload)


@qr.command("decode")
@click.argument("payload")
def decode(payload: str) -> None:
    """Print the fields of a VietQR PAYLOAD as JSON."""
    try:
        parsed = parse_vietqr(payload)
    except VietQRError as error:
        _fail(error)
    document = msgspec.to_builtins(parsed)
    document["is_card"] = parsed.is_card
    document["raw"] = parsed.raw
    click.echo(msgspec.json.format(msgspec.json.encode(document), indent=2).decode())


@contextmanager
def _registry(settings: Settings) -> Iterator[sa.Engine]:
    """The database engine; a domain error exits 2 with its message, a database error with one line."""
    with sync_engine(settings) as engine:
        try:
            yield engine
        except MarketError as error:
            _fail(error)


def _write_atomically(out: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``out`` through a temporary file beside it, so a failure never leaves half a file."""
    # A plain open (not mkstemp) so that the file gets the user's usual permissions.
    temporary = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        with temporary.open("wb") as handle:
            write(handle)
        temporary.replace(out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _out_path(out: Path, suffixes: tuple[str, ...]) -> str:
    suffix = out.suffix.lower()
    if suffix not in suffixes:
        raise click.UsageError(f"--out: tên tệp phải kết thúc bằng / file name must end in {' or '.join(suffixes)}")
    if not out.parent.is_dir():
        raise click.UsageError(f"--out: không có thư mục / no such folder: {out.parent}")
    return suffix


@qr.command("image")
@click.argument("stall")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.png or FILE.svg to write."
)
@click.option("--amount", metavar="VND", help="Fixed amount in đồng (digits only); makes a one-payment QR.")
@click.option("--purpose", metavar="TEXT", help="Fixed transfer content; diacritics folded, at most 25 characters.")
def image(stall: str, out: Path, amount: str | None, purpose: str | None) -> None:
    """Write the VietQR of STALL's default account (any spelling: a12, A-12) as PNG (300 dpi) or SVG."""
    suffix = _out_path(out, (".png", ".svg"))
    settings = cli_settings()
    with _registry(settings) as engine, engine.connect() as conn:
        found = stall_card(conn, stall, market_name=settings.market_name, amount=_amount(amount), content=purpose)
    payload = found.card.payload
    data = qr_svg(payload).encode() if suffix == ".svg" else qr_png(payload)
    _write_atomically(out, lambda handle: handle.write(data))
    click.echo(f"Đã ghi mã QR sạp {found.card.stall_code} vào {out} / wrote stall {found.card.stall_code}'s QR")


@click.command("cards")
@click.option("--zone", metavar="Z", help="Only this zone (with --stall: the zone plus those stalls).")
@click.option("--stall", "stalls", multiple=True, metavar="CODE", help="A stall to print (repeat; any spelling).")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.pdf to write (A4 pages)."
)
@click.option("--user", default=None, help="Who issues the cards, for the history (default: $USER).")
def cards(zone: str | None, stalls: tuple[str, ...], out: Path, user: str | None) -> None:
    """Write the print sheet: four A6 stall cards per A4 page with crop marks, in walking order.

    Without --zone or --stall, the whole market (stalls that have left excepted). Stalls without
    an account are skipped and listed. Every printed stall is recorded as "QR issued" today.
    """
    _out_path(out, (".pdf",))
    settings = cli_settings()
    with _registry(settings) as engine:
        with engine.connect() as conn:
            selection = select_cards(conn, market_name=settings.market_name, zone=zone, codes=stalls)
        with click.progressbar(length=len(selection.cards), label="Vẽ thẻ / drawing cards", file=sys.stderr) as bar:
            _write_atomically(
                out, lambda handle: write_sheet(selection.cards, handle, progress=lambda _done: bar.update(1))
            )
        codes = [card.stall_code for card in selection.cards]
        with engine.connect() as conn:
            # Reads then writes: take SQLite's write lock at BEGIN (db.py ``_on_begin``).
            conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                record_qr_issued(conn, codes, cli_actor(user), local_today(settings.timezone))
    count = len(selection.cards)
    pages = -(-count // CARDS_PER_PAGE)
    plural = "s" if pages != 1 else ""
    click.echo(f"Đã ghi {count} thẻ, {pages} trang vào {out} / wrote {count} card(s) on {pages} page{plural}")
    if selection.without_account:
        skipped = ", ".join(selection.without_account)
        click.echo(f"Bỏ qua sạp chưa có tài khoản / skipped stalls without an account: {skipped}", err=True)


# The top-level ``market`` command adds every command listed here (see market.cli).
COMMANDS = [qr, cards]
