"""Credentials for tests that call the app: staff users with an API token, signed-in sessions.

Not a test module. Users are made with cheap Argon2 parameters (hashing at the real ones costs
tens of milliseconds a user); a hash records its parameters, so the app verifies it all the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from market.access import passwords
from market.access.links import create_link, link_path
from market.access.sessions import SessionPolicy, start_user_session
from market.access.tokens import create_token
from market.access.users import add_user
from market.config import Settings
from market.db import create_sync_engine_for, utcnow

__all__ = ["PASSWORD", "add_staff", "bearer", "cheap_hashes", "holder_link", "staff_session", "token_for"]

PASSWORD = "mat-khau-thu-nghiem"
_CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@contextmanager
def cheap_hashes() -> Iterator[None]:
    """Hash passwords with cheap parameters while inside."""
    kept = passwords._HASHER
    passwords._HASHER = _CHEAP
    try:
        yield
    finally:
        passwords._HASHER = kept


@contextmanager
def _engine(where: Engine | Settings) -> Iterator[Engine]:
    if isinstance(where, Engine):
        yield where
        return
    engine = create_sync_engine_for(where)
    try:
        yield engine
    finally:
        engine.dispose()


def add_staff(where: Engine | Settings, username: str, role: str = "admin", password: str = PASSWORD) -> None:
    """A staff user (nothing when ``username`` exists already)."""
    with _engine(where) as engine, engine.begin() as conn:
        if conn.execute(sa.text("SELECT 1 FROM users WHERE username = :u"), {"u": username}).first():
            return
        with cheap_hashes():
            add_user(conn, username, role=role, password=password, actor="test")


def token_for(where: Engine | Settings, username: str = "admin", role: str = "admin") -> str:
    """An API token of ``username`` (made a ``role`` user first if needed)."""
    add_staff(where, username, role)
    with _engine(where) as engine, engine.begin() as conn:
        return create_token(conn, username, name="test", actor="test")[1]


def bearer(where: Engine | Settings, username: str = "admin", role: str = "admin") -> dict[str, str]:
    """The ``Authorization`` header of a fresh token of ``username``."""
    return {"Authorization": f"Bearer {token_for(where, username, role)}"}


def holder_link(where: Engine | Settings, stall_code: str) -> str:
    """A sign-in link path (``/s/...``) for the holder of ``stall_code``."""
    with _engine(where) as engine, engine.begin() as conn:
        return link_path(create_link(conn, stall_code, actor="test")[1])


def staff_session(where: Engine | Settings, username: str = "office", role: str = "office") -> str:
    """The session cookie value of ``username`` signed in (made a ``role`` user first if needed)."""
    add_staff(where, username, role)
    policy = SessionPolicy(idle=dt.timedelta(hours=1), max_age=dt.timedelta(days=1), link_age=dt.timedelta(days=1))
    with _engine(where) as engine, engine.begin() as conn:
        user_id = conn.execute(sa.text("SELECT id FROM users WHERE username = :u"), {"u": username}).scalar_one()
        return start_user_session(conn, user_id, policy, now=utcnow())
