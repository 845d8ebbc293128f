"""A small streaming PDF writer for pages of 1-bit raster images plus hairlines.

Why not Pillow's PDF writer: it needs every page image in memory at once (a 500-stall sheet
is 125 A4 rasters, about 1 GB as Pillow images), stores grey images as lossy JPEG, and cannot
draw vector crop marks. Cards are 1-bit rasters at 300 dpi, so each is stored losslessly as
``/DeviceGray`` 1 bit per pixel, Flate-compressed (ISO 32000-1 §8.9.5, §7.4.4), placed on the
page with a ``cm`` transform; crop marks are vector strokes.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image

__all__ = ["Line", "PdfWriter", "Placement"]


@dataclass(frozen=True, slots=True)
class Placement:
    """A 1-bit image drawn in the rectangle (x, y, width, height), in points from the bottom-left."""

    image: Image.Image
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Line:
    """A straight black stroke from (x1, y1) to (x2, y2), in points from the bottom-left."""

    x1: float
    y1: float
    x2: float
    y2: float


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


class PdfWriter:
    """Writes a PDF page by page to a binary stream; call :meth:`close` to finish the file.

    Only the page tree is kept until the end (object numbers of the pages), so memory stays
    flat whatever the number of pages.
    """

    _CATALOG = 1
    _PAGES = 2
    _INFO = 3

    def __init__(self, out: BinaryIO, *, title: str) -> None:
        self._out = out
        self._start = out.tell()
        self._offsets: dict[int, int] = {}
        self._next_id = 4
        self._pages: list[int] = []
        self._title = title
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self._out.write(data)

    def _object(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self._offsets[number] = self._out.tell() - self._start
        self._write(f"{number} 0 obj\n".encode())
        self._write(body)
        if stream is not None:
            self._write(b"\nstream\n")
            self._write(stream)
            self._write(b"\nendstream")
        self._write(b"\nendobj\n")

    def _allocate(self) -> int:
        number = self._next_id
        self._next_id += 1
        return number

    def _image(self, image: Image.Image) -> int:
        if image.mode != "1":
            raise ValueError(f"PdfWriter stores 1-bit images, got mode {image.mode}")
        # Pillow packs mode "1" rows MSB first with 1 = white: exactly /DeviceGray at 1 bit.
        # Level 1: a third of level 6's time for 40 % more bytes (about 17 kB per card).
        data = zlib.compress(image.tobytes(), 1)
        number = self._allocate()
        header = (
            f"<< /Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
            f"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode /Length {len(data)} >>"
        )
        self._object(number, header.encode(), data)
        return number

    def add_page(self, width: float, height: float, images: Sequence[Placement], lines: Sequence[Line] = ()) -> None:
        """Append a page of ``width`` × ``height`` points holding ``images`` and ``lines``."""
        names: list[str] = []
        ops: list[str] = []
        for index, placed in enumerate(images):
            names.append(f"/Im{index} {self._image(placed.image)} 0 R")
            ops.append(
                f"q {_num(placed.width)} 0 0 {_num(placed.height)} {_num(placed.x)} {_num(placed.y)} cm /Im{index} Do Q"
            )
        if lines:
            ops.append("0 G 0.5 w")
            ops.extend(f"{_num(ln.x1)} {_num(ln.y1)} m {_num(ln.x2)} {_num(ln.y2)} l S" for ln in lines)
        content = zlib.compress("\n".join(ops).encode())
        content_id = self._allocate()
        self._object(content_id, f"<< /Length {len(content)} /Filter /FlateDecode >>".encode(), content)
        page_id = self._allocate()
        page = (
            f"<< /Type /Page /Parent {self._PAGES} 0 R /MediaBox [0 0 {_num(width)} {_num(height)}] "
            f"/Resources << /XObject << {' '.join(names)} >> >> /Contents {content_id} 0 R >>"
        )
        self._object(page_id, page.encode())
        self._pages.append(page_id)

    @property
    def page_count(self) -> int:
        """Pages added so far."""
        return len(self._pages)

    def close(self) -> None:
        """Write the page tree, catalogue, document info, cross-reference table and trailer."""
        if not self._pages:
            raise ValueError("a PDF needs at least one page")
        kids = " ".join(f"{page} 0 R" for page in self._pages)
        self._object(self._PAGES, f"<< /Type /Pages /Kids [{kids}] /Count {len(self._pages)} >>".encode())
        self._object(self._CATALOG, f"<< /Type /Catalog /Pages {self._PAGES} 0 R >>".encode())
        self._object(self._INFO, f"<< /Title {_pdf_text(self._title)} /Producer (market) >>".encode())
        xref_at = self._out.tell() - self._start
        count = self._next_id
        rows = ["xref", f"0 {count}", "0000000000 65535 f "]
        rows.extend(f"{self._offsets[number]:010d} 00000 n " for number in range(1, count))
        rows += ["trailer", f"<< /Size {count} /Root {self._CATALOG} 0 R /Info {self._INFO} 0 R >>"]
        rows += ["startxref", str(xref_at), "%%EOF", ""]
        self._write("\n".join(rows).encode())


def _pdf_text(text: str) -> str:
    """A PDF text string: UTF-16BE with a byte-order mark, hex-encoded (any Vietnamese title works)."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"
