"""Public VietQR vectors: we must build them byte for byte and read them back exactly.

Sources (tags as in ../shared/reference/vietqr-spec.md):
- [S1] NAPAS VietQR spec v1.0 (09/2021) §6.1.x: the "Tạo CRC" rows of the examples (the
  headlines of 6.1.1 and 6.1.4 have typos; see test_vietqr_parse.py for those).
- [S3] xuannghia/vietnam-qr-pay (npm 1.5.1): test/test-quick-gen-qr.spec.ts, test/test-vietqr.spec.ts,
  test/test-momo-zalopay.spec.ts and README.md.
- [S4] subiz/vietqr (Go): vietqr_test.go (including its folding of "chuyển khoản").
- [S9] api.vietqr.vn "Generate VietQR Code" example, as quoted verbatim in public test code
  (not re-fetched here; its CRC verifies).
"""

from __future__ import annotations

from typing import Any

import pytest

from market.payments import SERVICE_CARD, VietQRRequest, build_vietqr, parse_vietqr

# (id, request fields, payload)
BUILD_VECTORS: list[tuple[str, dict[str, Any], str]] = [
    # [S3] test-quick-gen-qr.spec.ts "VietQR Static" (also README "VietQR Tĩnh")
    (
        "xuannghia-static-acb",
        {"bin": "970416", "account": "257678859"},
        "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F",
    ),
    # [S3] test-quick-gen-qr.spec.ts "VietQR Dynamic" (also README "VietQR Động")
    (
        "xuannghia-dynamic-acb",
        {"bin": "970416", "account": "257678859", "amount": 10000, "content": "Chuyen tien"},
        "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA53037045405100005802VN"
        "62150811Chuyen tien630453E6",
    ),
    # [S3] README, build() after setting amount 999999 and purpose "Cam on nhe"
    (
        "xuannghia-readme-rebuild",
        {"bin": "970416", "account": "257678859", "amount": 999999, "content": "Cam on nhe"},
        "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA530370454069999995802VN"
        "62140810Cam on nhe6304E786",
    ),
    # [S3] test-vietqr.spec.ts "CRC with three-byte": a CRC below 0x1000 is zero-padded (0283)
    (
        "xuannghia-techcombank-0283",
        {"bin": "970407", "account": "19030413601018"},
        "00020101021138580010A000000727012800069704070114190304136010180208QRIBFTTA53037045802VN63040283",
    ),
    # [S3] README "MoMo", accounts starting with PSP: BIN 971025 plus the 62/05 MOMOW2W reference
    (
        "xuannghia-momo-psp",
        {"bin": "971025", "account": "PSP123456789000000", "reference": "MOMOW2W12345678"},
        "00020101021138620010A000000727013200069710250118PSP1234567890000000208QRIBFTTA53037045802VN"
        "62190515MOMOW2W123456786304821F",
    ),
    # [S3] test-momo-zalopay.spec.ts "ZaloPay": a wallet account behind BVBank 970454
    (
        "xuannghia-zalopay-bvbank",
        {"bin": "970454", "account": "99ZP24009M07248267"},
        "00020101021138620010A00000072701320006970454011899ZP24009M072482670208QRIBFTTA53037045802VN6304073C",
    ),
    # [S1] §6.1.2 static QR to a card, "Tạo CRC" row (CRC 4F52)
    (
        "napas-6.1.2-static-card",
        {"bin": "970403", "account": "9704031101234567", "service": SERVICE_CARD},
        "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52",
    ),
    # [S1] §6.1.3 dynamic QR to an account with bill number and purpose, "Tạo CRC" row (2E2E)
    (
        "napas-6.1.3-dynamic-account",
        {
            "bin": "970403",
            "account": "0011012345678",
            "amount": 180000,
            "bill_number": "NPS6869",
            "content": "thanh toan don hang",
        },
        "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN"
        "62340107NPS68690819thanh toan don hang63042E2E",
    ),
    # [S1] §6.1.4 dynamic QR to a card, "Tạo CRC" row (A203)
    (
        "napas-6.1.4-dynamic-card",
        {
            "bin": "970403",
            "account": "9704031101234567",
            "amount": 180000,
            "bill_number": "NPS6869",
            "content": "thanh toan don hang",
            "service": SERVICE_CARD,
        },
        "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC530370454061800005802VN"
        "62340107NPS68690819thanh toan don hang6304A203",
    ),
    # [S4] vietqr_test.go, static TPBank
    (
        "subiz-static-tpbank",
        {"bin": "970423", "account": "0099999999"},
        "00020101021138540010A00000072701240006970423011000999999990208QRIBFTTA53037045802VN6304CBB4",
    ),
    # [S4] vietqr_test.go, dynamic MB with content
    (
        "subiz-dynamic-mb",
        {"bin": "970422", "account": "0023457923442", "amount": 40123, "content": "test text string"},
        "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA53037045405401235802VN"
        "62200816test text string6304D9C6",
    ),
    # [S4] vietqr_test.go: "chuyển khoản" is folded to "chuyen khoan", the same rule as ours
    (
        "subiz-diacritics-folded",
        {"bin": "970422", "account": "0023457923442", "amount": 40123, "content": "chuyển khoản"},
        "00020101021238570010A00000072701270006970422011300234579234420208QRIBFTTA53037045405401235802VN"
        "62160812chuyen khoan6304722F",
    ),
    # [S9] api.vietqr.vn example: virtual account, bill number and content
    (
        "vietqr-vn-generate-example",
        {
            "bin": "970422",
            "account": "VQRQACYEK5606",
            "amount": 6868,
            "bill_number": "NPS6869",
            "content": "Test VA Account",
        },
        "00020101021238570010A000000727012700069704220113VQRQACYEK56060208QRIBFTTA5303704540468685802VN"
        "62300107NPS68690815Test VA Account6304BE01",
    ),
]


