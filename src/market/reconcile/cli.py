"""``market`` commands of the reconcile package (``COMMANDS`` is collected by ``market.cli``).

``market reconcile run`` matches
everything pending in the journal (``replay`` rebuilds the ledger from the whole journal);
``market reconcile statement FILE.csv`` compares a bank statement with the journal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import msgspec

from market.cliutil import cli_settings
from market.db import DatabaseURLError, create_sync_engine_for
from market.errors import InvalidInputError
from market.formats import date_vi, integer
from market.reconcile.ledger.driver import Driver, RunReport
from market.reconcile.ledger.statements import CATEGORIES, FORMATS, StatementReport, import_statement, write_items_csv

__all__ = ["COMMANDS"]


def _echo_run(report: RunReport, as_json: bool) -> None:
    if as_json:
        click.echo(msgspec.json.encode(report).decode())
        return
    if report.locked_out:
        click.echo("một tiến trình khác đang đối soát / another matcher holds the lock and is matching the journal")
        return
    click.echo(
        f"đã đối soát / matched: {report.notifications} thông báo / notifications in {report.batches} batches, "
        f"{report.resolutions} quyết định thủ công / manual decisions"
    )
    for outcome, count in sorted(report.outcomes.items()):
        click.echo(f"  {outcome}: {count}")
    click.echo(f"checkpoint: journal id {report.last_journal_id}")


@contextmanager
def _driver(batch_size: int) -> Iterator[Driver]:
    settings = cli_settings()
    try:
        engine = create_sync_engine_for(settings)
    except DatabaseURLError as exc:
        raise click.UsageError(str(exc)) from None
    driver = Driver(engine, batch_size=batch_size, timezone=settings.timezone)
    try:
        yield driver
    finally:
        driver.close()
        engine.dispose()


_BATCH = click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Notifications per transaction.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")


@click.group("reconcile")
def reconcile_group() -> None:
    """Đối soát: match the journal to stalls and intents, import bank statements."""


@reconcile_group.command("run")
@_BATCH
@_JSON
def run(batch_size: int, as_json: bool) -> None:
    """Match everything pending in the journal and apply pending manual decisions."""
    with _driver(batch_size) as driver:
        report = driver.run()
    _echo_run(report, as_json)


@reconcile_group.command("replay")
@_BATCH
@_JSON
def replay(batch_size: int, as_json: bool) -> None:
    """Rebuild the ledger by matching the whole journal again (manual decisions are kept)."""
    with _driver(batch_size) as driver:
        report = driver.replay()
    _echo_run(report, as_json)


def _echo_summary(report: StatementReport, err: bool) -> None:
    first, last = date_vi(report.first_day), date_vi(report.last_day)
    click.echo(f"sao kê tài khoản / statement of account {report.account}, {first} – {last}", err=err)
    labels = {
        "matched": "khớp / on both sides",
        "missing_notification": "thiếu thông báo, đã thêm và đối soát / never notified, added and matched",
        "not_on_statement": "không có trong sao kê / notified but not on the statement",
        "expired_unpaid": "đơn hết hạn chưa trả đủ / intents expired unpaid",
    }
    counts = report.counts()
    for category in CATEGORIES:
        count, value = counts[category]
        click.echo(f"  {labels[category]}: {count} ({integer(value)} đ)", err=err)


@reconcile_group.command("statement")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(sorted(FORMATS)), default="generic", show_default=True, help="Export layout."
)
@click.option("--account", default=None, help="The receiving account (default: read from the statement's header).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the items CSV here.")
def statement(file: Path, fmt: str, account: str | None, out: Path | None) -> None:
    """Import a bank statement and report, item by item, what is missing on either side.

    The items CSV goes to --out (or standard output, the summary then to standard error).
    """
    settings = cli_settings()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.UsageError(f"{file}: not UTF-8 text; export the statement as CSV (UTF-8)") from None
    engine = create_sync_engine_for(settings)
    try:
        report = import_statement(
            engine, text, FORMATS[fmt], account=account, source=file.name, timezone=settings.timezone
        )
    except InvalidInputError as exc:
        raise click.UsageError("; ".join(f"{e.field}: {e.message}" for e in exc.errors)) from None
    finally:
        engine.dispose()
    if out is None:
        write_items_csv(report, sys.stdout)
        _echo_summary(report, err=True)
        return
    with out.open("w", encoding="utf-8", newline="") as handle:
        write_items_csv(report, handle)
    _echo_summary(report, err=False)
    click.echo(f"chi tiết / items: {out}")


COMMANDS = [reconcile_group]
