"""Properties of the codec (hypothesis).

- every valid request round-trips build → parse, through the fast path, with the same result
  as the strict parser;
- any single-character change of a valid payload is rejected, except changing the letter case
  of the CRC's hex digits (a CRC-16 detects every error burst of up to 16 bits, and a changed
  ASCII character is an 8-bit burst; a non-ASCII replacement fails the character-set rule);
- whatever text comes in, the parser raises nothing but VietQRError;
- whatever request comes in, the builder either refuses it with ValidationError or emits a
  payload the strict parser accepts: never a malformed one.
"""

from __future__ import annotations

import contextlib
import string
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from market.payments import (
    MAX_AMOUNT,
    MOMO_BIN,
    SERVICE_ACCOUNT,
    SERVICE_CARD,
    ParsedVietQR,
    ValidationError,
    VietQRError,
    VietQRRequest,
    all_banks,
    bank_by_bin,
    build_vietqr,
    normalize_text,
    parse_vietqr,
)
from market.payments.vietqr import parse, prefixes

PROPERTY = settings(database=None, deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
VIETNAMESE = "àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ"
TEXT_ALPHABET = PRINTABLE + VIETNAMESE + VIETNAMESE.upper() + "\t\n\u00a0"

bins = st.sampled_from(sorted(bank.bin for bank in all_banks()))
accounts = st.text(string.ascii_letters + string.digits, min_size=1, max_size=19)
card_numbers = st.text(string.digits, min_size=1, max_size=19)
amounts = st.none() | st.integers(1, MAX_AMOUNT) | st.sampled_from([1, 1000, 10000, 50000, MAX_AMOUNT])
# Texts that fold to at most 25 printable ASCII characters (Vietnamese letters fold one to one).
texts = st.none() | st.text(TEXT_ALPHABET, max_size=25)
momo_references = st.text(string.digits, min_size=8, max_size=8).map(lambda d: "MOMOW2W" + d)


@st.composite
def requests(draw: st.DrawFn) -> VietQRRequest:
    bin_code = draw(bins)
    service = draw(st.sampled_from([SERVICE_ACCOUNT, SERVICE_CARD]))
    account = draw(card_numbers if service == SERVICE_CARD else accounts)
    reference = draw(momo_references) if bin_code == MOMO_BIN else draw(texts)
    return VietQRRequest(
        bin=bin_code,
        account=account,
        amount=draw(amounts),
        content=draw(texts),
        bill_number=draw(texts),
        reference=reference,
        service=service,
    )


def _folded(text: str | None) -> str | None:
    if text is None:
        return None
    return normalize_text(text) or None


def _strict(payload: str) -> ParsedVietQR:
    return parse._parse_strict(payload)


@PROPERTY
@given(requests())
def test_every_valid_request_round_trips(request: VietQRRequest) -> None:
    payload = build_vietqr(request)
    parsed = parse_vietqr(payload)
    assert parsed.bin == request.bin
    assert parsed.bank == bank_by_bin(request.bin)
    assert parsed.account == request.account
    assert parsed.service == request.service
    assert parsed.amount == request.amount
    assert parsed.is_dynamic is (request.amount is not None)
    assert parsed.content == _folded(request.content)
    assert parsed.bill_number == _folded(request.bill_number)
    assert parsed.reference == _folded(request.reference)
    # the fast path gives exactly what the strict parser gives
    strict = _strict(payload)
    assert parsed == strict
    assert parsed.raw == strict.raw
    assert parsed.raw["63"] == payload[-4:]
    assert "".join(f"{tag}{len(value):02d}{value}" for tag, value in parsed.raw.items()) == payload
    assert payload.isascii()
    assert payload.isprintable()
    assert payload[-4:] == payload[-4:].upper()


@PROPERTY
@given(requests())
def test_the_fast_path_took_it(request: VietQRRequest) -> None:
    payload = build_vietqr(request)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parse, "_parse_strict", _refuse)
        assert parse_vietqr(payload).account == request.account


def _refuse(payload: object) -> Any:
    raise AssertionError(f"strict parser used for {payload!r}")


def _is_case_change_of_crc(payload: str, index: int, char: str) -> bool:
    return index >= len(payload) - 4 and char != payload[index] and char.upper() == payload[index].upper()


replacements = st.sampled_from(PRINTABLE) | st.characters()


@PROPERTY
@given(requests(), st.data())
def test_any_single_character_change_is_rejected(request: VietQRRequest, data: st.DataObject) -> None:
    payload = build_vietqr(request)
    index = data.draw(st.integers(0, len(payload) - 1), label="index")
    char = data.draw(replacements, label="char")
    assume(char != payload[index])
    mutated = payload[:index] + char + payload[index + 1 :]
    if _is_case_change_of_crc(payload, index, char):
        parsed = parse_vietqr(mutated)
        assert parsed.raw["63"] == mutated[-4:]
        assert msgspec.structs.replace(parsed, payload=payload) == parse_vietqr(payload)
    else:
        with pytest.raises(VietQRError):
            parse_vietqr(mutated)
        with pytest.raises(VietQRError):
            _strict(mutated)


