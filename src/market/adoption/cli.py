"""``market report ...``: adoption figures, the commune report, the visit list, survey entry.

Text formats (JSON, CSV) go to standard output unless ``--out``; XLSX and PDF need ``--out``,
or standard output that is not a terminal (``> file.pdf``, a pipe).
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import click
import msgspec
from sqlalchemy.engine import Connection

from market.adoption.commune import (
    PROFILE_FIELDS,
    SurveyIn,
    commune_report,
    delete_survey,
    list_surveys,
    load_profile,
    load_targets,
    parse_period,
    save_setting,
    save_survey,
)
from market.adoption.export.render import ADOPTION_FORMATS, COMMUNE_FORMATS, Format, Rendered, render
from market.adoption.metrics import MAX_WINDOW_DAYS, GroupBy, adoption, parse_as_of
from market.adoption.visits import visit_list
from market.cliutil import cli_settings
from market.config import Settings
from market.db import create_sync_engine_for
from market.errors import MarketError
from market.formats import date_vi, local_today, parse_date

__all__ = ["COMMANDS", "report"]


@contextmanager
def _connection(*, write: bool = False) -> Iterator[tuple[Settings, Connection]]:
    """A connection on the configured database; a user error becomes one line and exit status 2."""
    settings = cli_settings()
    engine = create_sync_engine_for(settings)
    try:
        with engine.connect() as conn:
            if write:
                conn = conn.execution_options(sqlite_immediate=True)
            try:
                yield settings, conn
            except MarketError as exc:
                raise click.UsageError(exc.detail) from None
            if write:
                conn.commit()
    finally:
        engine.dispose()


def _emit(rendered: Rendered, out: Path | None) -> None:
    if out is not None:
        out.write_bytes(rendered.content)
        click.echo(f"Đã ghi / written: {out} ({len(rendered.content)} bytes)", err=True)
        return
    if rendered.binary and sys.stdout.isatty():
        raise click.UsageError("tệp XLSX/PDF cần --out FILE / binary formats need --out FILE (or redirect stdout)")
    sys.stdout.buffer.write(rendered.content)
    sys.stdout.buffer.flush()


def _date(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise click.UsageError(f"{what}: ngày không hợp lệ {value!r} (YYYY-MM-DD hoặc dd/mm/yyyy)") from None


_OUT = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")


@click.group("report")
def report() -> None:
    """Báo cáo / reports: adoption figures, the commune report, the visit list."""


@report.command("adoption")
@click.option("--window", default=30, show_default=True, type=click.IntRange(1, MAX_WINDOW_DAYS), help="Days.")
@click.option("--by", type=click.Choice(["zone", "category"]), help="Split by zone or goods category.")
@click.option("--as-of", "as_of", help="Data cut-off day, YYYY-MM-DD or dd/mm/yyyy (default today).")
@click.option("--format", "fmt", default="json", show_default=True, type=click.Choice(ADOPTION_FORMATS))
@click.option("--trend/--no-trend", default=True, show_default=True, help="Include the 12-month trend (JSON).")
@_OUT
def adoption_command(window: int, by: str | None, as_of: str | None, fmt: str, trend: bool, out: Path | None) -> None:
    """Chỉ số sử dụng TTKDTM / adoption figures (numerator / denominator)."""
    with _connection() as (settings, conn):
        day = parse_as_of(as_of, settings.timezone)
        group = cast(GroupBy | None, by)
        figures = adoption(conn, as_of=day, window=window, by=group, timezone=settings.timezone, trend=trend)
    _emit(render(figures, cast(Format, fmt)), out)


@report.command("commune")
@click.option("--period", required=True, help="Reporting month, YYYY-MM.")
@click.option("--format", "fmt", required=True, type=click.Choice(COMMUNE_FORMATS))
@click.option("--issued-on", help="Date printed in the header (default today).")
@click.option("--set", "overrides", multiple=True, metavar="FIELD=VALUE", help="Letterhead field for this report.")
@_OUT
def commune_command(period: str, fmt: str, issued_on: str | None, overrides: tuple[str, ...], out: Path | None) -> None:
    """Báo cáo Xã hội số của xã / the commune's "Xã hội số" report."""
    fields = dict(item.partition("=")[::2] for item in overrides)
    with _connection() as (settings, conn):
        today = local_today(settings.timezone)
        result = commune_report(
            conn,
            parse_period(period, today),
            market_name=settings.market_name,
            issued_on=_date(issued_on, "--issued-on") or today,
            timezone=settings.timezone,
            profile_overrides=fields,
        )
    _emit(render(result, cast(Format, fmt)), out)


