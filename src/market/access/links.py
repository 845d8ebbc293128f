"""A stall holder's sign-in link: ``/s/{token}`` signs the phone that opens it in to that one stall.

Holders have no passwords; the market office prints the link as a QR for the holder to scan.
A stall may have several live links (one per phone or family member); revoking revokes all of
the stall's links and signs out every phone they signed in.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.access import audit
from market.access.audit import AuditAction
from market.access.secret_values import digest, new_secret
from market.access.tables import links_table, sessions_table, stalls_table
from market.db import utcnow
from market.errors import NotFoundError
from market.merchants.stall_codes import normalize_stall_code

__all__ = ["LinkInfo", "create_link", "find_active_link", "link_path", "list_links", "revoke_links"]


class LinkInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A link as listed: never its token."""

    id: int
    stall_code: str
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None


def link_path(token: str) -> str:
    """The path a link's token opens."""
    return f"/s/{token}"


def _stall(conn: Connection, code: str) -> tuple[int, str]:
    try:
        canonical = normalize_stall_code(code)
    except ValueError:
        canonical = None
    row = conn.execute(
        sa.select(stalls_table.c.id, stalls_table.c.code).where(stalls_table.c.code == canonical)
    ).first()
    if row is None:
        raise NotFoundError(f"Không có sạp {code!r} trong sổ / no stall {code!r} in the registry")
    return row.id, row.code


def create_link(
    conn: Connection, stall_code: str, *, actor: str, now: dt.datetime | None = None
) -> tuple[LinkInfo, str]:
    """A new link for the stall: its listing and the token (to show once; only its digest is kept).

    Raises:
        NotFoundError: no such stall.
    """
    stall_id, code = _stall(conn, stall_code)
    at = now or utcnow()
    token = new_secret()
    link_id = conn.execute(
        links_table.insert()
        .values(token_hash=digest(token), stall_id=stall_id, created_at=at, created_by=actor[:64])
        .returning(links_table.c.id)
    ).scalar_one()
    audit.record(conn, AuditAction.LINK_CREATED, actor=actor, subject=f"stall:{code}", detail={"link": link_id}, now=at)
    return LinkInfo(id=link_id, stall_code=code, created_at=at, created_by=actor[:64], revoked_at=None), token


def revoke_links(conn: Connection, stall_code: str, *, actor: str, now: dt.datetime | None = None) -> int:
    """Revoke every live link of the stall and end the sessions they started; how many links.

    Raises:
        NotFoundError: no such stall.
    """
    stall_id, code = _stall(conn, stall_code)
    at = now or utcnow()
    live = sa.and_(links_table.c.stall_id == stall_id, links_table.c.revoked_at.is_(None))
    ids = list(conn.execute(sa.select(links_table.c.id).where(live)).scalars())
    if not ids:
        return 0
    conn.execute(links_table.update().where(links_table.c.id.in_(ids)).values(revoked_at=at))
    ended = conn.execute(sessions_table.delete().where(sessions_table.c.stall_link_id.in_(ids))).rowcount
    audit.record(
        conn,
        AuditAction.LINK_REVOKED,
        actor=actor,
        subject=f"stall:{code}",
        detail={"links": ids, "sessions_ended": ended},
        now=at,
    )
    return len(ids)


def find_active_link(conn: Connection, token: str) -> int | None:
    """The id of the live link ``token`` opens, or ``None`` (unknown or revoked).

    Looked up by digest: the time the index takes depends on the digest, which tells a guesser nothing.
    """
    if not token:
        return None
    row = conn.execute(
        sa.select(links_table.c.id).where(links_table.c.token_hash == digest(token), links_table.c.revoked_at.is_(None))
    ).first()
    return None if row is None else int(row.id)


def list_links(conn: Connection, stall_code: str | None = None) -> list[LinkInfo]:
    """Links, newest first, of one stall or of all."""
    query = (
        sa.select(links_table, stalls_table.c.code)
        .join(stalls_table, stalls_table.c.id == links_table.c.stall_id)
        .order_by(links_table.c.id.desc())
    )
    if stall_code is not None:
        query = query.where(links_table.c.stall_id == _stall(conn, stall_code)[0])
    return [
        LinkInfo(id=r.id, stall_code=r.code, created_at=r.created_at, created_by=r.created_by, revoked_at=r.revoked_at)
        for r in conn.execute(query)
    ]
