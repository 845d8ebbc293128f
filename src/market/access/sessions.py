"""Server-side sign-in sessions, stored in the database so that every worker sees them.

The browser holds a random value in its cookie; the table holds only its digest. A session ends
at the first of two times: its absolute expiry (fixed at sign-in) and its idle expiry (moved
forward by each request). Signing in always starts a new session and deletes the one the browser
came with, so an id planted before sign-in (session fixation) is worth nothing after it.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.access.roles import AuthMethod, Principal, holder_principal, staff_principal
from market.access.secret_values import digest, new_secret
from market.access.tables import links_table, merchants_table, sessions_table, stalls_table, users_table
from market.config import Settings

__all__ = [
    "SessionPolicy",
    "end_session",
    "purge_expired",
    "resolve_session",
    "start_link_session",
    "start_user_session",
]

# Writing last-seen on every request would make each page a write; a minute's precision is enough.
_TOUCH_EVERY = dt.timedelta(minutes=1)


class SessionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How long sessions last: staff ``idle`` and ``max_age``; a holder's phone ``link_age`` (no idle end)."""

    idle: dt.timedelta
    max_age: dt.timedelta
    link_age: dt.timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        """The policy ``MARKET_SESSION_IDLE_MINUTES``, ``MARKET_SESSION_MAX_DAYS``, ``MARKET_STALL_LINK_DAYS`` set."""
        return cls(
            idle=dt.timedelta(minutes=settings.session_idle_minutes),
            max_age=dt.timedelta(days=settings.session_max_days),
            link_age=dt.timedelta(days=settings.stall_link_days),
        )


def _start(conn: Connection, values: dict[str, object], *, replacing: str | None) -> str:
    if replacing:
        end_session(conn, replacing)
    cookie = new_secret()
    conn.execute(sessions_table.insert().values(id=digest(cookie), **values))
    return cookie


def start_user_session(
    conn: Connection, user_id: int, policy: SessionPolicy, *, now: dt.datetime, replacing: str | None = None
) -> str:
    """A new session for a staff user who just signed in; returns the cookie value (shown once).

    ``replacing`` is the cookie the browser came with, if any: that session is deleted.
    """
    values: dict[str, object] = {
        "user_id": user_id,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": now + policy.max_age,
        "idle_expires_at": min(now + policy.idle, now + policy.max_age),
    }
    return _start(conn, values, replacing=replacing)


def start_link_session(
    conn: Connection, link_id: int, policy: SessionPolicy, *, now: dt.datetime, replacing: str | None = None
) -> str:
    """A new session for a phone that opened a stall's link; returns the cookie value."""
    end = now + policy.link_age
    values: dict[str, object] = {
        "stall_link_id": link_id,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": end,
        "idle_expires_at": end,
    }
    return _start(conn, values, replacing=replacing)


def _lookup(conn: Connection, session_id: str) -> sa.Row[tuple[object, ...]] | None:
    query = (
        sa.select(
            sessions_table,
            users_table.c.username,
            users_table.c.full_name,
            users_table.c.role,
            users_table.c.disabled,
            links_table.c.stall_id,
            links_table.c.revoked_at,
            stalls_table.c.code.label("stall_code"),
            merchants_table.c.full_name.label("holder_name"),
        )
        .select_from(
            sessions_table.outerjoin(users_table, users_table.c.id == sessions_table.c.user_id)
            .outerjoin(links_table, links_table.c.id == sessions_table.c.stall_link_id)
            .outerjoin(stalls_table, stalls_table.c.id == links_table.c.stall_id)
            .outerjoin(merchants_table, merchants_table.c.stall_id == links_table.c.stall_id)
        )
        .where(sessions_table.c.id == session_id)
    )
    return conn.execute(query).first()


def _principal(row: sa.Row[tuple[object, ...]]) -> Principal | None:
    m = row._mapping
    if m["user_id"] is not None:
        if m["disabled"]:
            return None
        return staff_principal(
            user_id=m["user_id"],
            username=m["username"],
            full_name=m["full_name"],
            role=m["role"],
            via=AuthMethod.PASSWORD,
        )
    if m["revoked_at"] is not None:
        return None
    return holder_principal(stall_id=m["stall_id"], stall_code=m["stall_code"], holder_name=m["holder_name"])


def resolve_session(conn: Connection, cookie: str, policy: SessionPolicy, *, now: dt.datetime) -> Principal | None:
    """Who holds the session ``cookie``, or ``None`` when it is unknown, expired, or its user or link is gone.

    An expired session is deleted; a live one has its idle expiry moved forward.
    """
    if not cookie:
        return None
    session_id = digest(cookie)
    row = _lookup(conn, session_id)
    if row is None:
        return None
    if now >= row.expires_at or now >= row.idle_expires_at:
        conn.execute(sessions_table.delete().where(sessions_table.c.id == session_id))
        return None
    principal = _principal(row)
    if principal is None:
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        idle = policy.idle if row.user_id is not None else policy.link_age
        conn.execute(
            sessions_table.update()
            .where(sessions_table.c.id == session_id)
            .values(last_seen_at=now, idle_expires_at=min(now + idle, row.expires_at))
        )
    return principal


def end_session(conn: Connection, cookie: str) -> bool:
    """Sign out: delete the session ``cookie`` names; whether there was one."""
    result = conn.execute(sessions_table.delete().where(sessions_table.c.id == digest(cookie)))
    return bool(result.rowcount)


def purge_expired(conn: Connection, *, now: dt.datetime) -> int:
    """Delete every session past either expiry; how many."""
    result = conn.execute(
        sessions_table.delete().where(
            sa.or_(sessions_table.c.expires_at <= now, sessions_table.c.idle_expires_at <= now)
        )
    )
    return int(result.rowcount)
