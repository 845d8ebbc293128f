"""Slowing down password guessing: failed sign-ins counted per username and per address.

After ``delay_after`` failures in a row (within ``window``) each answer is delayed, twice as long
each time up to ``max_delay``; after ``refuse_after`` the attempt is refused without checking
the password until ``refuse_for`` has passed since the last failure. A success clears the
username's count (not the address's: one right password must not wipe out guesses at others).

``judge`` is the policy, pure; the counts live in the database so that every worker agrees.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from market.access.tables import throttle_table
from market.db import UTCDateTime

__all__ = [
    "ADDRESS_POLICY",
    "USERNAME_POLICY",
    "ThrottlePolicy",
    "Verdict",
    "address_key",
    "check",
    "judge",
    "purge",
    "record_failure",
    "record_success",
    "username_key",
]

_MAX_KEY = 120


class ThrottlePolicy(msgspec.Struct, frozen=True, kw_only=True):
    """When to slow down and when to refuse, for one kind of key."""

    delay_after: int
    refuse_after: int
    window: dt.timedelta = dt.timedelta(minutes=15)
    refuse_for: dt.timedelta = dt.timedelta(minutes=15)
    first_delay: float = 1.0
    max_delay: float = 8.0


# A person mistypes a few times; a script guesses hundreds. The office shares one address, so its limit is looser.
USERNAME_POLICY = ThrottlePolicy(delay_after=5, refuse_after=10)
ADDRESS_POLICY = ThrottlePolicy(delay_after=20, refuse_after=50)


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """What to do with an attempt: refuse it (retry after so many seconds), or answer after ``delay`` seconds."""

    refused: bool = False
    delay: float = 0.0
    retry_after: float = 0.0

    def worse(self, other: Verdict) -> Verdict:
        """The stricter of two verdicts (username and address are judged separately)."""
        return Verdict(
            refused=self.refused or other.refused,
            delay=max(self.delay, other.delay),
            retry_after=max(self.retry_after, other.retry_after),
        )


def judge(failures: int, last_failed_at: dt.datetime | None, now: dt.datetime, policy: ThrottlePolicy) -> Verdict:
    """The verdict for the next attempt after ``failures`` failures, the last at ``last_failed_at``."""
    if failures <= 0 or last_failed_at is None or now - last_failed_at >= policy.window:
        return Verdict()
    if failures >= policy.refuse_after:
        until = last_failed_at + policy.refuse_for
        if now < until:
            return Verdict(refused=True, retry_after=(until - now).total_seconds())
    if failures >= policy.delay_after:
        delay = min(policy.first_delay * 2 ** (failures - policy.delay_after), policy.max_delay)
        return Verdict(delay=delay)
    return Verdict()


def username_key(username: str) -> str:
    """The throttle key of a username as typed (case-folded, so "Lan" and "lan" count together)."""
    return f"user:{username.strip().casefold()}"[:_MAX_KEY]


def address_key(address: str) -> str:
    """The throttle key of a client address."""
    return f"addr:{address}"[:_MAX_KEY]


def _judge_key(conn: Connection, key: str, now: dt.datetime, policy: ThrottlePolicy) -> Verdict:
    row = conn.execute(
        sa.select(throttle_table.c.failures, throttle_table.c.last_failed_at).where(throttle_table.c.key == key)
    ).first()
    return Verdict() if row is None else judge(row.failures, row.last_failed_at, now, policy)


def check(
    conn: Connection,
    *,
    username: str,
    address: str,
    now: dt.datetime,
    username_policy: ThrottlePolicy = USERNAME_POLICY,
    address_policy: ThrottlePolicy = ADDRESS_POLICY,
) -> Verdict:
    """The verdict for an attempt at ``username`` from ``address``: the stricter of the two."""
    by_user = _judge_key(conn, username_key(username), now, username_policy)
    by_address = _judge_key(conn, address_key(address), now, address_policy) if address else Verdict()
    return by_user.worse(by_address)


def _count_failure(conn: Connection, key: str, now: dt.datetime, window: dt.timedelta) -> None:
    # One atomic statement, so that two workers failing at once both count.
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(throttle_table).values(key=key, failures=1, first_failed_at=now, last_failed_at=now)
    stale = throttle_table.c.last_failed_at <= sa.literal(now - window, UTCDateTime())
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[throttle_table.c.key],
            set_={
                "failures": sa.case((stale, 1), else_=throttle_table.c.failures + 1),
                "first_failed_at": sa.case(
                    (stale, stmt.excluded.first_failed_at), else_=throttle_table.c.first_failed_at
                ),
                "last_failed_at": stmt.excluded.last_failed_at,
            },
        )
    )


def record_failure(
    conn: Connection,
    *,
    username: str,
    address: str,
    now: dt.datetime,
    username_policy: ThrottlePolicy = USERNAME_POLICY,
    address_policy: ThrottlePolicy = ADDRESS_POLICY,
) -> Verdict:
    """Count a failed attempt; the verdict for the next one (its ``delay`` is how long to hold this answer)."""
    _count_failure(conn, username_key(username), now, username_policy.window)
    if address:
        _count_failure(conn, address_key(address), now, address_policy.window)
    return check(
        conn,
        username=username,
        address=address,
        now=now,
        username_policy=username_policy,
        address_policy=address_policy,
    )


def record_success(conn: Connection, *, username: str) -> None:
    """Clear the username's failures after a right password."""
    conn.execute(throttle_table.delete().where(throttle_table.c.key == username_key(username)))


def purge(conn: Connection, *, now: dt.datetime, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Forget counts whose last failure is older than ``older_than``; how many."""
    result = conn.execute(throttle_table.delete().where(throttle_table.c.last_failed_at <= now - older_than))
    return int(result.rowcount)
