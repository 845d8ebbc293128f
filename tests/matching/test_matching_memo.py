"""Memo normalisation: the banks' wrappers (memo-patterns.md §1) stripped, codes found in the rest."""

import pytest
from matching_helpers import WRAPPERS, code

from market.reconcile.matching import memo

CODE = code(7)

# memo-patterns.md §1 examples and what the payer actually wrote (§4.3 names two of them).
REFERENCE = [
    (
        "MBVCB.4530998360.029552.NGUYEN THE HUNG chuyen tien.CT tu 0351000646393 NGUYEN THE HUNG toi 231814973 "
        "NGUYEN NGOC DIEP tai VPBANK",
        "NGUYEN THE HUNG CHUYEN TIEN",
    ),
    ("MBVCB.1234567890.RB7ABC1234XY thanh toan.CT tu 0901234567 toi 123", "RB7ABC1234XY THANH TOAN"),
    ("MBVCB.4525077405.9P0019630833 CT tu 0351000646393 NGUYEN THE HUNG toi1018795282 CT CP 9PAY", "9P0019630833"),
    (
        "MBVCB.2427229823.174242.naptien 16.CT tu 1027236393 PHAM HOANG TUAN toi 28349817 PHAM HOANG TUAN (ACB) "
        "A Chau GD 174242-090822 15:45:46",
        "NAPTIEN 16",
    ),
    ("SHOPVPS12537 GD 789604-040125 00:05:38", "SHOPVPS12537"),
    ("HD20250101000001 FT25321859460704 Ma giao dich Trace866229 Trace 866229", "HD20250101000001"),
    ("MDH10 Ma giao dich Trace507428 Trace 507428 NG CHUYEN:CUSTOMER 0827505405", "MDH10"),
    ("IBFT CODEMASTER CM17698329860259Q3103 Ma giao dich Trace543496 Trace 543496", "CODEMASTER CM17698329860259Q3103"),
    ("BankAPINotify CT DEN:1023456789 ND:DH000123 SD:12500000", "DH000123"),
    ("CT DEN:523320101151 SEVQR29", "SEVQR29"),
    ("CT DEN: 123456789012 OKBILL.NET chuyen FT12345678901234; tai Napas", "OKBILL.NET CHUYEN"),
    ("CT DEN:9704 r2kxyzf", "R2KXYZF"),
    ("SMB-TkThe :0386883005, tai MSCBVNVX. PHUNG MINH VU Chuyen tien", "PHUNG MINH VU CHUYEN TIEN"),
    (
        "TKThe :0590900139999, tai MB. NGUYEN VIET THANG chuyen tien -CTLNHIDI000014950160814-1/1-CRE-002",
        "NGUYEN VIET THANG CHUYEN TIEN",
    ),
    (
        "HBK-TKThe :1SB2B24, tại NCB. ND Top up Sunworld - ezCloud 17.09.2025 -CTLNHIDO000012817233009-1/1-PMT-002",
        "ND TOP UP SUNWORLD - EZCLOUD 17.09.2025",
    ),
    (
        "TKThe :1027779485, tai Vietcombank. MBVCB.11876304648.447013.VU XUAN HUY chuyen tien.CT tu 1027779445 "
        "VU XUAN HUY toi 4260848540 NGUYEN MINH CHIEN tai BIDV -CTLNHIDI000013514283774-1/1-CRE-002",
        "VU XUAN HUY CHUYEN TIEN",
    ),
    (
        "REM Tfr Ac:5510331733 O@L_040001_212001_0_0_2329539047_035980_TT tien nuoc ky 7/2026 A2482031-035980",
        "TT TIEN NUOC KY 7/2026 A2482031-035980",
    ),
    (
        "TKThe :19021015184017, tai Techcombank. PHAM THI NGOC BICH chuyen tien FT26071809742974",
        "PHAM THI NGOC BICH CHUYEN TIEN",
    ),
    ("DO VAN HA chuyen tien (by TPBank ChatPay)", "DO VAN HA CHUYEN TIEN"),
    ("884114.100924.223854.DANG DAO THANH NHAN chuyen FT24255276428461", "DANG DAO THANH NHAN CHUYEN"),
    ("QR VQR712a7d45ea DU5gUz Ma giao dich Trace756759 Trace 756759", "DU5GUZ"),
    ("napnt8f3k2q-CTLNhanh", "NAPNT8F3K2Q"),
    (
        "MBVCB.4530998360.029552.NGUYEN\nTHE HUNG chuyen tien.CT tu\r\n0351000646393 NGUYEN",
        "NGUYEN THE HUNG CHUYEN TIEN",
    ),
]


