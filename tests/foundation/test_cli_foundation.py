import subprocess
import sys

from click.testing import CliRunner

import market
from market.cli import main


def test_version_and_help():
    runner = CliRunner()
    assert runner.invoke(main, ["--version"]).output.strip() == f"market, version {market.__version__}"
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "demo"):
        assert command in result.output


def test_db_upgrade_twice(database_url, monkeypatch):
    monkeypatch.setenv("MARKET_DATABASE_URL", database_url)
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_bad_setting_exits_2_with_the_variable(monkeypatch):
    monkeypatch.setenv("MARKET_PORT", "not-a-port")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "MARKET_PORT" in result.output


def test_unreachable_database_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("MARKET_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/test")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "cannot upgrade" in result.output
    assert "Traceback" not in result.output


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "market", "--version"], capture_output=True, text=True, check=True)
    assert market.__version__ in out.stdout
