"""Parsing: any field order, and strict about everything else, with positions.

"derived-*" vectors are built here from a valid payload by the change named in the test, then
re-CRC'd, so only the structure is wrong (vietqr-spec.md §7, §10; peers.md "malformed input":
peers accept most of them).
"""

from __future__ import annotations

import pickle

import pytest

from market.payments import (
    CRCError,
    NotVietQRError,
    ParseError,
    VietQRError,
    VietQRRequest,
    build_vietqr,
    crc16_hex,
    parse_vietqr,
)
from market.payments.tlv import encode_tlv

# xuannghia/vietnam-qr-pay README "VietQR Động": ACB, 10,000 đồng, "Chuyen tien".
DYNAMIC = (
    "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA53037045405100005802VN"
    "62150811Chuyen tien630453E6"
)
MERCHANT = "0010A0000007270123000697041601092576788590208QRIBFTTA"  # its tag-38 value


def signed(body: str) -> str:
    """Append "6304" and the right CRC to a payload body."""
    body += "6304"
    return body + crc16_hex(body)


def tlv(tag: str, value: str) -> str:
    return encode_tlv(tag, value)


def parse_error(payload: object) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse_vietqr(payload)  # type: ignore[arg-type]
    return caught.value


# ---- any order ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        # giautm-field-order (vietqr-spec.md §1): 62 before 38
        "000201010212" + tlv("62", "0811Chuyen tien") + tlv("38", MERCHANT) + "5303704540510000" + "5802VN",
        # napas-qr-python-readme-order: 53/58 before 38
        "000201010212" + "5303704" + "5802VN" + tlv("38", MERCHANT) + "5405100006215" + "0811Chuyen tien",
        # sub-objects of 38 and 38/01 in reverse order
        "000201010212"
        + tlv("38", "0208QRIBFTTA" + tlv("01", "0109257678859" + "0006970416") + "0010A000000727")
        + "53037045405100005802VN62150811Chuyen tien",
    ],
    ids=["62-before-38", "53-58-before-38", "nested-reversed"],
)
def test_any_field_order(body: str) -> None:
    parsed = parse_vietqr(signed(body))
    canonical = parse_vietqr(DYNAMIC)
    assert (parsed.bin, parsed.account, parsed.service, parsed.amount, parsed.content, parsed.is_dynamic) == (
        canonical.bin,
        canonical.account,
        canonical.service,
        canonical.amount,
        canonical.content,
        canonical.is_dynamic,
    )
    assert parsed.bank == canonical.bank


def test_raw_fields_in_payload_order() -> None:
    parsed = parse_vietqr(DYNAMIC)
    assert parsed.payload == DYNAMIC
    assert parsed.raw is parsed.raw  # decoded from the payload once, on first use
    assert hash(parsed) == hash(parse_vietqr(DYNAMIC))  # frozen, so usable as a key
    assert parsed.raw == {
        "00": "01",
        "01": "12",
        "38": MERCHANT,
        "53": "704",
        "54": "10000",
        "58": "VN",
        "62": "0811Chuyen tien",
        "63": "53E6",
    }


def test_crc_case_is_free() -> None:
    for crc in ("53e6", "53E6", "53e6".upper(), "53E6".lower()):
        assert parse_vietqr(DYNAMIC[:-4] + crc).amount == 10000


def test_optional_and_unknown_objects_are_carried() -> None:
    # ZaloPay adds an undocumented tag 26 next to 38; MoMo's old QR has tag 80; 62/07 terminal label.
    body = (
        "000201010211"
        + tlv("26", "0006zalopy0105x1234")
        + tlv("38", MERCHANT)
        + "52045812"
        + "5303704"
        + "5802VN"
        + "5906CUAHNG6006HA NOI"
        + tlv("62", "0704T001")
        + tlv("80", "046")
    )
    parsed = parse_vietqr(signed(body))
    assert parsed.content is None
    assert parsed.raw["26"] == "0006zalopy0105x1234"
    assert parsed.raw["80"] == "046"
    assert parsed.raw["59"] == "CUAHNG"


def test_amount_with_trailing_dot_is_whole_dong() -> None:
    # NAPAS §5.2.6 lists "50000." as a valid amount.
    parsed = parse_vietqr(signed("000201010212" + tlv("38", MERCHANT) + "5303704" + "540650000." + "5802VN"))
    assert parsed.amount == 50000


def test_unknown_bin_is_parsed_without_a_bank() -> None:
    merchant = "0010A0000007270123000697049901092576788590208QRIBFTTA"
    parsed = parse_vietqr(signed("000201010211" + tlv("38", merchant) + "53037045802VN"))
    assert (parsed.bin, parsed.bank) == ("970499", None)


