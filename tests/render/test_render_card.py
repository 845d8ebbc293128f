"""The stall card: A6 at 300 dpi, scans back (PNG and PDF, clean and degraded), prints Vietnamese exactly."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw
from render_scan import degrade, pdf_page_sizes_mm, pdf_pages, scan

from market.errors import InvalidInputError
from market.payments import VietQRRequest, build_vietqr
from market.payments.render import CardData, card_image, card_pdf, card_png
from market.payments.render.card import CARD_SIZE_PX, format_vnd
from market.payments.render.fonts import font, font_path

VIETNAMESE_LOWER = list("ạảãấầẩẫậắằẳẵặẹẻẽếềểễệỉĩịọỏõốồổỗộớờởỡợụủũứừửữựỳỷỹỵđ")
# The rest of the alphabet's marked letters, so the check covers every letter a name can hold.
VIETNAMESE_OTHERS = list("àáâèéêìíòóôơùúưýă")
VIETNAMESE = VIETNAMESE_LOWER + VIETNAMESE_OTHERS
VIETNAMESE_ALL = VIETNAMESE + [c.upper() for c in VIETNAMESE]


def _card(**overrides) -> CardData:
    values: dict[str, object] = {
        "payload": build_vietqr(VietQRRequest(bin="970436", account="0071001234567")),
        "market_name": "Chợ Thoại Giang",
        "stall_code": "A-12",
        "holder_name": "Nguyễn Thị Đào",
        "bank_short_name": "Vietcombank",
        "account_number": "0071001234567",
        "account_holder": "NGUYEN THI DAO",
        "zone": "Rau củ",
    }
    values.update(overrides)
    return CardData(**values)  # type: ignore[arg-type]


def _dynamic_card() -> CardData:
    payload = build_vietqr(VietQRRequest(bin="970405", account="7300205123456", amount=50_000, content="SAP B107"))
    return _card(payload=payload, stall_code="B-107", amount=50_000, content="SAP B107")


@pytest.mark.parametrize("card", [_card(), _dynamic_card()], ids=["static", "fixed-amount"])
def test_card_png_scans_back_clean_and_as_a_phone_photo(card):
    image = Image.open(io.BytesIO(card_png(card)))
    assert scan(image) == [card.payload]
    # the whole card photographed at 500 px wide, blurred, JPEG q30
    assert scan(degrade(image, scale=0.4, blur=1.5, quality=30)) == [card.payload]


def test_card_png_is_a6_at_300_dpi():
    image = Image.open(io.BytesIO(card_png(_card())))
    assert image.size == CARD_SIZE_PX == (1240, 1748)
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert (image.width / 300 * 25.4, image.height / 300 * 25.4) == pytest.approx((105, 148), abs=0.1)


@pytest.mark.parametrize("card", [_card(), _dynamic_card()], ids=["static", "fixed-amount"])
def test_card_pdf_is_one_a6_page_that_scans_back(card):
    pdf = card_pdf(card)
    assert pdf_page_sizes_mm(pdf) == [(105.0, 148.0)]
    [page] = pdf_pages(pdf, dpi=200)
    assert scan(page) == [card.payload]
    assert scan(degrade(page, scale=0.6, blur=1.2, quality=35)) == [card.payload]


def _glyph(char: str, *, bold: bool) -> Image.Image:
    canvas = Image.new("L", (120, 140), 0)
    ImageDraw.Draw(canvas).text((20, 100), char, 255, font(64, bold=bold), "ls")
    return canvas


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_the_shipped_font_has_a_real_glyph_for_every_vietnamese_letter(bold):
    # A missing glyph renders as the font's .notdef box; U+4E2D (CJK) is certainly missing from DejaVu.
    notdef = _glyph("中", bold=bold)
    assert notdef.getbbox() is not None, "the .notdef reference must draw something"
    missing = [c for c in VIETNAMESE_ALL if ImageChops.difference(_glyph(c, bold=bold), notdef).getbbox() is None]
    assert missing == []
    # and each mark is drawn: the letter differs from its unmarked base letter
    unmarked = [
        c
        for c in VIETNAMESE_ALL
        if ImageChops.difference(_glyph(c, bold=bold), _glyph(_base(c), bold=bold)).getbbox() is None
    ]
    assert unmarked == []


def _base(char: str) -> str:
    if char in "đĐ":
        return "d" if char == "đ" else "D"
    return unicodedata.normalize("NFD", char)[0]


def test_a_name_with_every_diacritic_renders_on_the_card_like_its_decomposed_form():
    # Names typed on some keyboards arrive decomposed (NFD); the card must print the same letters.
    name = "".join(VIETNAMESE_LOWER[:12])
    composed = card_image(_card(holder_name=name.upper()))
    decomposed = card_image(_card(holder_name=unicodedata.normalize("NFD", name.upper())))
    assert ImageChops.difference(composed, decomposed).getbbox() is None
    assert ImageChops.difference(composed, card_image(_card(holder_name="NGUYEN"))).getbbox() is not None


def test_long_texts_shrink_or_shorten_and_stay_inside_the_card_frame():
    card = _card(
        market_name="Chợ Thoại Giang, xã Thoại Giang, huyện Thoại Sơn, tỉnh An Giang",
        stall_code="KHU-CA-TUOI-0001",
        holder_name="Nguyễn Thị Ngọc Bích Phượng Hoàng Lan Anh Thư Đặng",
        account_holder="NGUYEN THI NGOC BICH PHUONG HOANG LAN ANH THU DANG VAN",
    )
    image = card_image(card)
    assert scan(image) == [card.payload]
    # the 5 mm margin outside the frame stays white: nothing overflowed the card
    margin = 55
    inner = Image.new("L", image.size, 255)
    inner.paste(image.crop((margin, margin, image.width - margin, image.height - margin)), (margin, margin))
    assert ImageChops.difference(image, inner).getbbox() is None


def test_the_card_shows_its_fixed_amount_only_when_there_is_one():
    plain, fixed = card_image(_card()), card_image(_dynamic_card())
    table = (0, 1300, 1240, 1748)
    assert ImageChops.difference(plain.crop(table), fixed.crop(table)).getbbox() is not None
    assert format_vnd(50_000) == "50.000 đ"
    assert format_vnd(1_250_000) == "1.250.000 đ"


def test_blank_fields_and_a_non_positive_amount_are_refused_by_name():
    with pytest.raises(InvalidInputError) as refused:
        card_png(_card(holder_name="  ", account_number="", amount=0))
    assert sorted(e.field for e in refused.value.errors) == ["account_number", "amount", "holder_name"]


def test_fonts_come_from_the_package_with_their_licence_never_from_the_machine():
    import market.payments.render as render

    package_dir = Path(render.__file__).resolve().parent
    for bold in (False, True):
        path = font_path(bold=bold)
        assert path.is_file()
        assert path.is_relative_to(package_dir)
        assert Path(font(40, bold=bold).path).resolve() == path  # type: ignore[arg-type]
    licence = (package_dir / "fonts" / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream Vera Fonts Copyright" in licence
    assert "Arev Fonts Copyright" in licence
