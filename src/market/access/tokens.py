"""API tokens for scripts and integrations: ``Authorization: Bearer mkt_…``, acting as their user.

The token is shown once, when made; the table keeps its digest and a short prefix by which an
admin recognises it in a list. A revoked token, or one whose user is disabled, opens nothing.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.access import audit
from market.access.audit import AuditAction
from market.access.roles import AuthMethod, Principal, staff_principal
from market.access.secret_values import digest, new_secret
from market.access.tables import tokens_table, users_table
from market.access.users import find_user
from market.db import utcnow
from market.errors import NotFoundError

__all__ = ["TOKEN_PREFIX", "TokenInfo", "create_token", "list_tokens", "resolve_token", "revoke_token"]

# Marks our tokens, so that one pasted somewhere it should not be is recognisable (and scannable).
TOKEN_PREFIX = "mkt_"  # noqa: S105 - a name, not a secret
_SHOWN_CHARS = 8  # of the random part, in lists
_TOUCH_EVERY = dt.timedelta(minutes=1)


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A token as listed: its prefix, never the token."""

    id: int
    prefix: str
    name: str
    username: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def create_token(
    conn: Connection, username: str, *, name: str = "", actor: str, now: dt.datetime | None = None
) -> tuple[TokenInfo, str]:
    """A new token acting as ``username``: its listing and the token itself (to show once).

    Raises:
        NotFoundError: no such user.
    """
    user = find_user(conn, username)
    at = now or utcnow()
    token = TOKEN_PREFIX + new_secret()
    prefix = token[: len(TOKEN_PREFIX) + _SHOWN_CHARS]
    label = name.strip()[:80] or "api"
    token_id = conn.execute(
        tokens_table.insert()
        .values(token_hash=digest(token), prefix=prefix, name=label, user_id=user.id, created_at=at)
        .returning(tokens_table.c.id)
    ).scalar_one()
    audit.record(
        conn,
        AuditAction.TOKEN_CREATED,
        actor=actor,
        subject=user.username,
        detail={"id": token_id, "name": label, "prefix": prefix},
        now=at,
    )
    info = TokenInfo(
        id=token_id,
        prefix=prefix,
        name=label,
        username=user.username,
        created_at=at,
        last_used_at=None,
        revoked_at=None,
    )
    return info, token


def list_tokens(conn: Connection) -> list[TokenInfo]:
    """Every token, newest first."""
    query = (
        sa.select(tokens_table, users_table.c.username)
        .join(users_table, users_table.c.id == tokens_table.c.user_id)
        .order_by(tokens_table.c.id.desc())
    )
    return [
        TokenInfo(
            id=r.id,
            prefix=r.prefix,
            name=r.name,
            username=r.username,
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            revoked_at=r.revoked_at,
        )
        for r in conn.execute(query)
    ]


def revoke_token(conn: Connection, token_id: int, *, actor: str, now: dt.datetime | None = None) -> bool:
    """Revoke the token ``token_id``; ``False`` if it was already revoked.

    Raises:
        NotFoundError: no such token.
    """
    row = conn.execute(
        sa.select(tokens_table.c.revoked_at, tokens_table.c.prefix, users_table.c.username)
        .join(users_table, users_table.c.id == tokens_table.c.user_id)
        .where(tokens_table.c.id == token_id)
    ).first()
    if row is None:
        raise NotFoundError(f"không có token {token_id} / no token {token_id}")
    if row.revoked_at is not None:
        return False
    at = now or utcnow()
    conn.execute(tokens_table.update().where(tokens_table.c.id == token_id).values(revoked_at=at))
    audit.record(
        conn,
        AuditAction.TOKEN_REVOKED,
        actor=actor,
        subject=row.username,
        detail={"id": token_id, "prefix": row.prefix},
        now=at,
    )
    return True


def resolve_token(conn: Connection, token: str, *, now: dt.datetime) -> Principal | None:
    """Who a bearer token acts as, or ``None`` (unknown, revoked, or its user disabled).

    Looked up by digest, so the lookup's timing depends on the digest only and tells a guesser nothing.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = conn.execute(
        sa.select(
            tokens_table.c.id.label("token_id"),
            tokens_table.c.last_used_at,
            users_table.c.id.label("user_id"),
            users_table.c.username,
            users_table.c.full_name,
            users_table.c.role,
            users_table.c.disabled,
        )
        .join(users_table, users_table.c.id == tokens_table.c.user_id)
        .where(tokens_table.c.token_hash == digest(token), tokens_table.c.revoked_at.is_(None))
    ).first()
    if row is None or row.disabled:
        return None
    if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
        conn.execute(tokens_table.update().where(tokens_table.c.id == row.token_id).values(last_used_at=now))
    return staff_principal(
        user_id=row.user_id,
        username=row.username,
        full_name=row.full_name,
        role=row.role,
        via=AuthMethod.TOKEN,
    )