@report.command("visits")
@click.option("--format", "fmt", default="csv", show_default=True, type=click.Choice(["csv", "pdf"]))
@click.option("--as-of", "as_of", help="Day of the round (default today).")
@_OUT
def visits_command(fmt: str, as_of: str | None, out: Path | None) -> None:
    """Danh sách sạp cần thăm / stalls for the community digital team to visit, in walking order."""
    with _connection() as (settings, conn):
        visits = visit_list(conn, as_of=parse_as_of(as_of, settings.timezone), timezone=settings.timezone)
    _emit(render(visits, cast(Format, fmt), market_name=settings.market_name), out)


@report.group("survey")
def survey() -> None:
    """Chỉ tiêu từ khảo sát / survey indicators entered by hand."""


def _actor() -> str:
    try:
        return getpass.getuser() or "system"
    except (KeyError, OSError):
        return "system"


@survey.command("set")
@click.argument("key")
@click.option("--name", required=True, help="Indicator name, e.g. 'Tỷ lệ người dân dùng điện thoại thông minh'.")
@click.option("--numerator", required=True, type=click.IntRange(0), help="Tử số.")
@click.option("--denominator", required=True, type=click.IntRange(1), help="Mẫu số.")
@click.option("--date", "surveyed_on", required=True, help="Survey date, YYYY-MM-DD or dd/mm/yyyy.")
@click.option("--source", required=True, help="Who surveyed what, e.g. 'UBND xã, điều tra hộ 2024'.")
@click.option("--denominator-note", help="Who the denominator counts, e.g. 'người trong độ tuổi lao động'.")
@click.option("--target", type=click.FloatRange(0, 100), help="Target in percent.")
def survey_set(
    key: str,
    name: str,
    numerator: int,
    denominator: int,
    surveyed_on: str,
    source: str,
    denominator_note: str | None,
    target: float | None,
) -> None:
    """Nhập / sửa một chỉ tiêu khảo sát (KEY: a slug such as smartphone_business)."""
    day = _date(surveyed_on, "--date")
    assert day is not None  # required option
    entry = SurveyIn(
        key=key,
        name=name,
        numerator=numerator,
        denominator=denominator,
        surveyed_on=day,
        source=source,
        denominator_note=denominator_note,
        target_percent=target,
    )
    with _connection(write=True) as (settings, conn):
        stored = save_survey(conn, entry, _actor(), local_today(settings.timezone))
    click.echo(f"Đã lưu / saved: {stored.key} {stored.numerator}/{stored.denominator} ({date_vi(stored.surveyed_on)})")


@survey.command("list")
def survey_list() -> None:
    """Các chỉ tiêu khảo sát đã nhập (JSON) / stored survey results."""
    with _connection() as (_settings, conn):
        found = list_surveys(conn)
    click.echo(msgspec.json.format(msgspec.json.encode(found)).decode())


@survey.command("delete")
@click.argument("key")
@click.argument("surveyed_on")
def survey_delete(key: str, surveyed_on: str) -> None:
    """Xóa một kết quả nhập nhầm / delete one survey result."""
    day = _date(surveyed_on, "SURVEYED_ON")
    assert day is not None
    with _connection(write=True) as (_settings, conn):
        delete_survey(conn, key, day)
    click.echo(f"Đã xóa / deleted: {key} {date_vi(day)}")


@report.group("settings")
def settings_group() -> None:
    """Thiết lập báo cáo xã / commune report settings (letterhead, signatory, targets)."""


@settings_group.command("set")
@click.argument("key")
@click.argument("value")
def settings_set(key: str, value: str) -> None:
    """Đặt KEY = VALUE. Keys: letterhead fields, or target.<indicator> as 'PERCENT|căn cứ' ('' = no target)."""
    with _connection(write=True) as (_settings, conn):
        save_setting(conn, key, value)
    click.echo(f"Đã lưu / saved: {key}")


@settings_group.command("show")
def settings_show() -> None:
    """Thiết lập hiện hành (JSON) / the settings in force."""
    with _connection() as (_settings, conn):
        shown: dict[str, Any] = {"profile": load_profile(conn), "targets": load_targets(conn)}
    click.echo(msgspec.json.format(msgspec.json.encode(shown)).decode())
    click.echo(f"Letterhead fields: {', '.join(PROFILE_FIELDS)}", err=True)


COMMANDS: list[Callable[..., Any]] = [report]