# ---- not VietQR ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        # xuannghia test-quick-gen-qr.spec.ts "VNPayQR"
        (
            "00020101021126280010A0000007750110010215477853037045802VN5912TUGIACOMPANY62310315TU GIA COMPUTER"
            "0708TUGIACO16304DF44",
            "vnpay-qr",
        ),
        # xuannghia test-vnpay-qr.spec.ts "VNPayQR" (with MCC and city)
        (
            "00020101021126280010A000000775011001087990425204597753037045802VN5909MYPHAMHER6005HANOI"
            "62260311MY PHAM HER0707MPHER0163041C50",
            "vnpay-qr",
        ),
        # xuannghia README "Decode VNPay": with an amount, reference and purpose
        (
            "00020101021126280010A0000007750110010531314453037045408210900005802VN5910CELLPHONES"
            "62600312CPSHN ONLINE0517021908061613127850705ONLHN0810CellphoneS63047685",
            "vnpay-qr",
        ),
        # xuannghia test-airpay-qr.spec.ts: ShopeePay/AirPay, reverse-domain GUID
        (
            "00020101021126610013vn.airpay.www014000000201010100064185noC4efDjGKq0or5GbeBz5204581253037045910"
            "RESTAURANT6009HOCHIMINH5802VN6304DA5C",
            "emv-other",
        ),
        # xuannghia test-evn-qr.spec.ts: EVN electricity bill
        (
            "000201010211262400020001140100101114-0195204490053037045802VN5931EVN CONG TY DIEN LUC THANH XUAN"
            "6006Ha Noi62450302000613PD000000000000702000812TT tien dien6304DC30",
            "emv-other",
        ),
        # derived: NAPAS service QRPUSH (merchant payment), not a transfer
        (
            signed("000201010211" + tlv("38", MERCHANT.replace("0208QRIBFTTA", "0206QRPUSH")) + "53037045802VN"),
            "napas-service",
        ),
        # derived: tag 38 of another network
        (
            signed("000201010211" + tlv("38", MERCHANT.replace("A000000727", "A000000999")) + "53037045802VN"),
            "emv-other",
        ),
    ],
    ids=["vnpay-tugia", "vnpay-myphamher", "vnpay-cellphones", "airpay", "evn", "qrpush", "38-other-guid"],
)
def test_other_payloads_are_recognised_not_misparsed(payload: str, kind: str) -> None:
    with pytest.raises(NotVietQRError) as caught:
        parse_vietqr(payload)
    assert caught.value.kind == kind
    assert caught.value.extra["kind"] == kind
    assert caught.value.position is not None
    assert "not a" in str(caught.value)


# ---- strict: structure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "rule", "position"),
    [
        ("", "empty", 0),
        ("hello", "format", 0),
        ("010210" + "x" * 30, "format", 0),  # VNPay personal wallet QR shape: not EMV
        # NAPAS §6.1.1 headline typo: 38/01/01 declares 12 characters but 13 follow (vietqr-spec.md §10);
        # its CRC F4E5 was computed over the typo, so only the structure gives it away.
        (
            "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA53037045802VN6304F4E5",
            "truncated",
            60,
        ),
        # derived-bad-len-54-recrc: 54 declares 9 characters (peers return amount "10005802V"); the
        # next "header" is then "N6", at 89
        (signed("000201010212" + tlv("38", MERCHANT) + "5303704" + "540910005802VN"), "tag", 89),
        # derived-js-length-overflow: a 96-character content written with length "00"
        (
            signed("000201010212" + tlv("38", MERCHANT) + "53037045802VN" + "6200" + "08" + "96" + "x" * 96),
            "length",
            84,
        ),
        # vietqr-ts-utf8-message: lengths counted in UTF-8 bytes (22) for 18 characters; tag 62 then
        # swallows "6304" and the CRC digits are read as the next header, at 112
        (signed("000201010212" + tlv("38", MERCHANT) + "53037045802VN" + "62260822Thanh toán hóa đơn"), "tag", 112),
        # derived: duplicate 53
        (signed("000201010211" + tlv("38", MERCHANT) + "5303704" + "5303704" + "5802VN"), "duplicate", 76),
        # derived: a header cut short inside 62
        (signed("000201010211" + tlv("38", MERCHANT) + "53037045802VN" + "62060811Ch"), "length", 88),
    ],
    ids=[
        "empty",
        "garbage",
        "not-emv",
        "napas-6.1.1-typo",
        "bad-len-54",
        "length-overflow",
        "utf8-lengths",
        "dup-53",
        "cut-62",
    ],
)
def test_structure_errors_with_positions(payload: str, rule: str, position: int) -> None:
    error = parse_error(payload)
    assert (error.rule, error.position) == (rule, position)
    assert f"(at position {position})" in str(error)
    assert error.extra["position"] == position


