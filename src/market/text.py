"""Vietnamese text helpers shared by every package.

Vietnamese letters decompose under NFD into an ASCII base letter plus combining marks,
except ``đ``/``Đ`` which are letters of their own; so folding is NFD, drop the marks,
then map đ → d. Folding is how the codec makes transfer content ASCII (the NAPAS 62/08
field is ANS, and bank apps reject diacritics) and how search ignores diacritics.
"""

import re
import unicodedata

__all__ = ["fold_vietnamese", "search_key", "upper_ascii_name"]

_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})
_SPACES = re.compile(r"\s+")


def fold_vietnamese(text: str) -> str:
    """Return ``text`` with Vietnamese diacritics removed ("Thanh toán đơn" → "Thanh toan don").

    Characters that are not Vietnamese letters are left as they are; callers that need
    pure ASCII must still check or filter the result.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def search_key(text: str) -> str:
    """Lower-case, diacritic-free, single-spaced form used for searching names ("nguyen" finds "Nguyễn")."""
    return _SPACES.sub(" ", fold_vietnamese(text).casefold()).strip()


def upper_ascii_name(full_name: str) -> str:
    """Account-holder name as banks show it: upper-case ASCII, single spaces ("Nguyễn Thị Đào" → "NGUYEN THI DAO")."""
    return _SPACES.sub(" ", fold_vietnamese(full_name).upper()).strip()
