"""Building: every rule is checked before anything is emitted, each failure names field and rule.

The bad inputs are the ones peers.md shows other libraries emitting silently (diacritics,
40/96-character content, 1500.5, 0, -5000, "1,000", 14 digits, 5-digit BIN, 20-character
account, an account with a space).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from market.errors import InvalidInputError
from market.payments import (
    MAX_AMOUNT,
    SERVICE_CARD,
    ValidationError,
    VietQRError,
    VietQRRequest,
    build_vietqr,
    normalize_text,
    parse_vietqr,
)

ACB = {"bin": "970416", "account": "257678859"}


def _error(**fields: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        build_vietqr(VietQRRequest(**{**ACB, **fields}))
    return caught.value


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"bin": "97041"}, "bin", "format"),  # 5 digits
        ({"bin": "97041a"}, "bin", "format"),
        ({"bin": "９７０４１６"}, "bin", "format"),  # full-width digits
        ({"bin": 970416}, "bin", "type"),
        ({"bin": "970499"}, "bin", "unknown-bin"),  # well formed, not in the directory
        ({"account": ""}, "account", "format"),
        ({"account": "1" * 20}, "account", "format"),  # 20 > 19
        ({"account": "0123 456"}, "account", "format"),  # a space
        ({"account": "0123-456"}, "account", "format"),
        ({"account": "０１２３"}, "account", "format"),  # full-width digits are not ASCII
        ({"account": "Đ123"}, "account", "format"),
        ({"account": 257678859}, "account", "type"),
        ({"account": "PSP123", "service": SERVICE_CARD}, "account", "format"),  # a card number is digits
        ({"service": "QRPUSH"}, "service", "value"),
        ({"amount": 0}, "amount", "range"),
        ({"amount": -5000}, "amount", "range"),
        ({"amount": 500_000_000}, "amount", "range"),  # NAPAS247 cap: below 500,000,000
        ({"amount": 10**13}, "amount", "range"),
        ({"amount": 1500.5}, "amount", "type"),
        ({"amount": 50000.0}, "amount", "type"),  # str(50000.0) would be "50000.0"
        ({"amount": True}, "amount", "type"),  # bool is an int subclass
        ({"amount": "1,000"}, "amount", "type"),
        ({"amount": "10000"}, "amount", "type"),
        ({"amount": Decimal(10000)}, "amount", "type"),
        ({"content": "x" * 26}, "content", "length"),
        ({"content": "Thanh toán đơn hàng số 12345"}, "content", "length"),  # 28 after folding
        ({"content": "chuyen khoan " * 8}, "content", "length"),  # 96: peers write length 00 or 100
        ({"content": "Giá 5€"}, "content", "charset"),
        ({"content": "cảm ơn 🙏"}, "content", "charset"),
        ({"content": "付款"}, "content", "charset"),
        ({"content": "a\x00b"}, "content", "charset"),
        ({"content": 12345}, "content", "type"),
        ({"bill_number": "x" * 26}, "bill_number", "length"),
        ({"reference": "ref€"}, "reference", "charset"),
        ({"bin": "971025", "account": "PSP123456789000000"}, "reference", "momo-reference"),
        (
            {"bin": "971025", "account": "PSP123456789000000", "reference": "MOMOW2W1234567"},
            "reference",
            "momo-reference",
        ),
        ({"bin": "971025", "account": "PSP123456789000000", "reference": "ABC"}, "reference", "momo-reference"),
    ],
)
def test_rejected_with_field_and_rule(fields: dict[str, Any], field: str, rule: str) -> None:
    error = _error(**fields)
    assert (error.field, error.rule) == (field, rule)
    assert error.position is None
    assert str(error).startswith(f"{field}: ")
    # usable as the project's 422 error and as a plain ValueError
    assert isinstance(error, InvalidInputError)
    assert isinstance(error, ValueError)
    assert error.errors[0].field == field
    assert error.extra["rule"] == rule


def test_unknown_bin_can_be_allowed_explicitly() -> None:
    payload = build_vietqr(VietQRRequest(bin="970499", account="123456", allow_unknown_bin=True))
    parsed = parse_vietqr(payload)
    assert (parsed.bin, parsed.bank) == ("970499", None)
    # ... but not a malformed one
    with pytest.raises(ValidationError) as caught:
        build_vietqr(VietQRRequest(bin="9704", account="123456", allow_unknown_bin=True))
    assert caught.value.rule == "format"


def test_unknown_bin_learned_by_the_parser_is_still_refused_by_the_builder() -> None:
    # The parser remembers prefixes with BINs it does not know; the builder must not trust them.
    payload = build_vietqr(VietQRRequest(bin="970498", account="42", allow_unknown_bin=True))
    parse_vietqr(payload)
    with pytest.raises(ValidationError) as caught:
        build_vietqr(VietQRRequest(bin="970498", account="42"))
    assert caught.value.rule == "unknown-bin"


def test_static_and_dynamic_follow_the_amount() -> None:
    static = build_vietqr(VietQRRequest(**ACB))
    dynamic = build_vietqr(VietQRRequest(**ACB, amount=50_000))
    assert static.startswith("000201010211")
    assert "54" not in parse_vietqr(static).raw
    assert dynamic.startswith("000201010212")
    assert "540550000" in dynamic
    assert parse_vietqr(build_vietqr(VietQRRequest(**ACB, amount=MAX_AMOUNT))).amount == 499_999_999


def test_static_card_with_fixed_content_for_a_stall() -> None:
    payload = build_vietqr(VietQRRequest(**ACB, content="SAP A-12"))
    parsed = parse_vietqr(payload)
    assert (parsed.is_dynamic, parsed.amount, parsed.content) == (False, None, "SAP A-12")


def test_content_folding_rule() -> None:
    payload = build_vietqr(VietQRRequest(**ACB, amount=25000, content="  Thanh toán\tđơn  ĐẶT cọc "))
    assert parse_vietqr(payload).content == "Thanh toan don DAT coc"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Thanh toán đơn", "Thanh toan don"),
        ("ĐẶT CỌC", "DAT COC"),
        ("Cà phê sữa đá", "Ca phe sua da"),
        ("Café", "Cafe"),
        ("a \t\n b", "a b"),
        ("\u00a0nbsp\u00a0", "nbsp"),
        ("MA: A12/B-3_x.y", "MA: A12/B-3_x.y"),  # ASCII punctuation is kept
        ("   ", ""),
        ("x" * 25, "x" * 25),
    ],
)
def test_normalize_text(text: str, folded: str) -> None:
    assert normalize_text(text) == folded


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_leaves_the_field_out(text: str) -> None:
    assert build_vietqr(VietQRRequest(**ACB, content=text)) == build_vietqr(VietQRRequest(**ACB))


def test_additional_data_order_and_all_three_texts() -> None:
    payload = build_vietqr(VietQRRequest(**ACB, amount=1000, content="TT A12", bill_number="HD001", reference="REF9"))
    # ID order inside 62, as NAPAS §6.1.3 writes 01 before 08
    assert "62270105HD0010504REF90806TT A12" in payload
    parsed = parse_vietqr(payload)
    assert (parsed.bill_number, parsed.reference, parsed.content) == ("HD001", "REF9", "TT A12")


def test_largest_texts_fit_the_99_character_template() -> None:
    payload = build_vietqr(
        VietQRRequest(**ACB, amount=MAX_AMOUNT, content="c" * 25, bill_number="b" * 25, reference="r" * 25)
    )
    parsed = parse_vietqr(payload)
    assert len(parsed.raw["62"]) == 87
    assert (parsed.content, parsed.bill_number, parsed.reference) == ("c" * 25, "b" * 25, "r" * 25)


def test_longest_account_fits() -> None:
    payload = build_vietqr(VietQRRequest(bin="970407", account="MS00P00000000647117"))
    assert parse_vietqr(payload).account == "MS00P00000000647117"


def test_momo_wallet_route() -> None:
    payload = build_vietqr(
        VietQRRequest(bin="971025", account="PSP123456789000000", reference="MOMOW2W12345678", amount=20000)
    )
    parsed = parse_vietqr(payload)
    assert parsed.reference == "MOMOW2W12345678"
    assert parsed.bank is not None
    assert parsed.bank.code == "MOMO"


def test_card_transfer() -> None:
    parsed = parse_vietqr(build_vietqr(VietQRRequest(bin="970436", account="9704361234567890", service=SERVICE_CARD)))
    assert parsed.service == SERVICE_CARD
    assert parsed.is_card


def test_nothing_but_typed_errors_for_odd_requests() -> None:
    odd: list[dict[str, Any]] = [
        {"account": ["1"]},  # unhashable
        {"service": ["QRIBFTTA"]},
        {"bin": None},
        {"content": b"bytes"},
        {"reference": 5},
        {"bill_number": object()},
    ]
    for fields in odd:
        with pytest.raises(VietQRError):
            build_vietqr(VietQRRequest(**{**ACB, **fields}))
