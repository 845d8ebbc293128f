"""The print sheet: A4 pages of four A6 cards with crop marks; every card on every page scans back."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from render_scan import degrade, pdf_page_sizes_mm, pdf_pages, scan

from market.errors import InvalidInputError
from market.payments import VietQRRequest, build_vietqr
from market.payments.render import CardData, write_sheet


def _cards(count: int) -> list[CardData]:
    cards = []
    for i in range(count):
        account = f"00710012{i:05d}"
        cards.append(
            CardData(
                payload=build_vietqr(VietQRRequest(bin="970436", account=account)),
                market_name="Chợ Thoại Giang",
                stall_code=f"A-{i + 1}",
                holder_name="Lê Thị Hồng Nhung",
                bank_short_name="Vietcombank",
                account_number=account,
                account_holder="LE THI HONG NHUNG",
            )
        )
    return cards


@pytest.fixture(scope="module")
def nine_card_sheet() -> tuple[list[CardData], bytes, list[int]]:
    cards = _cards(9)
    out = io.BytesIO()
    seen: list[int] = []
    assert write_sheet(iter(cards), out, progress=seen.append) == 9
    return cards, out.getvalue(), seen


def test_sheet_has_a4_pages_of_four_cards_and_reports_progress(nine_card_sheet):
    _, pdf, seen = nine_card_sheet
    assert pdf_page_sizes_mm(pdf) == [(210.0, 297.0)] * 3
    assert seen == list(range(1, 10))


def test_every_page_rasterised_scans_back_to_its_cards_in_reading_order(nine_card_sheet):
    cards, pdf, _ = nine_card_sheet
    pages = pdf_pages(pdf, dpi=150)
    expected = [[c.payload for c in cards[i : i + 4]] for i in range(0, 9, 4)]
    assert [scan(page) for page in pages] == expected


def test_every_page_scans_back_when_photographed(nine_card_sheet):
    # A page photographed whole: 1240 px wide rendering cut to 870 px, blurred, JPEG q40.
    cards, pdf, _ = nine_card_sheet
    pages = pdf_pages(pdf, dpi=150)
    expected = [[c.payload for c in cards[i : i + 4]] for i in range(0, 9, 4)]
    assert [scan(degrade(page, scale=0.7, blur=1.0, quality=40)) for page in pages] == expected


def _dark(page: Image.Image, box: tuple[float, float, float, float], dpi: int) -> bool:
    px = tuple(round(v * dpi / 25.4) for v in box)
    return page.crop(px).getextrema()[0] < 128  # type: ignore[index]


def test_crop_marks_sit_on_the_cut_lines_and_cards_on_their_a6_slots(nine_card_sheet):
    _, pdf, _ = nine_card_sheet
    dpi = 150
    last = pdf_pages(pdf, dpi=dpi)[-1]  # one card only: the marks stand alone
    # marks on the vertical cut (x = 105 mm) at the top and bottom edges, and on the horizontal one
    assert _dark(last, (104.5, 5, 105.5, 11), dpi)
    assert _dark(last, (104.5, 286, 105.5, 292), dpi)
    assert _dark(last, (5, 148, 11, 149), dpi)
    assert _dark(last, (199, 148, 205, 149), dpi)
    # the single card fills the top-left slot; the three other slots are blank
    assert _dark(last, (10, 10, 95, 140), dpi)
    for slot in ((115, 15, 200, 140), (10, 157, 95, 285), (115, 157, 200, 285)):
        assert not _dark(last, slot, dpi)


def test_a_sheet_without_cards_is_refused():
    with pytest.raises(InvalidInputError) as refused:
        write_sheet([], io.BytesIO())
    assert refused.value.errors[0].field == "stalls"


def test_an_invalid_card_stops_the_sheet_with_the_field_named():
    bad = _cards(2)
    bad[1] = CardData(**{**{f: getattr(bad[1], f) for f in bad[1].__struct_fields__}, "account_number": ""})
    with pytest.raises(InvalidInputError) as refused:
        write_sheet(bad, io.BytesIO())
    assert refused.value.errors[0].field == "account_number"


def test_the_pdf_cross_reference_table_is_exact(nine_card_sheet):
    # PDFium repairs a broken xref silently; strict readers (printers' RIPs) do not. Check it by hand.
    _, pdf, _ = nine_card_sheet
    startxref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[startxref:].startswith(b"xref\n")
    lines = pdf[startxref:].split(b"\n")
    first, count = (int(v) for v in lines[1].split())
    entries = lines[2 : 2 + count]
    assert first == 0
    assert all(len(entry) == 19 for entry in entries)  # 20 bytes with the newline
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    assert pdf.rstrip().endswith(b"%%EOF")
