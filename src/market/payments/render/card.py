"""The stall card: an A6 portrait card at 300 dpi that a stall holder tapes to the stall.

It reproduces what vietqr.io's ``print`` template shows (its Quick Link: QR, account holder,
account number, bank, amount and content when fixed), rendered locally because that service is
being wound down, plus what a market needs:
the market name, the stall code in type readable across the aisle, and the holder's name.

Black on white only: the market office prints on monochrome laser printers, and a 1-bit card
at 300 dpi is exactly what such a printer produces. Every element stays 5 mm inside the card
edge: printers cannot print to the paper edge and scissors do not cut straight.
"""

from __future__ import annotations

import functools
import io
import threading
from dataclasses import dataclass
from typing import Literal

import msgspec
from PIL import Image, ImageDraw, ImageFont

from market.errors import FieldError, InvalidInputError
from market.formats import integer
from market.payments.render.fonts import font, nfc
from market.payments.render.geometry import A6_MM, PRINT_DPI, mm_to_pt, mm_to_px
from market.payments.render.pdf import PdfWriter, Placement
from market.payments.render.qr import encode_qr, qr_image

__all__ = [
    "CARD_SIZE_PX",
    "NETWORK_LINE",
    "SCAN_LINE",
    "CardData",
    "card_image",
    "card_pdf",
    "card_png",
    "format_vnd",
]

SCAN_LINE = "Quét mã VietQR để thanh toán"
NETWORK_LINE = "Chuyển khoản nhanh NAPAS 247 · VietQR"

CARD_SIZE_PX = (mm_to_px(A6_MM[0]), mm_to_px(A6_MM[1]))

_SAFE = mm_to_px(5)  # frame inset from the card edge
_FRAME = 4  # frame line, px (0.34 mm)
_RADIUS = 36
_PAD = 36  # inside the frame
_HEADER = 150  # height of the black band holding the market name
_LEFT = _SAFE + _PAD
_RIGHT = CARD_SIZE_PX[0] - _SAFE - _PAD
_WIDTH = _RIGHT - _LEFT
_BOTTOM = CARD_SIZE_PX[1] - _SAFE - 30
# QR modules: at least 0.5 mm so a phone reads the card from a step away; at most 20 px
# (1.7 mm), beyond which a short payload's QR only grows out of scale with the text.
_MIN_MODULE_PX = mm_to_px(0.5)
_MAX_MODULE_PX = 20
# DejaVu Sans: capitals stand 0.73 em above the baseline; label descenders reach 10 px at 34 px.
_CAP_HEIGHT = 0.73
_DESCENT = 10
_LABEL_SIZE = 34

_DRAW_LOCK = threading.Lock()

Mode = Literal["1", "L"]


class CardData(msgspec.Struct, frozen=True, kw_only=True):
    """What one stall card shows: plain values, no database objects.

    Attributes:
        payload: the VietQR string the QR encodes.
        market_name: printed in the header, e.g. "Chợ Thoại Giang".
        stall_code: the stall's code, printed large, e.g. "A-12".
        holder_name: the stall holder's name, with diacritics.
        bank_short_name: the bank as people call it, e.g. "Vietcombank".
        account_number: the receiving account.
        account_holder: the account holder's name as the bank shows it, e.g. "NGUYEN THI DAO".
        zone: the market zone, printed above the stall code when given.
        amount: the fixed amount in đồng, when the QR carries one.
        content: the fixed transfer content, when the QR carries one.
    """

    payload: str
    market_name: str
    stall_code: str
    holder_name: str
    bank_short_name: str
    account_number: str
    account_holder: str
    zone: str | None = None
    amount: int | None = None
    content: str | None = None


def format_vnd(amount: int) -> str:
    """The amount printed on a card: ``50.000 đ`` (still "đ", not the "₫" of :func:`market.formats.money`)."""
    return f"{integer(amount)} đ"


