"""Plumbing the packages' command lines share: settings, who acts, and the database engine.

A shared module like config and db: below every package, it imports none of them (the layering
rule, tests/foundation/test_layering.py). Errors users can fix become one readable line, not a traceback.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa

from market.config import Settings, SettingsError, load_settings
from market.db import create_sync_engine_for

__all__ = ["cli_actor", "cli_settings", "sync_engine"]

_MAX_ACTOR = 64


def cli_settings(**overrides: object) -> Settings:
    """The settings from ``MARKET_*`` variables (then ``overrides``); a bad one is a usage error (exit 2)."""
    try:
        return load_settings(None, **overrides)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


def cli_actor(user: str | None) -> str:
    """Who makes a change, for the history: ``--user`` if given, else the login name, else "system"."""
    if user and user.strip():
        return user.strip()[:_MAX_ACTOR]
    try:
        return getpass.getuser()[:_MAX_ACTOR] or "system"
    except (KeyError, OSError):  # no login name (e.g. a container without a passwd entry)
        return "system"


@contextmanager
def sync_engine(settings: Settings) -> Iterator[sa.Engine]:
    """The database engine, disposed of at the end.

    Raises:
        click.ClickException: one readable line when the database is down or not migrated.
    """
    engine = create_sync_engine_for(settings)
    try:
        yield engine
    except sa.exc.DBAPIError as exc:
        raise click.ClickException(
            f"lỗi cơ sở dữ liệu / database error: {exc.orig} (đã chạy `market db upgrade`? / run `market db upgrade`?)"
        ) from None
    finally:
        engine.dispose()
