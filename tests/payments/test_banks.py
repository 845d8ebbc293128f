"""The bank directory as the codec sees it: the shared ``market.banks`` plus exact BIN lookups,
the known-BIN set the builder checks, and a lookup that fails with a typed error."""

from __future__ import annotations

import pytest

import market.banks
from market.errors import InvalidInputError
from market.payments import (
    UnknownBankError,
    ValidationError,
    all_banks,
    bank_by_bin,
    find_bank,
    get_bank,
    is_known_bin,
)
from market.payments.banks import KNOWN_BINS

# banks.md, main table (short name, BIN, code): vietqr.io's list and the SBV BIN letter.
BANKS_MD = [
    ("Vietcombank", "970436", "VCB"),
    ("BIDV", "970418", "BIDV"),
    ("Agribank", "970405", "VBA"),
    ("VietinBank", "970415", "ICB"),
    ("HDBank", "970437", "HDB"),
    ("Techcombank", "970407", "TCB"),
    ("MBBank", "970422", "MB"),
    ("ACB", "970416", "ACB"),
    ("VPBank", "970432", "VPB"),
    ("Sacombank", "970403", "STB"),
    ("TPBank", "970423", "TPB"),
    ("SeABank", "970440", "SEAB"),
    ("LPBank", "970449", "LPB"),
    ("VietCapitalBank", "970454", "VCCB"),
    ("Vikki", "970406", "Vikki"),
    ("MBV", "970414", "MBV"),
    ("Timo", "963388", "TIMO"),
    ("CAKE", "546034", "CAKE"),
    ("MoMo", "971025", "MOMO"),
    ("ViettelMoney", "971005", "VTLMONEY"),
    ("VNPTMoney", "971011", "VNPTMONEY"),
]


def test_the_codec_uses_the_projects_one_directory() -> None:
    assert all_banks() is market.banks.all_banks()
    assert find_bank is market.banks.find_bank
    assert {bank.bin for bank in market.banks.all_banks()} == KNOWN_BINS


@pytest.mark.parametrize(("short_name", "bin_code", "code"), BANKS_MD)
def test_directory_matches_the_reference_table(short_name: str, bin_code: str, code: str) -> None:
    bank = bank_by_bin(bin_code)
    assert bank is not None
    assert (bank.short_name, bank.code) == (short_name, code)
    assert is_known_bin(bin_code)
    for query in (bin_code, code, short_name, short_name.lower(), short_name.upper()):
        assert get_bank(query) == bank, query


@pytest.mark.parametrize("query", ["VCB", "vcb", "Vietcombank", "VIETCOMBANK", "vietcombank", "Vietcom Bank", "970436"])
def test_vietcombank_is_found_however_it_is_typed(query: str) -> None:
    assert get_bank(query).bin == "970436"


@pytest.mark.parametrize(
    ("alias", "bin_code"), [("CTG", "970415"), ("BID", "970418"), ("MBB", "970422"), ("MB Bank", "970422")]
)
def test_tickers_and_app_names(alias: str, bin_code: str) -> None:
    assert get_bank(alias).bin == bin_code


def test_known_conflicts_resolve_to_the_vietqr_io_bins() -> None:
    # banks.md caveats: some public lists swap Viettel Money and VNPT Money, give BIDV 970488,
    # or put CIMB/MAFC at their SBV BINs; names must give the BINs bank apps use.
    assert get_bank("VTLMONEY").bin == "971005"
    assert get_bank("VNPTMONEY").bin == "971011"
    assert get_bank("BIDV").bin == "970418"
    assert not is_known_bin("970488")
    assert get_bank("CIMB").bin == "422589"
    assert get_bank("MAFC").bin == "977777"


def test_bin_lookup_is_exact() -> None:
    assert bank_by_bin("970436") == get_bank("VCB")
    assert bank_by_bin("VCB") is None  # only BINs here: the parser must not take a code for a BIN
    assert bank_by_bin(" 970436") is None
    assert bank_by_bin("999999") is None
    assert not is_known_bin("999999")


def test_directory_is_well_formed() -> None:
    bins = [bank.bin for bank in all_banks()]
    assert len(bins) == len(set(bins)) == len(KNOWN_BINS) >= 60
    for bank in all_banks():
        assert len(bank.bin) == 6
        assert bank.bin.isdigit()
        assert bank_by_bin(bank.bin) == bank


@pytest.mark.parametrize("query", ["Ngân hàng Mặt Trăng", "", "   ", "97043", 970436, None])
def test_unknown_bank_is_a_typed_error(query: object) -> None:
    with pytest.raises(UnknownBankError) as caught:
        get_bank(query)  # type: ignore[arg-type]
    error = caught.value
    assert isinstance(error, ValidationError)
    assert isinstance(error, InvalidInputError)
    assert (error.field, error.rule) == ("bank", "unknown-bank")
    assert repr(query) in str(error)
