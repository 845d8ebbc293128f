"""``market users``, ``market tokens`` and ``market merchants link``, end to end through click."""

import pytest
import sqlalchemy as sa
from access_helpers import add_stalls, stored_text
from click.testing import CliRunner

from market.access import audit
from market.access import cli as access_cli
from market.cli import main

PASSWORD = "mật khẩu dài đủ rồi"


@pytest.fixture
def market(database_url, monkeypatch):
    """Run ``market ARGS`` on the test database as the OS user "operator"."""
    monkeypatch.setenv("MARKET_DATABASE_URL", database_url)
    monkeypatch.setenv("LOGNAME", "operator")
    monkeypatch.setenv("MARKET_PUBLIC_URL", "https://cho.example.vn/")

    def run(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input)

    return run


def test_users_add_list_password_disable(market, engine):
    result = market(
        "users", "add", "Lan", "--role", "office", "--name", "Lê Thị Lan", "--password-stdin", input=PASSWORD
    )
    assert result.exit_code == 0, result.output
    assert "added lan as office" in result.output
    listed = market("users", "list")
    assert listed.exit_code == 0
    assert listed.output.split("\t")[:4] == ["lan", "office", "active", "Lê Thị Lan"]
    changed = market("users", "password", "lan", "--password-stdin", input="một mật khẩu khác hẳn\n")
    assert changed.exit_code == 0, changed.output
    assert market("users", "disable", "LAN").exit_code == 0
    assert "\tdisabled\t" in market("users", "list").output
    with engine.connect() as conn:
        text = stored_text(conn)
        events = audit.list_events(conn)
    assert PASSWORD not in text
    assert "một mật khẩu khác hẳn" not in text
    assert [(e.action, e.actor, e.subject) for e in reversed(events)] == [
        ("user_added", "cli:operator", "lan"),
        ("password_changed", "cli:operator", "lan"),
        ("user_disabled", "cli:operator", "lan"),
    ]


def test_users_add_asks_twice_on_a_terminal(market, engine, monkeypatch):
    monkeypatch.setattr(access_cli, "_stdin_is_terminal", lambda: True)
    result = market("users", "add", "hai", "--role", "team", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT role FROM users WHERE username = 'hai'")).scalar_one() == "team"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["users", "add", "lan", "--role", "office", "--password-stdin"], "ngắn\n", "password too short"),
        (["users", "add", "lan lan", "--role", "office", "--password-stdin"], PASSWORD, "invalid username"),
        (["users", "add", "lan", "--role", "office"], None, "use --password-stdin"),
        (["users", "disable", "nobody"], None, "no user 'nobody'"),
        (["users", "password", "nobody", "--password-stdin"], PASSWORD, "no user"),
        (["tokens", "create", "--user", "nobody"], None, "no user"),
        (["tokens", "revoke", "42"], None, "no token 42"),
        (["merchants", "link", "Z-99"], None, "no stall"),
    ],
)
def test_errors_are_one_line_and_exit_2(market, args, stdin, message):
    result = market(*args, input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_taken_username_exits_2(market):
    assert market("users", "add", "lan", "--role", "office", "--password-stdin", input=PASSWORD).exit_code == 0
    again = market("users", "add", "LAN", "--role", "team", "--password-stdin", input=PASSWORD)
    assert again.exit_code == 2
    assert "taken" in again.output


def test_tokens_are_printed_once_as_the_last_line_and_stored_as_digests(market, engine):
    market("users", "add", "lan", "--role", "office", "--password-stdin", input=PASSWORD)
    created = market("tokens", "create", "--user", "lan", "--name", "kế toán")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("mkt_")
    assert len(token) >= 47
    listed = market("tokens", "list")
    assert token not in listed.output
    assert listed.output.startswith(f"1\t{token[:12]}…\tkế toán\tlan\t")
    assert "never used\tactive" in listed.output
    with engine.connect() as conn:
        assert token not in stored_text(conn)
    assert market("tokens", "revoke", "1").exit_code == 0
    assert "revoked" in market("tokens", "list").output
    assert "already revoked" in market("tokens", "revoke", "1").output


def test_merchants_link_prints_the_url_once_and_revoke_ends_it(market, engine):
    stall_codes = add_stalls(engine)
    created = market("merchants", "link", stall_codes[0].lower())
    assert created.exit_code == 0, created.output
    url = created.stdout.strip().splitlines()[-1]
    assert url.startswith("https://cho.example.vn/s/")
    token = url.rsplit("/", 1)[1]
    with engine.connect() as conn:
        assert token not in stored_text(conn)
        link = conn.execute(sa.text("SELECT created_by, revoked_at FROM stall_links")).one()
    assert link == ("cli:operator", None)
    revoked = market("merchants", "link", stall_codes[0], "--revoke")
    assert revoked.exit_code == 0, revoked.output
    assert "revoked 1 link" in revoked.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT revoked_at FROM stall_links")).scalar_one() is not None


def test_the_link_url_defaults_to_host_and_port(market, engine, monkeypatch):
    stall_codes = add_stalls(engine)
    monkeypatch.delenv("MARKET_PUBLIC_URL")
    monkeypatch.setenv("MARKET_PORT", "8123")
    url = market("merchants", "link", stall_codes[1]).stdout.strip().splitlines()[-1]
    assert url.startswith("http://127.0.0.1:8123/s/")


def test_audit_lists_what_happened_without_secrets(market, engine):
    market("users", "add", "lan", "--role", "office", "--password-stdin", input="a long enough password\n")
    created = market("tokens", "create", "--user", "lan", "--name", "script")
    token = created.output.strip().splitlines()[-1]
    result = market("audit")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split("\t")[2] for line in lines][:2] == ["token_created", "user_added"]
    assert all(line.split("\t")[1].startswith("cli:") for line in lines[:2])
    assert token not in result.output
    assert "a long enough password" not in result.output
    only = market("audit", "--action", "user_added")
    assert [line.split("\t")[2] for line in only.output.splitlines()] == ["user_added"]
    assert market("audit", "--action", "nonsense").exit_code == 2
