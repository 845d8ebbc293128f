"""The audit log: sign-ins, failed sign-ins, changes to users, tokens and stall links.

``detail`` is free-form JSON for context (a role, a token's name, an address), so ``record``
refuses keys that name a secret: a password, a token or a national ID must never land in the log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.access.tables import audit_events_table
from market.db import utcnow

__all__ = ["AuditAction", "AuditEntry", "list_events", "record"]

_MAX_ACTOR = 64
_MAX_SUBJECT = 120
# Substrings of a detail key that mean its value is a secret.
_SECRET_KEYS = ("password", "token", "secret", "national_id", "hash", "cookie")


class AuditAction(StrEnum):
    """What happened."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_REFUSED = "sign_in_refused"  # throttled: too many failures
    SIGN_OUT = "sign_out"
    USER_ADDED = "user_added"
    USER_DISABLED = "user_disabled"
    USER_ROLE_CHANGED = "user_role_changed"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a name, not a secret
    TOKEN_CREATED = "token_created"  # noqa: S105 - a name, not a secret
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - a name, not a secret
    LINK_CREATED = "link_created"
    LINK_REVOKED = "link_revoked"
    LINK_SIGN_IN = "link_sign_in"


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One event as read back."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


def _check_no_secrets(detail: Mapping[str, Any]) -> None:
    for key in detail:
        if any(word in key.lower() for word in _SECRET_KEYS):
            raise ValueError(f"audit detail key {key!r} names a secret; the audit log never stores one")


def record(
    conn: Connection,
    action: AuditAction,
    *,
    actor: str,
    subject: str,
    detail: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Add one event (in the caller's transaction).

    Raises:
        ValueError: a ``detail`` key names a secret.
    """
    values = dict(detail or {})
    _check_no_secrets(values)
    conn.execute(
        audit_events_table.insert().values(
            at=now or utcnow(),
            actor=actor[:_MAX_ACTOR],
            action=action.value,
            subject=subject[:_MAX_SUBJECT],
            detail=values,
        )
    )


def list_events(
    conn: Connection, *, action: AuditAction | None = None, limit: int = 100, offset: int = 0
) -> list[AuditEntry]:
    """Events newest first, optionally of one kind."""
    query = sa.select(audit_events_table).order_by(audit_events_table.c.id.desc()).limit(limit).offset(offset)
    if action is not None:
        query = query.where(audit_events_table.c.action == action.value)
    return [
        AuditEntry(id=r.id, at=r.at, actor=r.actor, action=r.action, subject=r.subject, detail=dict(r.detail or {}))
        for r in conn.execute(query)
    ]
