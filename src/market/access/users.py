"""Staff users: add, find, list, disable, change role or password. Every change is audited.

Usernames are case-folded ASCII (letters, digits, ``.``, ``_``, ``-``), so the sign-in form finds
"Lan" and "lan" alike. Disabling a user, or changing their password or role, ends their sessions.
"""

from __future__ import annotations

import datetime as dt
import re

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.access import audit
from market.access.audit import AuditAction
from market.access.passwords import check_password_policy, hash_password
from market.access.roles import STAFF_ROLES, Role
from market.access.tables import sessions_table, users_table
from market.db import utcnow
from market.errors import ConflictError, FieldError, InvalidInputError, NotFoundError

__all__ = [
    "UserInfo",
    "add_user",
    "disable_user",
    "find_user",
    "list_users",
    "normalize_username",
    "set_password",
    "set_role",
]

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class UserInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A user as shown to admins: never the password hash."""

    id: int
    username: str
    full_name: str
    role: Role
    disabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime


def normalize_username(username: str) -> str:
    """The stored form of ``username`` (trimmed, case-folded).

    Raises:
        InvalidInputError: not 2-64 characters of a-z, 0-9, ".", "_", "-".
    """
    folded = username.strip().casefold()
    if not _USERNAME.fullmatch(folded):
        raise InvalidInputError(
            [
                FieldError(
                    "username",
                    f"tên đăng nhập không hợp lệ {username!r}: 2-64 ký tự a-z, 0-9, '.', '_', '-' "
                    "/ invalid username: 2-64 characters a-z, 0-9, '.', '_', '-'",
                )
            ]
        )
    return folded


def _staff_role(role: str) -> Role:
    try:
        value = Role(role)
    except ValueError:
        value = None
    if value not in STAFF_ROLES:
        choices = ", ".join(r.value for r in STAFF_ROLES)
        raise InvalidInputError(
            [FieldError("role", f"vai trò không hợp lệ {role!r} / unknown role (one of {choices})")]
        )
    return Role(role)


def _info(row: sa.Row[tuple[object, ...]]) -> UserInfo:
    m = row._mapping
    return UserInfo(
        id=m["id"],
        username=m["username"],
        full_name=m["full_name"],
        role=Role(m["role"]),
        disabled=m["disabled"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _row(conn: Connection, username: str) -> sa.Row[tuple[object, ...]]:
    row = conn.execute(sa.select(users_table).where(users_table.c.username == normalize_username(username))).first()
    if row is None:
        raise NotFoundError(f"không có người dùng {username!r} / no user {username!r}")
    return row


def find_user(conn: Connection, username: str) -> UserInfo:
    """The user called ``username`` (any case).

    Raises:
        NotFoundError: no such user.
    """
    return _info(_row(conn, username))


def list_users(conn: Connection) -> list[UserInfo]:
    """Every user, by username."""
    return [_info(r) for r in conn.execute(sa.select(users_table).order_by(users_table.c.username))]


def add_user(conn: Connection, username: str, *, role: str, password: str, full_name: str = "", actor: str) -> UserInfo:
    """Create a staff user with ``password`` (hashed with Argon2id).

    Raises:
        InvalidInputError: bad username or role.
        PasswordPolicyError: the password breaks the rules.
        ConflictError: the username is taken.
    """
    name = normalize_username(username)
    staff_role = _staff_role(role)
    check_password_policy(password)
    if conn.execute(sa.select(users_table.c.id).where(users_table.c.username == name)).first() is not None:
        raise ConflictError(f"tên đăng nhập {name!r} đã có / username {name!r} is taken")
    now = utcnow()
    conn.execute(
        users_table.insert().values(
            username=name,
            full_name=full_name.strip() or name,
            role=staff_role.value,
            password_hash=hash_password(password),
            disabled=False,
            created_at=now,
            updated_at=now,
        )
    )
    audit.record(conn, AuditAction.USER_ADDED, actor=actor, subject=name, detail={"role": staff_role.value}, now=now)
    return find_user(conn, name)


def _end_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(sessions_table.delete().where(sessions_table.c.user_id == user_id))


def disable_user(conn: Connection, username: str, *, actor: str) -> UserInfo:
    """Disable the user: no sign-in, no token, and their open sessions end.

    Raises:
        NotFoundError: no such user.
    """
    row = _row(conn, username)
    now = utcnow()
    conn.execute(users_table.update().where(users_table.c.id == row.id).values(disabled=True, updated_at=now))
    _end_sessions(conn, row.id)
    audit.record(conn, AuditAction.USER_DISABLED, actor=actor, subject=row.username, now=now)
    return find_user(conn, row.username)


def set_password(conn: Connection, username: str, password: str, *, actor: str) -> None:
    """Give the user a new password; their open sessions end (whoever knew the old one is signed out).

    Raises:
        NotFoundError: no such user.
        PasswordPolicyError: the password breaks the rules.
    """
    row = _row(conn, username)
    check_password_policy(password)
    now = utcnow()
    conn.execute(
        users_table.update()
        .where(users_table.c.id == row.id)
        .values(password_hash=hash_password(password), updated_at=now)
    )
    _end_sessions(conn, row.id)
    audit.record(conn, AuditAction.PASSWORD_CHANGED, actor=actor, subject=row.username, now=now)


def set_role(conn: Connection, username: str, role: str, *, actor: str) -> UserInfo:
    """Change the user's role; their open sessions end so that no page keeps the old rights.

    Raises:
        NotFoundError: no such user.
        InvalidInputError: not a staff role.
    """
    row = _row(conn, username)
    staff_role = _staff_role(role)
    now = utcnow()
    conn.execute(users_table.update().where(users_table.c.id == row.id).values(role=staff_role.value, updated_at=now))
    _end_sessions(conn, row.id)
    audit.record(
        conn,
        AuditAction.USER_ROLE_CHANGED,
        actor=actor,
        subject=row.username,
        detail={"from": row.role, "to": staff_role.value},
        now=now,
    )
    return find_user(conn, row.username)
