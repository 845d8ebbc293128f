"""``market merchants import FILE.csv|FILE.xlsx [--dry-run]``, ``export [--out FILE]``, and the account
changes waiting for a second person: ``changes [--stall S]``, ``approve CHANGE_ID``, ``reject CHANGE_ID --reason``.

The file's extension chooses the format: ``.xlsx`` is an Excel workbook, anything else is CSV (the default
and the contract). Approving and rejecting record the actor as ``cli:<os user>``: the command line is run
on the server by its operator.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal, NoReturn

import click
from sqlalchemy.engine import Connection

from market.cliutil import cli_actor, cli_settings, sync_engine
from market.errors import MarketError
from market.merchants import account_changes
from market.merchants.csvio import write_csv
from market.merchants.importer import ImportReport, import_csv
from market.merchants.schemas import AccountChangeOut, AccountOut
from market.merchants.service import all_stalls
from market.merchants.xlsxio import write_xlsx

__all__ = ["COMMANDS", "merchants"]

# Below this many rows the import is over before a bar would be drawn.
_PROGRESS_FROM_ROWS = 1000
USAGE_ERROR = 2


class _Progress:
    """A progress bar on standard error, drawn only for large files."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._bar: Any = None

    def start(self, rows: int) -> None:
        if rows >= _PROGRESS_FROM_ROWS:
            bar = click.progressbar(length=rows, label="Kiểm tra / checking", file=sys.stderr)
            self._bar = self._stack.enter_context(bar)

    def step(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)


def _is_xlsx(path: Path) -> bool:
    return path.suffix.lower() == ".xlsx"


def _print_report(report: ImportReport, dry_run: bool) -> None:
    for error in report.errors:
        where = f"dòng {error.row}" if error.row else "tệp"
        column = f', cột "{error.column}"' if error.column else ""
        click.echo(f"{where}{column}: {error.message}", err=True)
    if report.errors:
        click.echo(
            f"Không ghi gì: {len(report.errors)} lỗi trong {report.rows} dòng "
            f"/ nothing written: {len(report.errors)} problem(s) in {report.rows} row(s)",
            err=True,
        )
        return
    for pending in report.pending:
        which = f" (đề nghị #{pending.change_id} / change #{pending.change_id})" if pending.change_id else ""
        click.echo(
            f"dòng {pending.row}: sạp {pending.code}: tài khoản mới chờ người thứ hai duyệt{which} "
            f"/ new accounts wait for a second person's approval"
        )
    verb = "Sẽ" if dry_run else "Đã"
    click.echo(
        f"{verb} thêm {report.created}, cập nhật {report.updated}, giữ nguyên {report.unchanged} sạp "
        f"/ {'would create' if dry_run else 'created'} {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}"
        + (f"; {len(report.pending)} chờ duyệt tài khoản / awaiting account approval" if report.pending else "")
        + (" (dry run: nothing written)" if dry_run else "")
    )


@click.group("merchants")
def merchants() -> None:
    """Sổ tiểu thương: nhập / xuất CSV. Stall registry: CSV import and export."""


@merchants.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report what would change; write nothing.")
@click.option("--user", default=None, help="Who makes the change, for the history (default: $USER).")
@click.pass_context
def import_command(ctx: click.Context, file: Path, dry_run: bool, user: str | None) -> None:
    """Import stalls from FILE.csv (UTF-8 with or without BOM, "," or ";", Vietnamese or English headers) or FILE.xlsx.

    All or nothing: any bad row writes nothing; each problem is listed by row and column, and
    the command exits with status 2. Importing the same file again changes nothing.
    """
    settings = cli_settings()
    data = file.read_bytes()
    with sync_engine(settings) as engine, ExitStack() as stack, engine.connect() as conn:
        progress = _Progress(stack)
        # The import reads everything, then writes: take SQLite's write lock up front (db.py).
        conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin() as transaction:
            report = import_csv(
                conn,
                data,
                cli_actor(user),
                approval=settings.account_changes_need_approval,
                dry_run=dry_run,
                progress=progress.step,
                on_rows=progress.start,
                file_format="xlsx" if _is_xlsx(file) else "csv",
            )
            if not report.written:
                transaction.rollback()
    _print_report(report, dry_run)
    if report.errors:
        ctx.exit(2)


