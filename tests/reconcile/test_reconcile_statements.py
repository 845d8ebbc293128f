"""``market reconcile statement``: a bank's export against the journal, item by item, on both databases."""

import csv
import datetime as dt
import io

import pytest
from click.testing import CliRunner
from reconcile_helpers import ACCOUNT, intent, journal, ledger, note, register

from market.cli import main
from market.reconcile.ledger.statements import FORMATS, parse_amount, parse_statement

ZONE = dt.timezone(dt.timedelta(hours=7))
DAY = dt.datetime.now(ZONE).replace(hour=9, minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
D = DAY.strftime("%d/%m/%Y")


@pytest.fixture
def market(database_url, engine, monkeypatch):
    monkeypatch.setenv("MARKET_DATABASE_URL", database_url)
    register(engine)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def _vcb(rows):
    """A Vietcombank export: preamble with the account, the header row, lines, a totals row."""
    lines = [
        "NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM",
        f"Số tài khoản: {ACCOUNT['A-01']}",
        "Loại tiền: VND",
        "",
        "STT,Ngày giao dịch,Số tham chiếu,Số tiền ghi nợ,Số tiền ghi có,Mô tả",
    ]
    lines += [f"{i},{d},{ref},{debit},{credit},{desc}" for i, (d, ref, debit, credit, desc) in enumerate(rows, 1)]
    lines.append(',Tổng cộng,,"5.000","125.000",')
    return "\n".join(lines) + "\n"


def test_missing_and_extra_items_are_reported_and_the_missing_ones_matched(market, engine, tmp_path):
    at = DAY.astimezone(dt.UTC)
    expired = intent(engine, "A-01", 80_000, expires_in=600, now=at - dt.timedelta(hours=2))
    code = intent(engine, "A-01", 60_000, expires_in=86_400, now=at - dt.timedelta(hours=1))
    ids = journal(
        engine,
        note("n1", 40_000, "NGUYEN VAN A chuyen tien", at=at, bank_reference="FT25001"),
        note("n2", 25_000, "tien rau", at=at + dt.timedelta(minutes=5)),
        note("forged", 99_000, "thanh toan", at=at + dt.timedelta(minutes=9)),
    )
    statement = tmp_path / "vcb.csv"
    statement.write_text(
        _vcb(
            [
                (D, "FT25001", "", "40.000", "MBVCB.1.2.NGUYEN VAN A chuyen tien"),
                (D, "5512", "", "25.000", "TIEN RAU GD 174242-090822 15:45:46"),
                (D, "FT25077", "", "60.000", f"{code} mua ca"),
                (D, "FT25078", "5.000", "", "phi"),
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "items.csv"
    result = market("reconcile", "statement", str(statement), "--format", "vcb", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "1 (99.000 đ)" in result.output
    items = list(csv.DictReader(out.open(encoding="utf-8")))
    by_category = {}
    for item in items:
        by_category.setdefault(item["category"], []).append(item)
    assert [i["journal_id"] for i in by_category["matched"]] == [str(ids[0]), str(ids[1])]
    assert [(i["amount"], i["provider"]) for i in by_category["missing_notification"]] == [
        ("60000", "statement"),
        ("-5000", "statement"),
    ]
    assert by_category["missing_notification"][0]["status"] == "matched"
    assert [(i["journal_id"], i["amount"]) for i in by_category["not_on_statement"]] == [(str(ids[2]), "99000")]
    assert [(i["intent"], i["amount"]) for i in by_category["expired_unpaid"]] == [(expired, "80000")]
    # The line that was never notified is now a receipt: the intent it names is paid.
    assert (code, 60_000, "paid") in ledger(engine)["intents"]

    again = market("reconcile", "statement", str(statement), "--format", "vcb")
    assert again.exit_code == 0, again.output
    rows = list(csv.DictReader(io.StringIO(again.stdout)))
    assert sorted({r["category"] for r in rows}) == ["expired_unpaid", "matched", "not_on_statement"]
    assert len(ledger(engine)["statuses"]) == 5  # importing twice adds nothing


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        (
            "agribank",
            'STT,Ngày GD,Số bút toán,Phát sinh nợ,Phát sinh có,Số dư,Nội dung\n1,{d},AG1,,"1.234.000","9.000.000",ck\n',
        ),
        (
            "bidv",
            "STT,Ngày hiệu lực,Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Số dư,Mô tả giao dịch\n"
            "1,{d},{d} 10:15:00,B1,,1.234.000,0,ck\n",
        ),
        (
            "vietinbank",
            'STT,Ngày giao dịch,Mô tả giao dịch,Nợ,Có,Số dư,Số giao dịch\n1,{d} 10:15,ck,,"1.234.000,00",0,V1\n',
        ),
        ("generic", "date,time,amount,description,reference,account\n{d},10:15,1234000,ck,G1,0100000001\n"),
    ],
)
def test_each_bank_layout_reads_the_same_credit(fmt, text):
    account, (line,) = parse_statement(text.format(d=D), FORMATS[fmt], zone=dt.UTC, account="0100000001")  # type: ignore[arg-type]
    assert (account, line.amount, line.day, line.description) == ("0100000001", 1_234_000, DAY.date(), "ck")


def test_bad_lines_are_named_and_exit_2(market, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,amount,description\n31/02/2025,100,x\n01/03/2025,1.5,y\n", encoding="utf-8")
    result = market("reconcile", "statement", str(bad), "--account", "0100000001")
    assert result.exit_code == 2
    assert "line 2: date" in result.output
    assert "line 3: amount" in result.output
    assert parse_amount("1.234.000", line=1, column="x") == 1_234_000