@pytest.mark.parametrize(
    "request_",
    [
        VietQRRequest(bin="970416", account="257678859"),
        VietQRRequest(bin="970416", account="257678859", amount=10000, content="Chuyen tien"),
        VietQRRequest(
            bin="970403",
            account="9704031101234567",
            amount=180000,
            bill_number="NPS6869",
            content="thanh toan don hang",
            service=SERVICE_CARD,
        ),
        VietQRRequest(bin="971025", account="PSP123456789000000", reference="MOMOW2W12345678", amount=5),
    ],
)
def test_every_printable_substitution_at_every_position_is_rejected(request_: VietQRRequest) -> None:
    # Exhaustive for a few payloads: each position x each printable ASCII character.
    payload = build_vietqr(request_)
    for index, original in enumerate(payload):
        for char in PRINTABLE:
            if char == original:
                continue
            mutated = payload[:index] + char + payload[index + 1 :]
            if _is_case_change_of_crc(payload, index, char):
                assert parse_vietqr(mutated).account == request_.account
                continue
            try:
                parse_vietqr(mutated)
            except VietQRError:
                continue
            pytest.fail(f"accepted {mutated!r} (position {index}: {original!r} -> {char!r})")


@PROPERTY
@given(st.text() | st.text(st.characters(codec=None, categories=["Cs", "Nd", "Lu"]), max_size=130))
@example("")
@example("000201010211\ud800")
@example("\ud83d" * 4)
@example("000201")
@example("00020101021238")
@example("0002010102113899" + "0" * 120)
def test_random_text_raises_only_typed_errors(text: str) -> None:
    # Anything but VietQRError escaping fails the test.
    with contextlib.suppress(VietQRError):
        parse_vietqr(text)


@PROPERTY
@given(st.binary(max_size=200))
def test_random_bytes_as_text_raise_only_typed_errors(data: bytes) -> None:
    for text in (data.decode("latin-1"), data.decode("utf-8", "replace")):
        with contextlib.suppress(VietQRError):
            parse_vietqr(text)


@PROPERTY
@given(requests(), st.data())
def test_damaged_payloads_raise_only_typed_errors(request: VietQRRequest, data: st.DataObject) -> None:
    # Near-valid input reaches deep into both parsers: cut, insert, delete, or splice.
    payload = build_vietqr(request)
    i = data.draw(st.integers(0, len(payload)))
    j = data.draw(st.integers(i, len(payload)))
    junk = data.draw(st.text(max_size=6) | st.text("0123456789", max_size=6))
    for damaged in (
        payload[:i],
        payload[:i] + junk + payload[i:],
        payload[:i] + payload[j:],
        payload[:i] + junk + payload[j:],
    ):
        try:
            parsed = parse_vietqr(damaged)
        except VietQRError:
            continue
        assert parsed == _strict(damaged)


@st.composite
def wild_requests(draw: st.DrawFn) -> VietQRRequest:
    # Mostly plausible values with the odd bad one, so both outcomes are exercised.
    text_values = st.none() | st.text(max_size=40)
    return VietQRRequest(
        bin=draw(bins | st.text("0123456789", max_size=7)),
        account=draw(accounts | st.text(max_size=21)),
        amount=draw(amounts | st.integers(-10, 10**12) | st.floats(allow_nan=False) | st.booleans()),
        content=draw(text_values),
        bill_number=draw(text_values),
        reference=draw(text_values | momo_references),
        service=draw(st.sampled_from([SERVICE_ACCOUNT, SERVICE_CARD, "QRPUSH", ""])),
        allow_unknown_bin=draw(st.booleans()),
    )


@PROPERTY
@given(wild_requests())
def test_the_builder_never_emits_a_malformed_payload(request: VietQRRequest) -> None:
    try:
        payload = build_vietqr(request)
    except ValidationError:
        return
    parsed = _strict(payload)
    assert parsed.account == request.account
    assert parsed.amount == request.amount
    assert parse_vietqr(payload) == parsed


def test_unknown_bins_remembered_by_the_parser_stay_unknown_to_the_builder() -> None:
    payload = build_vietqr(VietQRRequest(bin="970497", account="A1", allow_unknown_bin=True))
    assert parse_vietqr(payload).bank is None
    with pytest.raises(ValidationError):
        build_vietqr(VietQRRequest(bin="970497", account="A1"))


def test_memories_are_bounded() -> None:
    for n in range(prefixes.CACHE_LIMIT + 10):
        parse_vietqr(build_vietqr(VietQRRequest(bin="970416", account=f"{n}")))
    assert len(prefixes.BUILT) <= prefixes.CACHE_LIMIT
    assert len(prefixes.READ) <= prefixes.CACHE_LIMIT
