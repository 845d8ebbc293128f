"""Signing in: by username and password (throttled, audited), or by a stall's link.

Both start a new session and drop the one the browser came with (no session fixation). A wrong
password, an unknown username and a disabled user look the same from outside, and take the same
time: an unknown or disabled user's password is checked against a dummy hash.
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import StrEnum

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.access import audit, throttle
from market.access.audit import AuditAction
from market.access.links import find_active_link
from market.access.passwords import hash_password, needs_rehash, verify_against_dummy, verify_password
from market.access.roles import AuthMethod, Principal, staff_principal
from market.access.sessions import SessionPolicy, resolve_session, start_link_session, start_user_session
from market.access.tables import users_table

__all__ = ["ANONYMOUS", "Outcome", "SignInResult", "sign_in", "sign_in_by_link"]

log = logging.getLogger("market.access")
_MAX_TYPED = 64  # of a typed username, as logged
# Who a failed attempt is recorded as: whoever typed the name has not shown they are that user.
ANONYMOUS = "anonymous"


class Outcome(StrEnum):
    """How a password sign-in ended."""

    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # wrong password, unknown or disabled user: the same answer for all three
    REFUSED = "refused"  # too many failures: not even checked


class SignInResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome; on success the principal and the new session's cookie value.

    ``delay`` is how long the answer should be held (seconds); ``retry_after`` when refused.
    """

    outcome: Outcome
    principal: Principal | None = None
    cookie: str | None = None
    delay: float = 0.0
    retry_after: float = 0.0


def _check_password(conn: Connection, username: str, password: str) -> sa.Row[tuple[object, ...]] | None:
    """The user row when ``password`` is theirs and they are enabled; else ``None``, in the same time."""
    folded = username.strip().casefold()
    row = conn.execute(sa.select(users_table).where(users_table.c.username == folded)).first()
    if row is None or row.disabled:
        verify_against_dummy(password)
        return None
    return row if verify_password(row.password_hash, password) else None


def sign_in(
    conn: Connection,
    username: str,
    password: str,
    *,
    address: str,
    policy: SessionPolicy,
    now: dt.datetime,
    replacing: str | None = None,
) -> SignInResult:
    """Check the password (unless throttled) and, if right, start a session (in the caller's transaction)."""
    typed = username.strip()[:_MAX_TYPED]
    verdict = throttle.check(conn, username=typed, address=address, now=now)
    if verdict.refused:
        audit.record(
            conn, AuditAction.SIGN_IN_REFUSED, actor=ANONYMOUS, subject=typed, detail={"address": address}, now=now
        )
        log.warning("sign-in refused for %r from %s: too many failures", typed, address)
        return SignInResult(outcome=Outcome.REFUSED, retry_after=verdict.retry_after)
    row = _check_password(conn, typed, password)
    if row is None:
        after = throttle.record_failure(conn, username=typed, address=address, now=now)
        audit.record(
            conn, AuditAction.SIGN_IN_FAILED, actor=ANONYMOUS, subject=typed, detail={"address": address}, now=now
        )
        log.warning("sign-in failed for %r from %s", typed, address)
        return SignInResult(outcome=Outcome.WRONG, delay=after.delay)
    throttle.record_success(conn, username=typed)
    if needs_rehash(row.password_hash):
        conn.execute(
            users_table.update().where(users_table.c.id == row.id).values(password_hash=hash_password(password))
        )
    cookie = start_user_session(conn, row.id, policy, now=now, replacing=replacing)
    audit.record(
        conn, AuditAction.SIGN_IN, actor=row.username, subject=row.username, detail={"address": address}, now=now
    )
    principal = staff_principal(
        user_id=row.id, username=row.username, full_name=row.full_name, role=row.role, via=AuthMethod.PASSWORD
    )
    return SignInResult(outcome=Outcome.SIGNED_IN, principal=principal, cookie=cookie)


def sign_in_by_link(
    conn: Connection,
    token: str,
    *,
    address: str,
    policy: SessionPolicy,
    now: dt.datetime,
    replacing: str | None = None,
) -> tuple[Principal, str] | None:
    """Sign a phone in to the stall of the live link ``token``: its principal and cookie, or ``None``."""
    link_id = find_active_link(conn, token)
    if link_id is None:
        return None
    cookie = start_link_session(conn, link_id, policy, now=now, replacing=replacing)
    principal = resolve_session(conn, cookie, policy, now=now)
    if principal is None:  # the link's stall vanished between the two statements
        return None
    audit.record(
        conn,
        AuditAction.LINK_SIGN_IN,
        actor=principal.actor,
        subject=principal.actor,
        detail={"link": link_id, "address": address},
        now=now,
    )
    return principal, cookie
