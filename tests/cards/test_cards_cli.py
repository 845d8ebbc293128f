"""``market qr image STALL --out FILE`` and ``market cards ... --out FILE.pdf`` on SQLite and PostgreSQL,
through the real ``market`` command; and ``qr encode``'s reference and bill number."""

from __future__ import annotations

import pytest
from cards_helpers import (
    account_number,
    add_stall,
    pdf_pages,
    qr_issued_entries,
    rasterise_svg,
    scan,
    static_payload,
    today_in_vietnam,
)
from click.testing import CliRunner
from PIL import Image

from market.cli import main
from market.merchants import service
from market.payments import parse_vietqr


@pytest.fixture
def market(database_url, monkeypatch):
    """``market ARGS...`` on the test database, as a user runs it."""
    monkeypatch.setenv("MARKET_DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty current folder (the SQLite test database lives in ``tmp_path`` itself)."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def registry(engine):
    with engine.begin() as conn:
        add_stall(conn, "A-12", n=12)
        add_stall(conn, "A-13", accounts=[])
        add_stall(conn, "A-14", n=14, status="left")


def test_qr_image_png_and_svg_scan_back(market, registry, tmp_path):
    png, svg = tmp_path / "a12.png", tmp_path / "a12.svg"
    result = market("qr", "image", "a12", "--out", str(png))
    assert result.exit_code == 0, result.output
    assert "A-12" in result.stdout
    assert scan(Image.open(png)) == [static_payload(account_number(12))]
    assert market("qr", "image", "A 12", "--out", str(svg)).exit_code == 0
    assert scan(rasterise_svg(svg.read_text(), px_per_unit=8)) == [static_payload(account_number(12))]


def test_qr_image_with_fixed_amount(market, registry, tmp_path):
    out = tmp_path / "a12.png"
    assert market("qr", "image", "A-12", "--amount", "20000", "--out", str(out)).exit_code == 0
    (payload,) = scan(Image.open(out))
    assert (parse_vietqr(payload).amount, parse_vietqr(payload).account) == (20000, account_number(12))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Z-99", "--out", "z.png"], "Z-99"),
        (["A-13", "--out", "a.png"], "A-13 chưa có tài khoản mặc định"),
        (["A-14", "--out", "a.svg"], "A-14 đã ngưng kinh doanh"),
        (["A-12", "--out", "a.jpg"], ".png or .svg"),
        (["A-12", "--amount", "1.000", "--out", "a.png"], "amount"),
    ],
)
def test_qr_image_bad_input_exits_2_with_one_line(market, registry, workdir, args, message):
    result = market("qr", "image", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert list(workdir.iterdir()) == []  # no file, not even half of one


def test_cards_sheet_of_six_stalls_is_two_pages_that_scan(market, engine, tmp_path):
    with engine.begin() as conn:
        for n in range(1, 7):
            add_stall(conn, f"B-{n}", n=n, row=f"Dãy {7 - n}")
        add_stall(conn, "B-07", accounts=[])
        add_stall(conn, "C-01", n=31)
    out = tmp_path / "zone-b.pdf"
    result = market("cards", "--zone", "B", "--user", "Ban quản lý", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "6 thẻ, 2 trang" in result.stdout
    assert "B-07" in result.stderr  # skipped: no account
    pages = pdf_pages(out.read_bytes(), dpi=150)
    assert len(pages) == 2
    assert [len(scan(page)) for page in pages] == [4, 2]
    # Walking order: row "Dãy 1" holds B-06, "Dãy 6" holds B-01.
    expected = [static_payload(account_number(n)) for n in range(6, 0, -1)]
    assert [payload for page in pages for payload in scan(page)] == expected
    with engine.connect() as conn:
        assert service.get_stall(conn, "B-01").onboarding.qr_issued_on == today_in_vietnam()
        assert service.get_stall(conn, "C-01").onboarding.qr_issued_on is None
        (entry,) = qr_issued_entries(conn, "B-03")
        assert entry.actor == "Ban quản lý"
    # Printing again: the same sheet, no new history entry.
    assert market("cards", "--zone", "b", "--out", str(out)).exit_code == 0
    with engine.connect() as conn:
        assert len(qr_issued_entries(conn, "B-03")) == 1


def test_cards_of_listed_stalls(market, registry, tmp_path):
    out = tmp_path / "one.pdf"
    result = market("cards", "--stall", "a12", "--out", str(out))
    assert result.exit_code == 0, result.output
    (page,) = pdf_pages(out.read_bytes(), dpi=150)
    assert scan(page) == [static_payload(account_number(12))]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stall", "A-12", "--stall", "A-13"], "A-13"),
        (["--stall", "A-14"], "A-14"),
        (["--stall", "Z-9"], "Z-09"),
        (["--zone", "Q"], "Q"),
        (["--stall", "A-12", "--out", "sheet.png"], ".pdf"),
    ],
)
def test_cards_bad_selection_exits_2_and_writes_nothing(market, registry, engine, workdir, args, message):
    if "--out" not in args:
        args = [*args, "--out", "sheet.pdf"]
    result = market("cards", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(workdir.iterdir()) == []
    with engine.connect() as conn:
        assert service.get_stall(conn, "A-12").onboarding.qr_issued_on is None


def test_encode_with_reference_and_bill_number():
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["qr", "encode", "--bank", "MoMo", "--account", "0912345678", "--reference", "MOMOW2W12345678",
         "--bill-number", "HD 0042"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    parsed = parse_vietqr(result.stdout.strip())
    assert (parsed.bin, parsed.reference, parsed.bill_number) == ("971025", "MOMOW2W12345678", "HD 0042")
    refused = runner.invoke(main, ["qr", "encode", "--bank", "MoMo", "--account", "0912345678", "--reference", "X1"])
    assert refused.exit_code == 2
    assert refused.stderr.startswith("Error: reference: ")