@pytest.mark.parametrize(("raw", "payer_wrote"), REFERENCE)
def test_reference_memos_reduce_to_what_the_payer_wrote(raw, payer_wrote):
    assert memo.content(raw) == payer_wrote


def test_reference_memos_without_a_code_give_no_code_window():
    for raw, _ in REFERENCE:
        assert memo.code_candidates(raw) == []


def test_folding_removes_diacritics_case_and_line_wraps():
    assert memo.fold("  Thanh toán\r\n đơn\thàng Đà  ") == "THANH TOAN DON HANG DA"


@pytest.mark.parametrize("shape", sorted(WRAPPERS))
@pytest.mark.parametrize(
    "typed",
    [
        CODE,
        CODE.lower(),  # some banks lower-case (`CT DEN:9704 r2kxyzf`)
        f"{CODE[:4]} {CODE[4:]}",  # split into chunks
        f"{CODE[:3]}-{CODE[3:6]}.{CODE[6:]}",  # separators rewritten
        f"NGUYENVANAN{CODE}",  # glued to the name (`IBFT le van lanhMKH247220`)
        f"{CODE} thanh toán đơn hàng",  # diacritics, words after the code
    ],
)
def test_the_code_is_found_in_every_wrapper_whatever_the_bank_did(shape, typed):
    raw = WRAPPERS[shape](typed)
    assert CODE in memo.code_candidates(raw)
    # The careful path (strip wrappers, then compact) finds the same code: the fast path is safe.
    assert CODE in memo.compact(memo.content(raw))


def test_nested_wrappers_are_stripped_until_stable():
    inner = WRAPPERS["vcb_app (1)"](f"{CODE} mua ca")
    outer = WRAPPERS["bidv (6)"](inner)
    assert memo.content(outer) == f"{CODE} MUA CA"


def test_a_code_glued_to_the_next_word_is_still_found_but_a_truncated_one_is_not():
    assert memo.code_candidates(f"{CODE}MUARAU") == [CODE]
    assert memo.code_candidates(f"{CODE[:7]} GD 174242") == []


def test_scan_says_none_when_no_code_could_even_be_near():
    assert memo.scan("NGUYEN VAN AN chuyen tien FT25321859460704") is None
    assert memo.scan(f"{CODE[:5]}O{CODE[6:]}") == ()  # one foreign symbol: near, not exact
    assert memo.scan(f"x {CODE} y") == (CODE,)


def test_overlapping_windows_are_all_listed():
    doubled = "P" + CODE  # a stuttered prefix: `PP…` must not hide the real window
    assert CODE in memo.code_candidates(doubled)


def test_batch_scan_equals_scanning_one_by_one_even_with_odd_memos():
    memos = [WRAPPERS[shape](f"{CODE} x") for shape in sorted(WRAPPERS)]
    memos += ["", "Thanh toán đơn " + CODE, "no code here", CODE + CODE]
    assert memo.scan_batch(memos) == [memo.scan(m) for m in memos]
    with_nul = [*memos, "bad\x00" + CODE]
    assert memo.scan_batch(with_nul) == [memo.scan(m) for m in with_nul]


def test_near_code_candidates_repair_a_typo_inside_a_wrapper():
    typo = CODE[:4] + ("K" if CODE[4] != "K" else "M") + CODE[5:]
    raw = WRAPPERS["bidv_nested_vcb (6b)"](f"{typo} tra tien")
    assert CODE in memo.near_code_candidates(raw, repair_prefix=False)
    assert CODE in memo.near_code_candidates(WRAPPERS["ct_den (5)"](CODE[1:]), repair_prefix=True)
    assert CODE not in memo.near_code_candidates(WRAPPERS["ct_den (5)"](CODE[1:]), repair_prefix=False)
