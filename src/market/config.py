"""Typed, frozen settings read from ``MARKET_*`` environment variables.

One ``Settings`` object is built at start and passed explicitly (to ``create_app``, to CLI
commands), so tests never need to patch the environment. A bad value stops the program
with one message that names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec

__all__ = ["ENV_PREFIX", "Settings", "SettingsError", "load_settings"]

ENV_PREFIX = "MARKET_"

_Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
_Positive = Annotated[int, msgspec.Meta(ge=1)]


class SettingsError(ValueError):
    """A ``MARKET_*`` variable has a value the program cannot run with."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything the program can be configured with; field ``x`` is the variable ``MARKET_X``."""

    # Database: the embedded SQLite file by default; ``postgresql://user@host/db`` for PostgreSQL.
    database_url: str = "sqlite:///./market.db"
    # WAL + NORMAL survives a process crash (the journal is fsynced at checkpoints); FULL also
    # survives a power cut at a cost per commit.
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    db_pool_size: _Positive = 5
    host: str = "127.0.0.1"
    port: _Port = 8000
    # Signing key for sessions and signed links.
    secret_key: str = "dev-only-change-me"  # noqa: S105 - the demo default; production sets MARKET_SECRET_KEY
    # Largest request body we read, in bytes; webhooks have their own, smaller limit.
    max_body_bytes: _Positive = 2 * 1024 * 1024
    webhook_max_body_bytes: _Positive = 64 * 1024
    market_name: str = "Chợ Thoại Giang"
    timezone: str = "Asia/Ho_Chi_Minh"
    # Provider secrets; an empty value means the provider is not configured and its endpoint refuses all.
    payos_checksum_key: str = ""
    sepay_webhook_secret: str = ""
    sepay_api_key: str = ""
    casso_secret: str = ""
    vietqr_username: str = ""
    vietqr_password: str = ""
    generic_webhook_secret: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Staff sign-in sessions end after this long without a request, and in any case after max days.
    session_idle_minutes: _Positive = 60
    session_max_days: _Positive = 7
    # A stall holder's phone, signed in by the stall's link, stays signed in this long (or until revoked).
    stall_link_days: _Positive = 180
    # Where the server is reached from outside (e.g. https://cho.example.vn), for the links we print;
    # empty: http://HOST:PORT.
    public_url: str = ""
    # Send the session cookie only over HTTPS. Also on when public_url starts with https://.
    cookie_secure: bool = False
    # Host names the server answers (comma-separated; "*" for any). Always allowed besides these:
    # 127.0.0.1, localhost, ::1 and the host of public_url.
    allowed_hosts: str = ""
    # Match the journal inside the server. Off for a web worker that should only ingest, when
    # another process runs ``market reconcile run`` (and in tests of the ingest layer alone).
    run_matcher: bool = True
    # A change to a stall's receiving accounts waits for a second staff member's approval; "off" only
    # for a market with one office user, where there is no second person (the history says so).
    account_change_approval: Literal["on", "off"] = "on"

    @property
    def is_sqlite(self) -> bool:
        """Whether the configured database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def account_changes_need_approval(self) -> bool:
        """Whether a change to a stall's receiving accounts waits for a second person."""
        return self.account_change_approval == "on"

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry ``Secure``: set explicitly, or implied by an https public URL."""
        return self.cookie_secure or self.public_url.lower().startswith("https://")

    @property
    def host_names(self) -> list[str]:
        """The Host header values the server answers, ``allowed_hosts`` first."""
        names = [part.strip() for part in self.allowed_hosts.split(",") if part.strip()]
        public_host = urlsplit(self.public_url).hostname if self.public_url else None
        for default in ("127.0.0.1", "localhost", "[::1]", "::1", self.host, public_host):
            if default and default not in names:
                names.append(default)
        return names


_FIELDS = frozenset(Settings.__struct_fields__)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build ``Settings`` from ``MARKET_*`` variables (``os.environ`` by default), then ``overrides``.

    Raises:
        SettingsError: an unknown ``MARKET_*`` variable or a value of the wrong type; the
            message names the variable, e.g. ``MARKET_PORT: Expected `int` >= 1, got `0```.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key.removeprefix(ENV_PREFIX).lower()
        if name not in _FIELDS:
            # Test-harness variables share the prefix but are not settings.
            if name.startswith("test_"):
                continue
            raise SettingsError(f"{key}: unknown setting (known: {', '.join(sorted(_FIELDS))})")
        raw[name] = value
    raw.update(overrides)
    try:
        # strict=False lets "8000" become 8000, as environment values are always strings.
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_name_variable(str(exc))) from None


def _name_variable(message: str) -> str:
    """Turn msgspec's ``... - at `$.port` `` into ``MARKET_PORT: ...``."""
    text, sep, path = message.rpartition(" - at `$.")
    if not sep:
        return message
    return f"{ENV_PREFIX}{path.rstrip('`').upper()}: {text}"
