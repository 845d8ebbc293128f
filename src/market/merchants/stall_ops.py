"""What the registry's service and its account changes share about one stall: finding it, its
accounts as answered, the rule that an account belongs to one stall, and writing a new version.

Every change of a stall, whether applied at once or approved later, goes through
:func:`write_stall`, so the history and the account ownership rule are the same for both.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.banks import find_bank
from market.db import utcnow
from market.errors import ConflictError, NotFoundError
from market.merchants.history import diff
from market.merchants.schemas import Account, AccountOut, StallData
from market.merchants.stall_codes import normalize_stall_code
from market.merchants.store import StoredStall, account_owners, load_stalls, stalls, update_stalls
from market.merchants.vocab import ACCOUNT_KINDS

__all__ = [
    "account_out",
    "check_accounts_free",
    "find_stall",
    "find_stall_by_id",
    "no_such_stall",
    "stall_row_id",
    "write_stall",
]


def no_such_stall(code: str) -> NotFoundError:
    """The error for a code that names no stall."""
    return NotFoundError(f"Không có sạp {code!r} trong sổ / no stall {code!r} in the registry")


def find_stall(conn: Connection, code: str, *, for_update: bool = False) -> StoredStall:
    """One stall by any spelling of its code.

    Raises:
        NotFoundError: no such stall.
    """
    canonical = _canonical(code)
    found = load_stalls(conn, stalls.c.code == canonical, for_update=for_update) if canonical else []
    if not found:
        raise no_such_stall(code)
    return found[0]


def stall_row_id(conn: Connection, code: str) -> tuple[int, str]:
    """The row id and canonical code of the stall spelt ``code``, without loading the stall.

    Raises:
        NotFoundError: no such stall.
    """
    canonical = _canonical(code)
    row = conn.execute(sa.select(stalls.c.id).where(stalls.c.code == canonical)).first() if canonical else None
    if row is None or canonical is None:
        raise no_such_stall(code)
    return int(row.id), canonical


def _canonical(code: str) -> str | None:
    """The canonical form of ``code``, or ``None`` when it cannot be a stall code (so no stall has it)."""
    try:
        return normalize_stall_code(code)
    except ValueError:
        return None


def find_stall_by_id(conn: Connection, stall_id: int, *, for_update: bool = False) -> StoredStall:
    """One stall by its row id (it exists: the caller holds a row that refers to it)."""
    (found,) = load_stalls(conn, stalls.c.id == stall_id, for_update=for_update)
    return found


def account_out(account: Account) -> AccountOut:
    """The API view of an account, with the bank's names from the directory."""
    bank = find_bank(account.bank_bin)
    return AccountOut(
        bank_bin=account.bank_bin,
        bank_short_name=bank.short_name if bank else account.bank_bin,
        bank_name=bank.name if bank else account.bank_bin,
        account_number=account.account_number,
        holder_name=account.holder_name,
        kind=account.kind,
        kind_label=ACCOUNT_KINDS.label(account.kind),
        is_default=account.is_default,
    )


def check_accounts_free(conn: Connection, data: StallData) -> None:
    """Refuse accounts that another stall holds: payments are attributed to a stall by the account.

    Raises:
        ConflictError: naming each account taken and its stall.
    """
    owners = account_owners(conn, [(a.bank_bin, a.account_number) for a in data.accounts])
    taken = [f"{number} (sạp {code})" for (_, number), code in owners.items() if code != data.code]
    if taken:
        raise ConflictError(
            f"Tài khoản đã thuộc sạp khác / account already registered to another stall: {', '.join(taken)}"
        )


def write_stall(
    conn: Connection, stored: StoredStall, data: StallData, actor: str, *, accounts_note: str | None = None
) -> bool:
    """Write ``data`` as the new version of ``stored``, one history entry per changed field.

    ``accounts_note`` goes with the history entry of the accounts, if they changed.

    Returns:
        Whether anything changed.

    Raises:
        ConflictError: a new account already belongs to another stall.
    """
    changes = diff(stored.data, data)
    if not changes:
        return False
    if accounts_note is not None:
        changes = [c._replace(note=accounts_note) if c.field == "accounts" else c for c in changes]
    check_accounts_free(conn, data)
    try:
        update_stalls(conn, [(stored.id, data, changes)], actor, utcnow())
    except sa.exc.IntegrityError:
        raise ConflictError("Tài khoản vừa được đăng ký cho sạp khác / account just registered elsewhere") from None
    return True