@pytest.mark.parametrize(
    ("request_fields", "payload"), [v[1:] for v in BUILD_VECTORS], ids=[v[0] for v in BUILD_VECTORS]
)
def test_builds_public_vector_byte_for_byte(request_fields: dict[str, Any], payload: str) -> None:
    assert build_vietqr(VietQRRequest(**request_fields)) == payload


@pytest.mark.parametrize(
    ("request_fields", "payload"), [v[1:] for v in BUILD_VECTORS], ids=[v[0] for v in BUILD_VECTORS]
)
def test_reads_public_vector_back(request_fields: dict[str, Any], payload: str) -> None:
    parsed = parse_vietqr(payload)
    assert parsed.bin == request_fields["bin"]
    assert parsed.account == request_fields["account"]
    assert parsed.amount == request_fields.get("amount")
    assert parsed.is_dynamic is ("amount" in request_fields)
    assert parsed.bill_number == request_fields.get("bill_number")
    assert parsed.reference == request_fields.get("reference")
    assert parsed.service == request_fields.get("service", "QRIBFTTA")
    assert parsed.raw["63"] == payload[-4:]
    if "content" in request_fields:
        assert parsed.content is not None
        assert parsed.content in payload


def test_mb_bank_lower_case_crc_is_accepted() -> None:
    # [S3] test-vietqr.spec.ts "MBBank QR with lowercase CRC": the MB Bank app writes 79db.
    payload = "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN630479db"
    parsed = parse_vietqr(payload)
    assert (parsed.bin, parsed.account, parsed.is_dynamic) == ("970422", "0352350917", False)
    assert parsed.bank is not None
    assert parsed.bank.code == "MB"
    assert parsed.raw["63"] == "79db"
    # and we write the same payload with the CRC in upper case
    assert build_vietqr(VietQRRequest(bin="970422", account="0352350917")) == payload[:-4] + "79DB"


def test_xuannghia_dynamic_1000_reads_back() -> None:
    # [S3] test-vietqr.spec.ts "VietQR" and README "Decode"
    payload = (
        "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA5303704540410005802VN"
        "62150811Chuyen tien6304BBB8"
    )
    parsed = parse_vietqr(payload)
    assert (parsed.bin, parsed.account, parsed.amount, parsed.content) == ("970416", "257678859", 1000, "Chuyen tien")
    assert parsed.bank is not None
    assert parsed.bank.short_name == "ACB"


def test_old_momo_qr_through_bvbank_with_tag_80() -> None:
    # [S3] test-momo-zalopay.spec.ts "MoMo" (older accounts): BVBank 970454, 62/05 reference and an
    # unreserved tag 80 (last 3 digits of the phone) without a GUID. Not our canonical layout, so
    # this also exercises the general parser.
    payload = (
        "00020101021138620010A00000072701320006970454011899MM24011M348750800208QRIBFTTA53037045802VN"
        "62190515MOMOW2W3487508080030466304EBC8"
    )
    parsed = parse_vietqr(payload)
    assert (parsed.bin, parsed.account, parsed.reference) == ("970454", "99MM24011M34875080", "MOMOW2W34875080")
    assert parsed.raw["80"] == "046"
    assert list(parsed.raw) == ["00", "01", "38", "53", "58", "62", "80", "63"]
