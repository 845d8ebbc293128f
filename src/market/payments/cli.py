"""``market qr ...``: build a VietQR payload, or read one back.

The group is a public contract (design.md): ``qr encode`` prints the payload, ``qr decode``
prints the parsed fields as JSON; bad input prints one ``Error: ...`` line on standard error
and exits with status 2. Other packages add commands to the group (``qr image``).
"""

from __future__ import annotations

from typing import NoReturn

import click
import msgspec

from market.payments.banks import get_bank
from market.payments.errors import ValidationError, VietQRError
from market.payments.vietqr import SERVICE_ACCOUNT, SERVICE_CARD, VietQRRequest, build_vietqr, parse_vietqr

__all__ = ["COMMANDS", "qr"]

USAGE_ERROR = 2  # click's own status for usage errors; the contract says 2 for bad input too


def _fail(error: VietQRError) -> NoReturn:
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
@click.option("--card", is_flag=True, help="Transfer to a card number (QRIBFTTC) instead of an account.")
def encode(bank_query: str, account: str, amount: str | None, purpose: str | None, card: bool) -> None:
    """Print the VietQR payload for a transfer to ACCOUNT at BANK."""
    try:
        request = VietQRRequest(
            bin=get_bank(bank_query).bin,
            account=account,
            amount=_amount(amount),
            content=purpose,
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


# The top-level ``market`` command adds every command listed here (see market.cli).
COMMANDS = [qr]