def test_nested_service_code_in_38_01_is_refused() -> None:
    # vietqr-ts fixtures put the service code inside 38/01 (vietqr-spec.md §10); peers accept it.
    merchant = "0010A000000727" + tlv("01", "0006970416" + "0109257678859" + "0208QRIBFTTA")
    error = parse_error(signed("000201010211" + tlv("38", merchant) + "53037045802VN"))
    assert error.rule == "unknown-field"
    assert error.field.startswith("38/01/02")
    assert "38/02" in str(error)


def test_trailing_data_is_refused() -> None:
    for extra in ("\n", " ", "0102AB", "6304ABCD"):
        error = parse_error(DYNAMIC + extra)
        assert (error.rule, error.position) == ("trailing-data", len(DYNAMIC))


def test_crc_errors() -> None:
    # xuannghia test-vietqr.spec.ts "Invalid CRC VietQR": BBB5 instead of BBB8
    bad = (
        "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA5303704540410005802VN"
        "62150811Chuyen tien6304BBB5"
    )
    with pytest.raises(CRCError) as caught:
        parse_vietqr(bad)
    assert (caught.value.rule, caught.value.position) == ("crc", len(bad) - 4)
    assert "BBB8" in str(caught.value)
    # NAPAS §6.1.4 headline: the static-card body with the dynamic CRC A203 (vietqr-spec.md §10)
    with pytest.raises(CRCError):
        parse_vietqr(
            "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN6304A203"
        )
    # vietqr-generator's hex(crc)[-4:] bug: "X" for CRCs below 0x1000
    with pytest.raises(CRCError) as caught:
        parse_vietqr(DYNAMIC[:-4] + "X3E6")
    assert caught.value.rule == "format"
    # a CRC field of the wrong length
    with pytest.raises(CRCError):
        parse_vietqr(DYNAMIC[:-8] + "630353E")
    # no CRC at all: the payload was cut
    error = parse_error(DYNAMIC[:-8])
    assert error.rule == "mandatory"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ("000201" + tlv("38", MERCHANT) + "53037045802VN", "01", "mandatory"),
        ("000201010213" + tlv("38", MERCHANT) + "53037045802VN", "01", "value"),
        ("000201010211" + tlv("38", MERCHANT) + "5802VN", "53", "mandatory"),
        ("000201010211" + tlv("38", MERCHANT) + "5303840" + "5802VN", "53", "value"),
        ("000201010211" + tlv("38", MERCHANT) + "53037045802US", "58", "value"),
        ("000201010211" + "53037045802VN", "38", "mandatory"),
        ("000201010212" + tlv("38", MERCHANT) + "530370454051,0005802VN", "54", "format"),  # derived-amount-comma
        ("000201010212" + tlv("38", MERCHANT) + "53037045406-500005802VN", "54", "format"),
        ("000201010212" + tlv("38", MERCHANT) + "53037045406500.505802VN", "54", "format"),
        ("000201010212" + tlv("38", MERCHANT) + "530370454010" + "5802VN", "54", "range"),
        ("000201010212" + tlv("38", MERCHANT) + "5303704" + "5409500000000" + "5802VN", "54", "range"),
        ("000201010212" + tlv("38", MERCHANT) + "5303704" + tlv("54", "1" * 14) + "5802VN", "54", "format"),
        (
            "000201010211"
            + tlv("38", "0010A000000727" + tlv("01", "000597041" + "0109257678859") + "0208QRIBFTTA")
            + "53037045802VN",
            "38/01/00",
            "format",
        ),
        (
            "000201010211" + tlv("38", "0010A000000727" + tlv("01", "0006970416") + "0208QRIBFTTA") + "53037045802VN",
            "38/01/01",
            "mandatory",
        ),
        (
            "000201010211"
            + tlv("38", "0010A000000727" + tlv("01", "0109257678859") + "0208QRIBFTTA")
            + "53037045802VN",
            "38/01/00",
            "format",
        ),
        (
            "000201010211"
            + tlv("38", "0010A000000727" + tlv("01", "000697041A0109257678859") + "0208QRIBFTTA")
            + "53037045802VN",
            "38/01/00",
            "format",
        ),
        (
            "000201010211"
            + tlv("38", "0010A000000727" + tlv("01", "00069704160110257678 859") + "0208QRIBFTTA")
            + "53037045802VN",
            "38/01/01",
            "format",
        ),
        (
            "000201010211"
            + tlv("38", "0010A000000727" + tlv("01", "00069704160120" + "1" * 20) + "0208QRIBFTTA")
            + "53037045802VN",
            "38/01/01",
            "format",
        ),
        (
            "000201010211" + tlv("38", "0010A000000727" + tlv("01", "0006970416010212")) + "53037045802VN",
            "38/02",
            "mandatory",
        ),
        (
            "000201010211"
            + tlv("38", "0010A000000727" + tlv("01", "0006970416010212") + "0208qribftta")
            + "53037045802VN",
            "38/02",
            "format",
        ),
        (
            "000201010211"
            + tlv("38", "0010A000000727" + tlv("01", "0006970416010312A") + "0208QRIBFTTC")
            + "53037045802VN",
            "38/01/01",
            "format",
        ),
        (
            "000201010211"
            + tlv("38", "0010A000000727" + tlv("01", "0006970416010212") + "0208QRIBFTTA0302xx")
            + "53037045802VN",
            "38/03",
            "unknown-field",
        ),
        (
            "000201010211" + tlv("38", "0112" + "0006970416010212" + "0208QRIBFTTA") + "53037045802VN",
            "38/00",
            "mandatory",
        ),
        ("000201010211" + tlv("38", MERCHANT) + "53037045802VN" + tlv("62", "08" + "26" + "x" * 26), "62/08", "length"),
        ("000201010211" + tlv("38", MERCHANT) + "53037045802VN" + tlv("62", "0004abcd"), "62/00", "unknown-field"),
        ("000201010211" + tlv("38", MERCHANT) + "53037045802VN" + tlv("62", "0902AA"), "62/09", "format"),
        ("000201010211" + tlv("38", MERCHANT) + "5204581X" + "53037045802VN", "52", "format"),
        ("000201010211" + tlv("38", MERCHANT) + "53037045802VN" + tlv("59", "N" * 26), "59", "length"),
        ("000201010211" + tlv("38", MERCHANT) + "53037045502025802VN", "56", "mandatory"),
        ("000201010211" + tlv("38", MERCHANT) + "53037045502045802VN", "55", "value"),
        ("000201010211" + tlv("38", MERCHANT) + "53037045802VN" + tlv("62", "0811Chuyển tiền"), "62", "charset"),
        ("000201010211" + tlv("38", MERCHANT) + "53037045802VN" + tlv("62", "0811Chuyen\ttien"), "62", "charset"),
    ],
)
def test_field_errors(body: str, field: str, rule: str) -> None:
    error = parse_error(signed(body))
    assert error.field.startswith(field)
    assert error.rule == rule
    assert error.position is not None
    assert 0 <= error.position <= len(signed(body))


