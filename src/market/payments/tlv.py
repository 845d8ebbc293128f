"""EMVCo TLV: the ``ID LEN VALUE`` data objects a QR payload is made of.

Each object is a two-digit ID (``00``-``99``), a two-digit length (``01``-``99``) and that many
characters of value (NAPAS VietQR spec §5.1: the length counts characters). A template is an
object whose value is itself a sequence of objects (tags 38 and 62 in VietQR); decode it by
calling :func:`decode_tlv` again on the parent's value span, so positions stay absolute.

Decoding is strict: a malformed header, a value that runs past its template, a duplicate ID
or a missing byte is a :class:`~market.payments.errors.ParseError` with the position.
"""

from __future__ import annotations

from typing import NamedTuple

from market.payments.errors import ParseError, ValidationError

__all__ = ["LENGTHS", "LENGTH_TEXT", "TLVField", "decode_tlv", "encode_tlv"]

# "01" -> 1 ... "99" -> 99. A dict lookup both converts and validates a length field (it rejects
# "00", "1a", " 9", "٠١"), which is faster and stricter than ``int()`` on the slice.
LENGTHS: dict[str, int] = {f"{n:02d}": n for n in range(1, 100)}
# 0 -> "00" ... 99 -> "99": the length field for a value of that many characters.
LENGTH_TEXT: tuple[str, ...] = tuple(f"{n:02d}" for n in range(100))
_TAGS = frozenset(LENGTH_TEXT)


class TLVField(NamedTuple):
    """One decoded data object.

    Attributes:
        tag: the two-digit ID.
        position: offset of the ID's first character in the decoded text.
        value: the value (for a template, the raw text of its nested objects).
    """

    tag: str
    position: int
    value: str

    @property
    def value_position(self) -> int:
        """Offset of the value's first character."""
        return self.position + 4

    @property
    def end(self) -> int:
        """Offset just past the value: where the next object starts."""
        return self.position + 4 + len(self.value)


def encode_tlv(tag: str, value: str, *, field: str | None = None) -> str:
    """Return one data object, ``tag + length + value``, refusing anything unencodable.

    Args:
        tag: two ASCII digits.
        value: 1 to 99 characters (a template's value is its encoded children).
        field: name to report in errors (defaults to the tag).

    Returns:
        The encoded object.

    Raises:
        ValidationError: the tag is not two digits or the value is empty or longer than 99.
    """
    name = field or tag
    if type(tag) is not str or tag not in _TAGS:
        raise ValidationError(name, "tag", f"ID must be two digits 00-99, got {tag!r}")
    if type(value) is not str:
        raise ValidationError(name, "type", f"value must be a string, got {type(value).__name__}")
    size = len(value)
    if not 0 < size < 100:
        # A length of 100+ cannot be written in two digits; peers emit "00" or "100" here
        # and produce payloads with a valid CRC but a broken structure.
        raise ValidationError(name, "length", f"value must be 1-99 characters, got {size}")
    return f"{tag}{LENGTH_TEXT[size]}{value}"


def decode_tlv(
    text: str, start: int = 0, end: int | None = None, *, path: str = "", stop_after: str | None = None
) -> dict[str, TLVField]:
    """Split ``text[start:end]`` into data objects, keyed by ID in the order they appear.

    Args:
        text: the whole payload (positions in errors and results are offsets into it).
        start: where the first object starts.
        end: where the last object must end (default: the end of ``text``).
        path: prefix for field names in errors, e.g. ``"38/"`` inside tag 38.
        stop_after: stop once this ID has been read (the root stops after the CRC ``63``,
            so whatever follows is reported as trailing data by the caller).

    Returns:
        ``{tag: TLVField}`` in payload order.

    Raises:
        ParseError: malformed header, value running past ``end``, or a duplicate ID.
    """
    if end is None:
        end = len(text)
    where = path.rstrip("/") or "payload"
    fields: dict[str, TLVField] = {}
    i = start
    while i < end:
        if end - i < 4:
            raise ParseError(
                where, "truncated", f"a data object needs a 4-digit ID+length header, only {end - i} left", position=i
            )
        tag = text[i : i + 2]
        if tag not in _TAGS:
            raise ParseError(where, "tag", f"expected a two-digit ID, found {tag!r}", position=i)
        size = LENGTHS.get(text[i + 2 : i + 4])
        if size is None:
            found = text[i + 2 : i + 4]
            raise ParseError(
                path + tag, "length", f"expected a two-digit length 01-99, found {found!r}", position=i + 2
            )
        value_end = i + 4 + size
        if value_end > end:
            raise ParseError(
                path + tag,
                "length",
                f"declares {size} characters but only {end - i - 4} remain in {where}",
                position=i + 2,
            )
        first = fields.get(tag)
        if first is not None:
            raise ParseError(
                path + tag, "duplicate", f"ID {tag} appears twice (first at position {first.position})", position=i
            )
        fields[tag] = TLVField(tag, i, text[i + 4 : value_end])
        if tag == stop_after:
            break
        i = value_end
    return fields
