"""``market merchants import FILE.csv|FILE.xlsx [--dry-run]`` and ``market merchants export [--out FILE]``.

The file's extension chooses the format: ``.xlsx`` is an Excel workbook, anything else is CSV (the default
and the contract).
"""

from __future__ import annotations

import io
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

import click

from market.cliutil import cli_actor, cli_settings, sync_engine
from market.merchants.csvio import write_csv
from market.merchants.importer import ImportReport, import_csv
from market.merchants.service import all_stalls
from market.merchants.xlsxio import write_xlsx

__all__ = ["COMMANDS", "merchants"]

# Below this many rows the import is over before a bar would be drawn.
_PROGRESS_FROM_ROWS = 1000


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
    verb = "Sẽ" if dry_run else "Đã"
    click.echo(
        f"{verb} thêm {report.created}, cập nhật {report.updated}, giữ nguyên {report.unchanged} sạp "
        f"/ {'would create' if dry_run else 'created'} {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}" + (" (dry run: nothing written)" if dry_run else "")
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


COMMANDS = [merchants]
