"""CRC-16/CCITT-FALSE: the check value, NAPAS's own rows, and a bit-by-bit reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.payments import crc16_ccitt_false, crc16_hex

PROPERTY = settings(database=None, deadline=None, max_examples=300)


def _reference_crc(data: bytes, crc: int = 0xFFFF) -> int:
    """The textbook definition: poly 0x1021, MSB first, no reflection, no final XOR."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_check_value() -> None:
    # The catalogued check value of CRC-16/CCITT-FALSE; vietqr-spec.md §6.
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_hex("123456789") == "29B1"


@pytest.mark.parametrize(
    ("text", "crc"),
    [
        # NAPAS VietQR spec v1.0 §6.1.2 "Tạo CRC" row: static QR to a card
        ("00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN6304", "4F52"),
        # §6.1.3 "Tạo CRC" row: dynamic QR to an account
        (
            "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN"
            "62340107NPS68690819thanh toan don hang6304",
            "2E2E",
        ),
        # §6.1.4 "Tạo CRC" row: dynamic QR to a card
        (
            "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC530370454061800005802VN"
            "62340107NPS68690819thanh toan don hang6304",
            "A203",
        ),
        # xuannghia/vietnam-qr-pay test-vietqr.spec.ts "CRC with three-byte": zero padding
        ("00020101021138580010A000000727012800069704070114190304136010180208QRIBFTTA53037045802VN6304", "0283"),
        # subiz/vietqr crc32_test.go: two-character inputs
        ("00", "2EC9"),
        ("01", "3EE8"),
    ],
)
def test_public_crc_rows(text: str, crc: str) -> None:
    assert crc16_hex(text) == crc


def test_crc_is_over_utf8() -> None:
    # Every implementation in the reference CRCs UTF-8 bytes (vietqr-spec.md §6).
    assert crc16_hex("Thanh toán") == f"{_reference_crc('Thanh toán'.encode()):04X}"


@PROPERTY
@given(st.binary(max_size=300))
def test_matches_the_bitwise_definition(data: bytes) -> None:
    assert crc16_ccitt_false(data) == _reference_crc(data)


@PROPERTY
@given(st.binary(max_size=100), st.binary(max_size=100))
def test_can_resume_from_a_prefix_state(prefix: bytes, rest: bytes) -> None:
    # The codec relies on this to CRC only the tail after a remembered merchant prefix.
    assert crc16_ccitt_false(rest, crc16_ccitt_false(prefix)) == crc16_ccitt_false(prefix + rest)


@PROPERTY
@given(st.text(max_size=50))
def test_hex_is_four_upper_case_digits(text: str) -> None:
    value = crc16_hex(text)
    assert len(value) == 4
    assert value == value.upper()
    assert int(value, 16) == _reference_crc(text.encode())