@merchants.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (default: standard output); a FILE.xlsx is an Excel workbook.",
)
@click.option(
    "--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Header and value language."
)
@click.option("--delimiter", type=click.Choice([",", ";"]), default=",", show_default=True, help="CSV only.")
@click.option("--include-national-id", is_flag=True, help="Include holders' national ID numbers (sensitive).")
def export_command(out: Path | None, lang: Literal["vi", "en"], delimiter: str, include_national_id: bool) -> None:
    """Export every stall as CSV (or, to a FILE.xlsx, as a workbook), stall code first; it imports back unchanged.

    A CSV file written with --out starts with a byte-order mark so that Excel reads the diacritics.
    """
    with sync_engine(cli_settings()) as engine, engine.connect() as conn:
        stalls = all_stalls(conn)
    options: dict[str, Any] = {"lang": lang, "delimiter": delimiter, "include_national_id": include_national_id}
    if out is None:
        buffer = io.StringIO()
        write_csv(buffer, stalls, **options)
        click.echo(buffer.getvalue(), nl=False)
        return
    if _is_xlsx(out):
        with out.open("wb") as binary:
            count = write_xlsx(binary, stalls, lang=lang, include_national_id=include_national_id)
    else:
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            count = write_csv(handle, stalls, **options)
    click.echo(f"Đã xuất {count} sạp vào {out} / exported {count} stalls", err=True)


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(USAGE_ERROR)


def _cli_actor() -> str:
    return f"cli:{cli_actor(None)}"


def _accounts_text(accounts: list[AccountOut]) -> str:
    return (
        "; ".join(
            f"{a.bank_short_name} {a.account_number} {a.holder_name}" + (" [mặc định]" if a.is_default else "")
            for a in accounts
        )
        or "—"
    )


def _print_change(change: AccountChangeOut) -> None:
    click.echo(
        f"#{change.id}\t{change.stall}\t{change.state}\t{change.requested_by}\t{change.requested_at:%Y-%m-%d %H:%M}"
        f"\t{_accounts_text(change.old_accounts)} → {_accounts_text(change.new_accounts)}"
    )


def _decide(call: Callable[[Connection], AccountChangeOut]) -> AccountChangeOut:
    try:
        with (
            sync_engine(cli_settings()) as engine,
            engine.connect() as conn,
            conn.execution_options(sqlite_immediate=True).begin(),
        ):
            return call(conn)
    except MarketError as exc:
        _fail(str(exc))


@merchants.command("changes")
@click.option("--stall", default=None, help="Only this stall's changes.")
@click.option(
    "--state",
    type=click.Choice(["pending", "approved", "rejected", "superseded", "all"]),
    default="pending",
    show_default=True,
)
def changes_command(stall: str | None, state: str) -> None:
    """List changes of stalls' receiving accounts (pending ones by default), newest first."""
    try:
        with sync_engine(cli_settings()) as engine, engine.connect() as conn:
            page = account_changes.list_changes(conn, state=state, stall=stall, limit=account_changes.MAX_PAGE)
    except MarketError as exc:
        _fail(str(exc))
    if not page.items:
        click.echo("không có đề nghị nào / no account changes", err=True)
    for change in page.items:
        _print_change(change)


@merchants.command("approve")
@click.argument("change_id", metavar="CHANGE_ID", type=int)
def approve_command(change_id: int) -> None:
    """Approve a pending change of a stall's accounts (as a second person); it takes effect now."""
    actor = _cli_actor()
    change = _decide(lambda c: account_changes.approve(c, change_id, actor=actor))
    click.echo(
        f"đã duyệt đề nghị #{change.id}: sạp {change.stall} nhận tiền vào {_accounts_text(change.new_accounts)}; "
        f"cần in lại thẻ QR / approved; the stall's QR card needs a reprint"
    )


@merchants.command("reject")
@click.argument("change_id", metavar="CHANGE_ID", type=int)
@click.option("--reason", required=True, help="Why (kept with the change).")
def reject_command(change_id: int, reason: str) -> None:
    """Reject a pending change of a stall's accounts; the stall keeps its accounts."""
    actor = _cli_actor()
    change = _decide(lambda c: account_changes.reject(c, change_id, actor=actor, reason=reason))
    click.echo(f"đã từ chối đề nghị #{change.id} của sạp {change.stall} / rejected")


COMMANDS = [merchants]