def test_charset_error_points_at_the_character() -> None:
    payload = signed("000201010211" + tlv("38", MERCHANT) + "53037045802VN" + tlv("62", "0811Chuyển tiền"))
    error = parse_error(payload)
    assert payload[error.position] == "ể"  # type: ignore[index]


@pytest.mark.parametrize("payload", [None, b"000201", 12345, ["000201"]])
def test_non_text_input_is_a_typed_error(payload: object) -> None:
    error = parse_error(payload)
    assert (error.rule, error.field) == ("type", "payload")


def test_errors_survive_pickling() -> None:
    with pytest.raises(VietQRError) as caught:
        parse_vietqr(DYNAMIC[:-1] + "0")
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object
    assert type(copy) is type(caught.value)
    assert (copy.field, copy.rule, copy.position, str(copy)) == (
        caught.value.field,
        caught.value.rule,
        caught.value.position,
        str(caught.value),
    )
    with pytest.raises(NotVietQRError) as other:
        parse_vietqr(
            "00020101021126280010A0000007750110010215477853037045802VN5912TUGIACOMPANY62310315TU GIA COMPUTER"
            "0708TUGIACO16304DF44"
        )
    assert pickle.loads(pickle.dumps(other.value)).kind == "vnpay-qr"  # noqa: S301


def test_our_payloads_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import market.payments.vietqr.parse as vietqr

    def refuse(payload: object) -> None:
        raise AssertionError(f"strict parser used for {payload!r}")

    monkeypatch.setattr(vietqr, "_parse_strict", refuse)
    for request in (
        VietQRRequest(bin="970416", account="257678859"),
        VietQRRequest(bin="970416", account="257678859", amount=10000, content="Chuyen tien"),
        VietQRRequest(bin="970403", account="0011012345678", amount=180000, bill_number="NPS6869", content="x"),
        VietQRRequest(bin="971025", account="PSP123456789000000", reference="MOMOW2W12345678"),
    ):
        assert parse_vietqr(build_vietqr(request)).account == request.account


def test_lone_surrogate_is_a_typed_error() -> None:
    # A Python str can hold a lone surrogate (e.g. decoded from JSON "\ud800"); it cannot be UTF-8
    # encoded, so a naive CRC check would raise UnicodeEncodeError instead of a ParseError.
    body = "000201010211" + tlv("38", MERCHANT) + "53037045802VN" + tlv("62", "0801\ud800") + "6304"
    for crc in ("0000", "FFFF", "AB12"):
        error = parse_error(body + crc)
        assert error.rule in ("crc", "charset")