@dataclass(frozen=True, slots=True)
class _Line:
    """One line of text with its ink box relative to the baseline (``top`` is negative)."""

    text: str
    font: ImageFont.FreeTypeFont
    top: int
    bottom: int

    @property
    def height(self) -> int:
        return self.bottom - self.top


def _line(text: str, face: ImageFont.FreeTypeFont) -> _Line:
    _, top, _, bottom = face.getbbox(text, anchor="ls")
    return _Line(text, face, int(top), int(bottom))


def _fit(text: str, width: int, max_size: int, min_size: int, *, bold: bool) -> _Line:
    """``text`` at the largest size (``max_size`` down to ``min_size``) that fits ``width``, else cut with "…"."""
    text = nfc(" ".join(text.split()))
    length = font(max_size, bold=bold).getlength(text)
    size = max_size if length <= width else max(min_size, int(max_size * width / length))
    while size > min_size and font(size, bold=bold).getlength(text) > width:
        size -= 1  # hinting makes advance widths not quite proportional to the size
    face = font(size, bold=bold)
    while len(text) > 1 and face.getlength(text) > width:
        text = text[:-2].rstrip() + "…"
    return _line(text, face)


def _check(data: CardData) -> None:
    required = {
        "payload": data.payload,
        "market_name": data.market_name,
        "stall_code": data.stall_code,
        "holder_name": data.holder_name,
        "bank_short_name": data.bank_short_name,
        "account_number": data.account_number,
        "account_holder": data.account_holder,
    }
    errors = [
        FieldError(name, "không được để trống / must not be blank") for name, v in required.items() if not v.strip()
    ]
    if data.amount is not None and data.amount <= 0:
        errors.append(FieldError("amount", "phải lớn hơn 0 / must be positive"))
    if errors:
        raise InvalidInputError(errors)


def _details(data: CardData) -> list[tuple[str, str, int]]:
    """Label, value and the value's largest type size for the account table."""
    rows = [
        ("Ngân hàng", data.bank_short_name, 46),
        ("Số tài khoản", data.account_number, 60),
        ("Chủ tài khoản", data.account_holder, 46),
    ]
    if data.amount is not None:
        rows.append(("Số tiền", format_vnd(data.amount), 52))
    if data.content:
        rows.append(("Nội dung", data.content, 46))
    return rows


@dataclass(frozen=True, slots=True)
class _Template:
    """What every card of a market with the same table rows shares, drawn once.

    Attributes:
        image: frame, header with the market name, table labels, rule and scan wording.
        baselines: the baseline of each table row, top to bottom.
        qr_bottom: the lowest pixel row the QR may use.
    """

    image: Image.Image
    baselines: tuple[int, ...]
    qr_bottom: int


