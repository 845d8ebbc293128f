"""EMVCo TLV: encoding refuses what cannot be written; decoding is strict and keeps positions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.payments import ParseError, TLVField, ValidationError, decode_tlv, encode_tlv

PROPERTY = settings(database=None, deadline=None, max_examples=300)


def test_encode() -> None:
    assert encode_tlv("58", "VN") == "5802VN"
    assert encode_tlv("08", "x" * 99) == "0899" + "x" * 99
    # the NAPAS spec's own tag-38 example (§5.2.3.2.4), built from nested templates
    organisation = encode_tlv("00", "970468") + encode_tlv("01", "0011009950446")
    merchant = encode_tlv("00", "A000000727") + encode_tlv("01", organisation) + encode_tlv("02", "QRIBFTTA")
    assert encode_tlv("38", merchant) == "38570010A00000072701270006970468011300110099504460208QRIBFTTA"


@pytest.mark.parametrize(
    ("tag", "value", "rule"),
    [
        ("58", "", "length"),
        ("62", "x" * 100, "length"),  # peers write "00" or "100" here
        ("5", "VN", "tag"),
        ("5A", "VN", "tag"),
        ("100", "VN", "tag"),
        ("58", 5, "type"),
    ],
)
def test_encode_refuses(tag: str, value: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        encode_tlv(tag, value, field="thing")
    assert (caught.value.field, caught.value.rule) == ("thing", rule)


def test_decode_nested_templates_with_absolute_positions() -> None:
    payload = "000201" + "38570010A00000072701270006970468011300110099504460208QRIBFTTA" + "5802VN"
    root = decode_tlv(payload)
    assert list(root) == ["00", "38", "58"]
    merchant = root["38"]
    assert merchant == TLVField("38", 6, merchant.value)
    assert (merchant.value_position, merchant.end) == (10, 67)
    inner = decode_tlv(payload, merchant.value_position, merchant.end, path="38/")
    organisation = inner["01"]
    assert payload[organisation.value_position :].startswith("0006970468")
    deeper = decode_tlv(payload, organisation.value_position, organisation.end, path="38/01/")
    assert deeper["00"].value == "970468"
    assert deeper["01"].value == "0011009950446"
    assert deeper["01"].position == organisation.value_position + 10


@pytest.mark.parametrize(
    ("text", "field", "rule", "position"),
    [
        ("5802V", "58", "length", 2),  # value runs past the end
        ("5802VN58", "payload", "truncated", 6),
        ("5802VN5802VN", "58", "duplicate", 6),
        ("5800", "58", "length", 2),  # a length of 00 is not allowed
        ("58 2VN", "58", "length", 2),
        ("X802VN", "payload", "tag", 0),
        ("٥٨02VN", "payload", "tag", 0),  # Arabic-Indic digits are not EMV digits
    ],
)
def test_decode_is_strict(text: str, field: str, rule: str, position: int) -> None:
    with pytest.raises(ParseError) as caught:
        decode_tlv(text)
    assert (caught.value.field, caught.value.rule, caught.value.position) == (field, rule, position)


def test_decode_stays_inside_its_template() -> None:
    # 38 declares 6 characters; its child declares 4 but only 2 are left in the template,
    # even though the text goes on after it.
    with pytest.raises(ParseError) as caught:
        decode_tlv("3806" + "0004AB" + "5802VN", 4, 10, path="38/")
    assert (caught.value.field, caught.value.position) == ("38/00", 6)


def test_stop_after() -> None:
    fields = decode_tlv("6304ABCDtrailing", stop_after="63")
    assert fields["63"].end == 8


@PROPERTY
@given(st.lists(st.tuples(st.integers(0, 99), st.text(min_size=1, max_size=99)), max_size=8, unique_by=lambda f: f[0]))
def test_round_trip(fields: list[tuple[int, str]]) -> None:
    encoded = "".join(encode_tlv(f"{tag:02d}", value) for tag, value in fields)
    decoded = decode_tlv(encoded)
    assert [(int(tag), field.value) for tag, field in decoded.items()] == fields
