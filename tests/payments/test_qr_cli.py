"""``market qr encode`` / ``market qr decode``: the contract in design.md."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from market.payments.cli import COMMANDS, qr

# xuannghia/vietnam-qr-pay README "VietQR Động" and "VietQR Tĩnh" (ACB 970416, 257678859)
DYNAMIC = (
    "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA53037045405100005802VN"
    "62150811Chuyen tien630453E6"
)
STATIC = "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_qr_is_a_group_offered_to_the_market_cli() -> None:
    assert isinstance(qr, click.Group)
    assert qr.name == "qr"
    assert qr in COMMANDS
    assert {"encode", "decode"} <= set(qr.commands)


@pytest.mark.parametrize("bank", ["970416", "ACB", "acb", " a c b "])
def test_encode_dynamic(runner: CliRunner, bank: str) -> None:
    result = runner.invoke(
        qr, ["encode", "--bank", bank, "--account", "257678859", "--amount", "10000", "--purpose", "Chuyển tiền"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == DYNAMIC + "\n"
    assert result.stderr == ""


def test_encode_static(runner: CliRunner) -> None:
    result = runner.invoke(qr, ["encode", "--bank", "ACB", "--account", "257678859"])
    assert (result.exit_code, result.stdout) == (0, STATIC + "\n")


def test_encode_card(runner: CliRunner) -> None:
    # NAPAS §6.1.2 "Tạo CRC" row: static QR to a card at Sacombank
    result = runner.invoke(qr, ["encode", "--bank", "Sacombank", "--account", "9704031101234567", "--card"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52"
    )


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--bank", "Ngân hàng Mặt Trăng", "--account", "1"], "bank"),
        (["--bank", "970499", "--account", "1"], "bank"),
        (["--bank", "ACB", "--account", "123 456"], "account"),
        (["--bank", "ACB", "--account", "1" * 20], "account"),
        (["--bank", "ACB", "--account", "12A", "--card"], "account"),
        (["--bank", "ACB", "--account", "1", "--amount", "1,000"], "amount"),
        (["--bank", "ACB", "--account", "1", "--amount", "1500.5"], "amount"),
        (["--bank", "ACB", "--account", "1", "--amount", "0"], "amount"),
        (["--bank", "ACB", "--account", "1", "--amount", "-5000"], "amount"),
        (["--bank", "ACB", "--account", "1", "--amount", "500000000"], "amount"),
        (["--bank", "ACB", "--account", "1", "--purpose", "Thanh toán đơn hàng số 123456"], "content"),
        (["--bank", "ACB", "--account", "1", "--purpose", "cảm ơn 🙏"], "content"),
        (["--bank", "MoMo", "--account", "PSP123456789000000"], "reference"),
    ],
)
def test_encode_bad_input_exits_2_with_the_reason(runner: CliRunner, args: list[str], field: str) -> None:
    result = runner.invoke(qr, ["encode", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {field}: ")
    assert result.stderr.count("\n") == 1


def test_encode_missing_option_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(qr, ["encode", "--bank", "ACB"])
    assert result.exit_code == 2
    assert "--account" in result.stderr


def test_decode_prints_json(runner: CliRunner) -> None:
    result = runner.invoke(qr, ["decode", DYNAMIC])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["bin"] == "970416"
    assert document["account"] == "257678859"
    assert document["amount"] == 10000
    assert document["content"] == "Chuyen tien"
    assert document["service"] == "QRIBFTTA"
    assert document["is_dynamic"] is True
    assert document["is_card"] is False
    assert document["bank"]["short_name"] == "ACB"
    assert document["bank"]["name"] == "Ngân hàng TMCP Á Châu"
    assert document["raw"]["63"] == "53E6"
    assert document["payload"] == DYNAMIC
    assert document["bill_number"] is None


def test_decode_lower_case_crc(runner: CliRunner) -> None:
    # xuannghia test-vietqr.spec.ts "MBBank QR with lowercase CRC"
    payload = "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN630479db"
    result = runner.invoke(qr, ["decode", payload])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["account"] == "0352350917"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("hello", "not an EMV QR payload"),
        ("", "empty"),
        (DYNAMIC[:-1] + "0", "does not match"),
        (DYNAMIC + "\n", "follow the CRC"),
        (
            "00020101021126280010A0000007750110010215477853037045802VN5912TUGIACOMPANY62310315TU GIA COMPUTER"
            "0708TUGIACO16304DF44",
            "VNPAY-QR",
        ),
    ],
)
def test_decode_bad_input_exits_2_with_the_reason(runner: CliRunner, payload: str, words: str) -> None:
    result = runner.invoke(qr, ["decode", payload])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert words in result.stderr