@functools.lru_cache(maxsize=16)
def _template(market_name: str, rows: tuple[tuple[str, int], ...], mode: Mode) -> _Template:
    image = Image.new(mode, CARD_SIZE_PX, 255)
    draw = ImageDraw.Draw(image)
    centre = CARD_SIZE_PX[0] // 2
    draw.rounded_rectangle(
        (_SAFE, _SAFE, CARD_SIZE_PX[0] - _SAFE, CARD_SIZE_PX[1] - _SAFE), _RADIUS, outline=0, width=_FRAME
    )
    draw.rounded_rectangle(
        (_SAFE, _SAFE, CARD_SIZE_PX[0] - _SAFE, _SAFE + _HEADER), _RADIUS, fill=0, corners=(True, True, False, False)
    )
    market = _fit(market_name, _WIDTH, 64, 32, bold=True)
    draw.text((centre, _SAFE + (_HEADER + market.height) // 2 - market.bottom), market.text, 255, market.font, "ms")

    # The bottom block is laid out upwards from the frame, so the QR takes what is left. Each
    # row's pitch follows its largest type size, not the fitted one, so rows stay evenly spaced.
    bottom = _BOTTOM
    baselines: list[int] = []
    for label, size in reversed(rows):
        baseline = bottom - _DESCENT
        draw.text((_LEFT, baseline), label, 0, font(_LABEL_SIZE), "ls")
        baselines.append(baseline)
        bottom = baseline - round(_CAP_HEIGHT * size) - 20
    bottom -= 8
    draw.line((_LEFT, bottom, _RIGHT, bottom), fill=0, width=3)
    bottom -= 22
    for line in (_fit(NETWORK_LINE, _WIDTH, 38, 26, bold=False), _fit(SCAN_LINE, _WIDTH, 56, 32, bold=True)):
        draw.text((centre, bottom - line.bottom), line.text, 0, line.font, "ms")
        bottom -= line.height + 14
    return _Template(image, tuple(reversed(baselines)), bottom)


def card_image(data: CardData, *, mode: Mode = "L") -> Image.Image:
    """Draw the card: 1240 × 1748 px (A6 at 300 dpi), grey-level antialiased (``"L"``) or 1-bit (``"1"``).

    Raises:
        InvalidInputError: a required field is blank, the amount is not positive, or the
            payload is too long to print legibly on a card.
    """
    _check(data)
    details = _details(data)
    # FreeType faces are not safe to use from two threads at once ("FT_Face objects are not
    # thread-safe", FreeType API reference), and the cached faces are shared: the web layer
    # renders in a thread pool, so drawing is serialised.
    with _DRAW_LOCK:
        template = _template(nfc(data.market_name), tuple((label, size) for label, _, size in details), mode)
        image = template.image.copy()
        draw = ImageDraw.Draw(image)
        centre = CARD_SIZE_PX[0] // 2
        caption = "SẠP" if not data.zone else f"SẠP · {nfc(data.zone).upper()}"
        top_block = [
            (28, _fit(caption, _WIDTH, 44, 28, bold=False)),
            (20, _fit(data.stall_code, _WIDTH, 240, 96, bold=True)),
            (26, _fit(data.holder_name, _WIDTH, 72, 40, bold=True)),
        ]
        y = _SAFE + _HEADER
        for gap, line in top_block:
            y += gap - line.top
            draw.text((centre, y), line.text, 0, line.font, "ms")
            y += line.bottom
        label_face = font(_LABEL_SIZE)
        for (label, value, size), baseline in zip(details, template.baselines, strict=True):
            value_line = _fit(value, _WIDTH - int(label_face.getlength(label)) - 30, size, 26, bold=True)
            draw.text((_RIGHT, baseline), value_line.text, 0, value_line.font, "rs")
    _draw_qr(image, data.payload, top=y + 6, bottom=template.qr_bottom)
    return image


def _draw_qr(image: Image.Image, payload: str, *, top: int, bottom: int) -> None:
    matrix = encode_qr(payload)
    module_px = min(_MAX_MODULE_PX, (bottom - top) // matrix.size, _WIDTH // matrix.size)
    if module_px < _MIN_MODULE_PX:
        message = "quá dài để in rõ trên thẻ / too long to print legibly on a card"
        raise InvalidInputError([FieldError("payload", message)])
    symbol = qr_image(matrix, module_px, mode="1")
    image.paste(symbol, ((image.width - symbol.width) // 2, top + (bottom - top - symbol.height) // 2))


def card_png(data: CardData) -> bytes:
    """The card as a 300 dpi greyscale PNG (prints at exactly A6)."""
    out = io.BytesIO()
    card_image(data).save(out, format="PNG", dpi=(PRINT_DPI, PRINT_DPI))
    return out.getvalue()


def card_pdf(data: CardData) -> bytes:
    """The card as a one-page A6 PDF, the card image stored losslessly at 300 dpi."""
    out = io.BytesIO()
    writer = PdfWriter(out, title=f"{nfc(data.market_name)} · {nfc(data.stall_code)}")
    width, height = mm_to_pt(A6_MM[0]), mm_to_pt(A6_MM[1])
    writer.add_page(width, height, [Placement(card_image(data, mode="1"), 0, 0, width, height)])
    writer.close()
    return out.getvalue()
