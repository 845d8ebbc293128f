"""The ``market`` command line.

Top-level commands live here; each package adds its own through ``market.<package>.cli``,
a module whose ``COMMANDS`` list holds click commands or groups (``market qr ...``,
``market merchants ...``). Errors users can fix exit with status 2 and one readable line.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

import market
from market.access import cli as access_cli
from market.adoption import cli as adoption_cli
from market.cliutil import cli_settings
from market.config import Settings
from market.db import DatabaseURLError, migrate, sync_url
from market.devtools import cli as devtools_cli
from market.devtools import seed_access, seed_payments, seed_registry
from market.merchants import cli as merchants_cli
from market.payments import cli as payments_cli
from market.reconcile import cli as reconcile_cli

__all__ = ["main"]

# Each package's commands (its module's ``COMMANDS``), in the layering order.
_COMMAND_MODULES = (merchants_cli, payments_cli, reconcile_cli, adoption_cli, access_cli, devtools_cli)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(market.__version__, prog_name="market")
def main() -> None:
    """Thoại Giang cashless market: registry, VietQR, reconciliation, adoption.

    Nền tảng chợ không dùng tiền mặt Thoại Giang: sổ tiểu thương, mã VietQR, đối soát, báo cáo.

    Configuration comes from MARKET_* environment variables (see README).
    """
    logging.basicConfig(level=os.environ.get("MARKET_LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")
    # Alembic narrates every plugin it loads; users only need our one-line summary.
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create the database or bring it to the newest schema (safe to run again)."""
    settings = cli_settings()
    try:
        migrate(settings)
    except DatabaseURLError as exc:
        raise click.UsageError(str(exc)) from None
    except Exception as exc:
        # Alembic and the drivers raise many kinds; the user needs one line saying what failed.
        reason = getattr(exc, "orig", None) or exc
        target = sync_url(settings.database_url).render_as_string(hide_password=True)
        raise click.ClickException(f"cannot upgrade {target}: {reason}") from exc
    click.echo(f"database is up to date: {sync_url(settings.database_url).render_as_string(hide_password=True)}")


def _run_server(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn  # only the server commands need it

    if workers > 1 and settings.is_sqlite:
        raise click.UsageError("--workers > 1 needs PostgreSQL: the embedded SQLite database has one writer process")
    click.echo(f"market {market.__version__} serving on http://{host}:{port} (database: {settings.database_url})")
    uvicorn.run(
        "market.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        # The app has its own body limit and answers problem+json; keep uvicorn from cutting in first.
        timeout_graceful_shutdown=10,
    )


@main.command("serve")
@click.option("--host", default=None, help="Address to listen on (default MARKET_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (default MARKET_PORT or 8000).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the app on the configured database."""
    settings = cli_settings()
    _run_server(settings, host or settings.host, port or settings.port, workers)


def _fresh_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _print_demo_sign_ins(sign_ins: seed_access.DemoSignIns, base: str) -> None:
    click.echo(f"Đăng nhập / sign in at {base}/dang-nhap (demo passwords, this database only):")
    for username, role, password in sign_ins.accounts:
        click.echo(f"  {role:<8} user {username:<8} password {password}")
    click.echo(f"  holder   stall {sign_ins.stall_code}: open {base}{sign_ins.link_path}")


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Only build the demo database, do not serve it.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Build a fresh demo market in ./market.db and serve it."""
    path = Path.cwd() / "market.db"
    url = f"sqlite:///{path}"
    os.environ["MARKET_DATABASE_URL"] = url  # the server factory reads the environment
    settings = cli_settings(database_url=url)
    _fresh_sqlite(path)
    migrate(settings)
    seed_registry.populate(settings)
    seed_payments.populate(settings)
    sign_ins = seed_access.populate(settings)
    click.echo(f"demo market ready in {path}")
    _print_demo_sign_ins(sign_ins, f"http://{host}:{port}")
    if not no_serve:
        _run_server(settings, host, port, 1)


def _add_package_commands() -> None:
    for module in _COMMAND_MODULES:
        for command in module.COMMANDS:
            main.add_command(command)
    # ``market merchants link``: the command belongs to access, which the merchants package must not import.
    for command in access_cli.MERCHANT_COMMANDS:
        merchants_cli.merchants.add_command(command)


_add_package_commands()
