"""``market users …``, ``market tokens …`` and ``market merchants link STALL [--revoke]``.

The command line is run on the server by its operator, so it needs no sign-in; it records its
actor as ``cli:<os user>``. Secrets it makes (a token, a link) are printed once, as the last line
of standard output, so that a script can take them with ``tail -n 1``.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from market.access import audit, links, tokens, users
from market.access.audit import AuditAction
from market.access.passwords import PasswordPolicyError
from market.access.roles import STAFF_ROLES
from market.cliutil import cli_actor, cli_settings, sync_engine
from market.config import Settings
from market.errors import MarketError

__all__ = ["COMMANDS", "MERCHANT_COMMANDS", "public_base_url"]

USAGE_ERROR = 2


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(USAGE_ERROR)


def _actor() -> str:
    return f"cli:{cli_actor(None)}"


def public_base_url(settings: Settings) -> str:
    """Where the server is reached from outside: ``MARKET_PUBLIC_URL``, else ``http://HOST:PORT``."""
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not _stdin_is_terminal():
        _fail("không có terminal để hỏi mật khẩu: dùng --password-stdin / no terminal to ask on: use --password-stdin")
    text: str = click.prompt("Mật khẩu / password", hide_input=True, confirmation_prompt="Nhập lại / repeat", err=True)
    return text


@click.group("users")
def users_group() -> None:
    """Người dùng và vai trò. Staff users and their roles."""


@users_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in STAFF_ROLES]))
@click.option("--name", "full_name", default="", help="Full name, shown on pages (default: the username).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
def add_command(username: str, role: str, full_name: str, password_stdin: bool) -> None:
    """Add a staff user; asks for the password twice on a terminal."""
    password = _read_password(password_stdin)
    try:
        with sync_engine(cli_settings()) as engine, engine.begin() as conn:
            user = users.add_user(conn, username, role=role, password=password, full_name=full_name, actor=_actor())
    except (MarketError, PasswordPolicyError) as exc:
        _fail(str(exc))
    click.echo(f"đã thêm {user.username} ({user.role}) / added {user.username} as {user.role}")


@users_group.command("list")
def list_command() -> None:
    """List staff users."""
    with sync_engine(cli_settings()) as engine, engine.connect() as conn:
        found = users.list_users(conn)
    for user in found:
        state = "disabled" if user.disabled else "active"
        click.echo(f"{user.username}\t{user.role}\t{state}\t{user.full_name}\t{user.created_at:%Y-%m-%d}")


@users_group.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable a user: no more sign-ins or tokens, and their sessions end."""
    try:
        with sync_engine(cli_settings()) as engine, engine.begin() as conn:
            user = users.disable_user(conn, username, actor=_actor())
    except MarketError as exc:
        _fail(str(exc))
    click.echo(f"đã khóa {user.username} / disabled {user.username}")


@users_group.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input (one line).")
def password_command(username: str, password_stdin: bool) -> None:
    """Set a user's password; their sessions end."""
    password = _read_password(password_stdin)
    try:
        with sync_engine(cli_settings()) as engine, engine.begin() as conn:
            users.set_password(conn, username, password, actor=_actor())
    except (MarketError, PasswordPolicyError) as exc:
        _fail(str(exc))
    click.echo(f"đã đổi mật khẩu của {username} / password changed")


@click.group("tokens")
def tokens_group() -> None:
    """Token API cho script và tích hợp. API tokens for scripts and integrations."""


@tokens_group.command("create")
@click.option("--user", "username", required=True, help="The user the token acts as.")
@click.option("--name", default="", help="What the token is for, shown in lists.")
def create_token_command(username: str, name: str) -> None:
    """Make a token; it is printed once, as the last line."""
    try:
        with sync_engine(cli_settings()) as engine, engine.begin() as conn:
            info, token = tokens.create_token(conn, username, name=name, actor=_actor())
    except MarketError as exc:
        _fail(str(exc))
    click.echo(
        f"token {info.id} ({info.name}) cho {info.username}, chỉ hiện một lần "
        f"/ for {info.username}, shown only once; use it as 'Authorization: Bearer <token>':"
    )
    click.echo(token)


@tokens_group.command("list")
def list_tokens_command() -> None:
    """List tokens (their prefixes only)."""
    with sync_engine(cli_settings()) as engine, engine.connect() as conn:
        found = tokens.list_tokens(conn)
    for t in found:
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        click.echo(f"{t.id}\t{t.prefix}…\t{t.name}\t{t.username}\t{t.created_at:%Y-%m-%d}\t{used}\t{state}")


@tokens_group.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
def revoke_token_command(token_id: int) -> None:
    """Revoke token ID; it opens nothing from now on."""
    try:
        with sync_engine(cli_settings()) as engine, engine.begin() as conn:
            changed = tokens.revoke_token(conn, token_id, actor=_actor())
    except MarketError as exc:
        _fail(str(exc))
    click.echo(f"đã thu hồi token {token_id} / revoked" if changed else f"token {token_id} was already revoked")


@click.command("link")
@click.argument("stall")
@click.option("--revoke", is_flag=True, help="Revoke the stall's links and sign out the phones they signed in.")
def link_command(stall: str, revoke: bool) -> None:
    """Make a sign-in link for the stall's holder (printed once, last line), or revoke its links."""
    settings = cli_settings()
    try:
        with sync_engine(settings) as engine, engine.begin() as conn:
            if revoke:
                count = links.revoke_links(conn, stall, actor=_actor())
                click.echo(f"đã thu hồi {count} liên kết của sạp {stall} / revoked {count} link(s), phones signed out")
                return
            info, token = links.create_link(conn, stall, actor=_actor())
    except MarketError as exc:
        _fail(str(exc))
    click.echo(
        f"liên kết đăng nhập của sạp {info.stall_code}, chỉ hiện một lần / the stall's sign-in link, shown once:"
    )
    click.echo(public_base_url(settings) + links.link_path(token))


@click.command("audit")
@click.option(
    "--action", type=click.Choice([a.value for a in AuditAction]), default=None, help="Only events of this kind."
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True, help="Newest events first.")
def audit_command(action: str | None, limit: int) -> None:
    """The audit log, newest first: sign-ins, users, tokens and links (never a secret)."""
    with sync_engine(cli_settings()) as engine, engine.connect() as conn:
        events = audit.list_events(conn, action=AuditAction(action) if action else None, limit=limit)
    for e in events:
        detail = " ".join(f"{key}={value}" for key, value in sorted(e.detail.items()))
        click.echo(f"{e.at:%Y-%m-%d %H:%M:%S}\t{e.actor}\t{e.action}\t{e.subject}\t{detail}".rstrip())


COMMANDS = [users_group, tokens_group, audit_command]
# Added to ``market merchants`` by the top-level command line, so that merchants need not import access.
MERCHANT_COMMANDS = [link_command]
