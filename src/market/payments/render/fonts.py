"""The fonts shipped with the package, loaded once per size.

Cards must print Vietnamese names exactly ("Nguyễn", not "Nguy?n"), so the package carries
DejaVu Sans (regular and bold: full Vietnamese coverage, licence in ``fonts/``) and never
looks at the fonts installed on the machine.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from PIL import ImageFont

__all__ = ["FONT_DIR", "font", "font_path", "nfc"]

FONT_DIR = Path(__file__).resolve().parent / "fonts"
_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}


def font_path(*, bold: bool = False) -> Path:
    """The packaged TrueType file of the regular or bold face."""
    return FONT_DIR / _FILES[bold]


@functools.lru_cache(maxsize=64)
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The face at ``size`` pixels, cached: a face costs more to open than a line costs to draw.

    Opened from the file path, not from bytes: Pillow keeps two copies of the file (1.5 MB)
    for every face opened from bytes, and there is one face per size. The basic layout
    engine is enough (and faster than Raqm) because text is NFC-normalised first
    (:func:`nfc`), and every Vietnamese letter has a precomposed code point.
    """
    return ImageFont.truetype(str(font_path(bold=bold)), size, layout_engine=ImageFont.Layout.BASIC)


def nfc(text: str) -> str:
    """``text`` in NFC, so decomposed input ("e" + U+0302 + U+0301) draws as the precomposed "ế"."""
    return unicodedata.normalize("NFC", text)
