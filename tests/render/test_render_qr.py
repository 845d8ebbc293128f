"""QR images of a payload scan back to exactly that payload: PNG and SVG, clean and as a phone sees them."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw
from render_scan import degrade, rasterise_svg, sample_modules, scan

from market.errors import InvalidInputError
from market.payments import VietQRRequest, build_vietqr
from market.payments.render import encode_qr, qr_png, qr_svg
from market.payments.render.qr import MODULE_MM, QUIET_ZONE

STATIC = build_vietqr(VietQRRequest(bin="970436", account="0071001234567"))
DYNAMIC = build_vietqr(VietQRRequest(bin="970405", account="7300205123456", amount=150_000, content="SAP B107 TIEN CA"))
UNICODE = "Thanh toán cho cô Nguyễn Thị Đào, sạp A-12 — 50.000 ₫"
PAYLOADS = [STATIC, DYNAMIC, UNICODE]


def _png(payload: str, **kwargs) -> Image.Image:
    return Image.open(io.BytesIO(qr_png(payload, **kwargs)))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_png_scans_back_to_the_exact_payload(payload):
    assert scan(_png(payload)) == [payload]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_png_scans_after_a_phone_camera_degrades_it(payload):
    # 10 px modules shrink to 3.5 px, then blur and JPEG q35.
    assert scan(degrade(_png(payload), scale=0.35)) == [payload]


def test_png_is_for_print_at_300_dpi_with_a_four_module_quiet_zone():
    image = _png(STATIC)
    matrix = encode_qr(STATIC)
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    module_px = image.width // matrix.size
    assert image.size == (matrix.size * module_px, matrix.size * module_px)
    assert module_px * 25.4 / 300 == pytest.approx(MODULE_MM, abs=0.01)
    modules = sample_modules(image, matrix.size)
    quiet = [row[:QUIET_ZONE] + row[-QUIET_ZONE:] for row in modules] + modules[:QUIET_ZONE] + modules[-QUIET_ZONE:]
    assert not any(any(row) for row in quiet)
    assert modules == [list(row) for row in matrix.rows]


def test_error_correction_is_m_without_logo_and_h_with_one():
    import zxingcpp

    plain = zxingcpp.read_barcodes(_png(DYNAMIC))[0]
    logo = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(logo).ellipse((20, 20, 180, 180), fill=0)
    with_logo = _png(DYNAMIC, logo=logo)
    result = zxingcpp.read_barcodes(with_logo)[0]
    assert (plain.ec_level, result.ec_level) == ("M", "H")
    assert result.text == DYNAMIC
    assert scan(degrade(with_logo, scale=0.35)) == [DYNAMIC]
    # the logo really covers the centre: a solid black disc where modules would alternate
    cx, cy = with_logo.width // 2, with_logo.height // 2
    assert with_logo.convert("L").crop((cx - 20, cy - 20, cx + 20, cy + 20)).getextrema() == (0, 0)


def _svg_size_modules(svg: str) -> int:
    view_box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert view_box is not None
    assert view_box.group(1) == view_box.group(2)
    return int(view_box.group(1))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_svg_rasterised_scans_back_clean_and_degraded(payload):
    svg = qr_svg(payload)
    image = rasterise_svg(svg, px_per_unit=8)
    assert scan(image) == [payload]
    assert scan(degrade(image, scale=0.45)) == [payload]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_svg_draws_exactly_the_modules_of_the_png(payload):
    # Two independent renderings (Pillow raster, SVG vector paths) must agree module for module.
    svg = qr_svg(payload)
    modules = _svg_size_modules(svg)
    from_svg = sample_modules(rasterise_svg(svg, px_per_unit=4), modules)
    from_png = sample_modules(_png(payload), modules)
    assert from_svg == from_png


def test_svg_is_vector_and_sized_in_millimetres_for_print():
    svg = qr_svg(STATIC)
    modules = _svg_size_modules(svg)
    assert f'width="{modules * MODULE_MM:.2f}mm"' in svg
    assert "<image" not in svg  # no embedded raster
    assert svg.count("<path") == 1


def test_empty_and_oversized_payloads_are_refused_with_the_field_named():
    with pytest.raises(InvalidInputError) as empty:
        qr_png("")
    with pytest.raises(InvalidInputError) as huge:
        qr_svg("x" * 3000)
    assert empty.value.errors[0].field == huge.value.errors[0].field == "payload"
