"""Helpers for the render tests: read QR codes back as a phone would, and rasterise our SVG and PDFs.

Not a test module (no ``test_`` prefix); the render tests import it from their own directory.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pypdfium2
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter

SVG_NS = "{http://www.w3.org/2000/svg}"


def scan(image: Image.Image) -> list[str]:
    """Texts of every QR code zxing-cpp finds, in reading order (top to bottom, then left to right)."""
    results = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    ordered = sorted(results, key=lambda r: (r.position.top_left.y // 100, r.position.top_left.x))
    return [r.text for r in ordered]


def degrade(image: Image.Image, *, scale: float, blur: float = 1.2, quality: int = 35) -> Image.Image:
    """What a phone camera sends the decoder: smaller, slightly out of focus, JPEG-compressed."""
    small = image.convert("L").resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR
    )
    blurred = small.filter(ImageFilter.GaussianBlur(blur))
    buffer = io.BytesIO()
    blurred.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def pdf_pages(pdf: bytes, *, dpi: int) -> list[Image.Image]:
    """Every page of ``pdf`` rasterised by PDFium at ``dpi``."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in document]
    finally:
        document.close()


def pdf_page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height of each page in millimetres."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [(round(page.get_width() * 25.4 / 72, 1), round(page.get_height() * 25.4 / 72, 1)) for page in document]
    finally:
        document.close()


_TOKEN = re.compile(r"[MmLlHhVvZz]|-?\d+(?:\.\d+)?")


def _subpaths(d: str) -> list[list[tuple[float, float]]]:
    """Polygons of an SVG path made of straight segments (M L H V Z, absolute and relative)."""
    tokens = _TOKEN.findall(d)
    polygons: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    x = y = 0.0
    i = 0
    command = ""
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
            if command in "Zz":
                if current:
                    polygons.append(current)
                    x, y = current[0]
                current = []
                continue
        if command in "Mm":
            dx, dy = float(tokens[i]), float(tokens[i + 1])
            x, y = (x + dx, y + dy) if command == "m" else (dx, dy)
            current = [(x, y)]
            i += 2
            command = "l" if command == "m" else "L"  # further pairs are line-tos
        elif command in "Ll":
            dx, dy = float(tokens[i]), float(tokens[i + 1])
            x, y = (x + dx, y + dy) if command == "l" else (dx, dy)
            current.append((x, y))
            i += 2
        elif command in "Hh":
            x = x + float(tokens[i]) if command == "h" else float(tokens[i])
            current.append((x, y))
            i += 1
        elif command in "Vv":
            y = y + float(tokens[i]) if command == "v" else float(tokens[i])
            current.append((x, y))
            i += 1
        else:
            raise ValueError(f"unsupported path command {command!r}")
    if current:
        polygons.append(current)
    return polygons


def _colour(value: str) -> int:
    named = {"#ffffff": 255, "#fff": 255, "white": 255, "#000000": 0, "#000": 0, "black": 0}
    return named[value.lower()]


def rasterise_svg(svg: str, *, px_per_unit: int) -> Image.Image:
    """Draw the rects and straight-segment paths of ``svg`` (in document order) on a white canvas.

    Pixels are filled when their centre lies inside a shape, like a browser does for
    ``shape-rendering="crispEdges"``.
    """
    root = ET.fromstring(svg)  # noqa: S314 - our own renderer's output, not untrusted input
    min_x, min_y, width, height = (float(v) for v in root.attrib["viewBox"].split())
    canvas = Image.new("L", (round(width * px_per_unit), round(height * px_per_unit)), 255)
    draw = ImageDraw.Draw(canvas)

    def to_px(point: tuple[float, float]) -> tuple[float, float]:
        # Pillow fills pixels whose integer coordinates fall within the polygon, boundary included;
        # shifting by half a pixel turns that into "centre inside".
        return ((point[0] - min_x) * px_per_unit - 0.5, (point[1] - min_y) * px_per_unit - 0.5)

    for element in root.iter():
        if element.tag == f"{SVG_NS}rect":
            x, y = float(element.get("x", 0)), float(element.get("y", 0))
            w, h = float(element.attrib["width"]), float(element.attrib["height"])
            corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
            draw.polygon([to_px(c) for c in corners], fill=_colour(element.attrib["fill"]))
        elif element.tag == f"{SVG_NS}path":
            fill = _colour(element.attrib["fill"])
            for polygon in _subpaths(element.attrib["d"]):
                draw.polygon([to_px(p) for p in polygon], fill=fill)
    return canvas


def sample_modules(image: Image.Image, modules: int) -> list[list[bool]]:
    """Dark/light of each module of a square symbol image, read at the module centres."""
    grey = image.convert("L")
    step = grey.width / modules
    return [
        [grey.getpixel((int((x + 0.5) * step), int((y + 0.5) * step))) < 128 for x in range(modules)]  # type: ignore[operator]
        for y in range(modules)
    ]
