"""The print sheet: every selected stall's card, four A6 cards per A4 page, with crop marks.

Four A6 cards fill an A4 page exactly (2 × 105 mm by 2 × 148 mm, 0.5 mm spare at top and
bottom), so one cut along each centre line gives four cards: the crop marks sit on those two
lines, at the page edges and as a cross in the centre. They fall in the 5 mm white margin
every card keeps (card.py), 4 mm in from the paper edge where printers can still print.

Pages are written as soon as they are full (pdf.py streams), so memory does not grow with
the size of the market.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import BinaryIO

from PIL import Image

from market.errors import FieldError, InvalidInputError
from market.payments.render.card import CardData, card_image
from market.payments.render.fonts import nfc
from market.payments.render.geometry import A4_MM, A6_MM, mm_to_pt
from market.payments.render.pdf import Line, PdfWriter, Placement

__all__ = ["CARDS_PER_PAGE", "write_sheet"]

CARDS_PER_PAGE = 4

_PAGE_W, _PAGE_H = mm_to_pt(A4_MM[0]), mm_to_pt(A4_MM[1])
_CARD_W, _CARD_H = mm_to_pt(A6_MM[0]), mm_to_pt(A6_MM[1])
_TOP = (_PAGE_H - 2 * _CARD_H) / 2
_CUT_X, _CUT_Y = _PAGE_W / 2, _PAGE_H / 2
_MARK_FROM, _MARK_TO = mm_to_pt(4), mm_to_pt(12)
_CROSS = mm_to_pt(6)

# Slots in reading order (left to right, top to bottom); PDF y runs upwards from the bottom.
_SLOTS = [(col * _CARD_W, _PAGE_H - _TOP - (row + 1) * _CARD_H) for row in range(2) for col in range(2)]

_CROP_MARKS = [
    Line(_CUT_X, _PAGE_H - _MARK_FROM, _CUT_X, _PAGE_H - _MARK_TO),
    Line(_CUT_X, _MARK_FROM, _CUT_X, _MARK_TO),
    Line(_MARK_FROM, _CUT_Y, _MARK_TO, _CUT_Y),
    Line(_PAGE_W - _MARK_FROM, _CUT_Y, _PAGE_W - _MARK_TO, _CUT_Y),
    Line(_CUT_X - _CROSS, _CUT_Y, _CUT_X + _CROSS, _CUT_Y),
    Line(_CUT_X, _CUT_Y - _CROSS, _CUT_X, _CUT_Y + _CROSS),
]


def _add_page(writer: PdfWriter, cards: list[Image.Image]) -> None:
    placements = [Placement(card, x, y, _CARD_W, _CARD_H) for card, (x, y) in zip(cards, _SLOTS, strict=False)]
    writer.add_page(_PAGE_W, _PAGE_H, placements, _CROP_MARKS)


def write_sheet(
    cards: Iterable[CardData],
    out: BinaryIO,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the print sheet of ``cards`` (in the given order) to ``out`` as a multi-page A4 PDF.

    Args:
        cards: the cards to print; consumed once, so a generator over the registry works.
        out: a binary stream (a file opened ``"wb"`` or a ``BytesIO``).
        progress: called after each card with the number of cards drawn so far (for a progress bar).

    Returns:
        The number of cards written.

    Raises:
        InvalidInputError: there is no card to print, or a card is invalid (see ``card_image``).
    """
    writer: PdfWriter | None = None
    page: list[Image.Image] = []
    done = 0
    for card in cards:
        if writer is None:
            writer = PdfWriter(out, title=f"Thẻ VietQR · {nfc(card.market_name)}")
        page.append(card_image(card, mode="1"))
        done += 1
        if progress is not None:
            progress(done)
        if len(page) == CARDS_PER_PAGE:
            _add_page(writer, page)
            page = []
    if writer is None:
        raise InvalidInputError([FieldError("stalls", "không có sạp nào để in / no stall to print")])
    if page:
        _add_page(writer, page)
    writer.close()
    return done
