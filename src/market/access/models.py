"""Access tables: staff users, sign-in sessions, API tokens, stall links, the sign-in throttle, the audit log.

No secret is stored in the clear: passwords as Argon2id hashes, session cookies, API tokens and
stall links as SHA-256 hex digests of the random value the user holds (a digest of 32 random
bytes cannot be guessed back, so no salt or slow hash is needed for them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, UTCDateTime, utcnow

__all__ = ["ApiToken", "AuditEvent", "SignInThrottle", "StallLink", "User", "WebSession"]

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_DIGEST = 64  # hex SHA-256

STAFF_ROLE_CHECK = "role IN ('admin', 'office', 'commune', 'team')"


class User(Base):
    """A staff account. ``username`` is stored case-folded, so "Lan" and "lan" are one user."""

    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(STAFF_ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(10))
    password_hash: Mapped[str] = mapped_column(sa.Text)
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StallLink(Base):
    """A stall holder's sign-in link (``/s/{token}``); revoking it signs out the phones it signed in."""

    __tablename__ = "stall_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(_DIGEST), unique=True)
    stall_id: Mapped[int] = mapped_column(sa.ForeignKey("stalls.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser: its cookie's digest, whose it is, and when it ends.

    Exactly one of ``user_id`` (signed in by password) and ``stall_link_id`` (by a stall's link) is set.
    Stored in the database so that every worker sees it and it survives a restart.
    """

    __tablename__ = "web_sessions"
    __table_args__ = (sa.CheckConstraint("(user_id IS NULL) <> (stall_link_id IS NULL)", name="one_principal"),)

    id: Mapped[str] = mapped_column(sa.String(_DIGEST), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stall_link_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stall_links.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Absolute end, fixed at sign-in; the idle end moves forward with each request.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    idle_expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token for scripts, acting as its user; ``prefix`` identifies it in lists without revealing it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(_DIGEST), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(80))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SignInThrottle(Base):
    """Recent failed sign-ins under one key (``user:<name>`` or ``addr:<ip>``), shared by every worker."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer)
    first_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """One security-relevant event: who did what to whom. ``detail`` never holds a secret."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    subject: Mapped[str] = mapped_column(sa.String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
