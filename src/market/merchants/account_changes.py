"""Money cannot be redirected by one person: a change of a stall's receiving accounts waits for a second.

A change of the accounts (add, replace, another default) is stored as *pending*; the stall keeps
its accounts, so its QR, card and new payment intents pay as before, until someone other than the
requester approves it. Approval writes the change through the same path as any change of a stall
(:func:`market.merchants.stall_ops.write_stall`: history, the one-stall-per-account rule) and marks
the printed card as needing a reprint. A newer request for the same stall supersedes the older
one. A market with a single office user turns approval off (``MARKET_ACCOUNT_CHANGE_APPROVAL=off``);
its changes apply at once and the history says that nobody approved them.

Functions take a blocking ``Connection`` in the caller's write transaction, like the service.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.db import utcnow
from market.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from market.merchants.models import AccountChange
from market.merchants.schemas import Account, AccountChangeOut, AccountChangePage, AccountIn, StallData
from market.merchants.stall_ops import account_out, check_accounts_free, find_stall, find_stall_by_id, write_stall
from market.merchants.store import StoredStall, set_card_reprint, stalls
from market.merchants.validation import to_input, validate_stall
from market.merchants.vocab import ACCOUNT_CHANGE_STATES

__all__ = [
    "APPLIED_WITHOUT_APPROVAL",
    "MAX_PAGE",
    "applied_without_approval",
    "approve",
    "get_change",
    "list_changes",
    "propose",
    "reject",
    "request_change",
    "validate_accounts",
]

MAX_PAGE = 500
PENDING, APPROVED, REJECTED, SUPERSEDED = "pending", "approved", "rejected", "superseded"
# The history note of a change of accounts that applied at once, because approval is off.
APPLIED_WITHOUT_APPROVAL = (
    "áp dụng ngay, không có người thứ hai duyệt (MARKET_ACCOUNT_CHANGE_APPROVAL=off) "
    "/ applied without a second person's approval (the setting is off)"
)
_MAX_REASON = 500

changes = cast(sa.Table, AccountChange.__table__)


def _person(actor: str) -> str:
    # The command line records "cli:<login>" where an import records the bare login name: one person.
    return actor.strip().removeprefix("cli:").casefold()


def _accounts_json(accounts: Sequence[Account]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(a) for a in accounts]


def _accounts_of(value: Any) -> tuple[Account, ...]:
    return tuple(msgspec.convert(value, list[Account]))


def _not_found(change_id: int) -> NotFoundError:
    return NotFoundError(f"Không có đề nghị đổi tài khoản #{change_id} / no account change #{change_id}")


_COLUMNS = (*changes.c, stalls.c.code.label("stall_code"))


def _select() -> sa.Select[Any]:
    return sa.select(*_COLUMNS).join(stalls, stalls.c.id == changes.c.stall_id)


def _out(row: sa.Row[Any]) -> AccountChangeOut:
    return AccountChangeOut(
        id=row.id,
        stall=row.stall_code,
        state=row.state,
        state_label=ACCOUNT_CHANGE_STATES.label(row.state),
        old_accounts=[account_out(a) for a in _accounts_of(row.old_accounts)],
        new_accounts=[account_out(a) for a in _accounts_of(row.new_accounts)],
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
    )


def _row(conn: Connection, change_id: int, *, for_update: bool = False) -> sa.Row[Any]:
    query = _select().where(changes.c.id == change_id)
    if for_update:
        query = query.with_for_update(of=changes)
    row = conn.execute(query).first()
    if row is None:
        raise _not_found(change_id)
    return row


def get_change(conn: Connection, change_id: int) -> AccountChangeOut:
    """One account change.

    Raises:
        NotFoundError: no such change.
    """
    return _out(_row(conn, change_id))


def list_changes(
    conn: Connection, *, state: str | None = PENDING, stall: str | None = None, limit: int = 100, offset: int = 0
) -> AccountChangePage:
    """Account changes, newest first: in ``state`` (any state when ``None`` or "all"), of ``stall`` when given.

    Raises:
        InvalidInputError: an unknown state or a bad page size.
        NotFoundError: ``stall`` names no stall.
    """
    errors = []
    wanted = None if state in (None, "", "all") else state
    code = wanted and ACCOUNT_CHANGE_STATES.lookup(wanted)
    if wanted and code is None:
        errors.append(FieldError("state", f"chọn một trong / one of: {ACCOUNT_CHANGE_STATES.describe()}"))
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        errors.append(FieldError("limit", f"limit 1–{MAX_PAGE}, offset >= 0"))
    if errors:
        raise InvalidInputError(errors)
    where: list[sa.ColumnElement[bool]] = []
    if code:
        where.append(changes.c.state == code)
    if stall:
        where.append(changes.c.stall_id == find_stall(conn, stall).id)
    total = conn.execute(sa.select(sa.func.count()).select_from(changes).where(*where)).scalar_one()
    rows = conn.execute(_select().where(*where).order_by(changes.c.id.desc()).limit(limit).offset(offset))
    return AccountChangePage(items=[_out(r) for r in rows], total=int(total), limit=limit, offset=offset)


def validate_accounts(stored: StoredStall, accounts: Sequence[AccountIn]) -> StallData:
    """The stall with ``accounts`` in place of its own, validated as a PATCH of them would be.

    Raises:
        InvalidInputError: a bad bank, account number or default, each named (``accounts[1].bank``).
    """
    return validate_stall(msgspec.structs.replace(to_input(stored.data), accounts=list(accounts)))


def _close_pending(conn: Connection, stall_ids: Collection[int], actor: str, reason: str, keep: int | None) -> None:
    query = sa.update(changes).where(changes.c.stall_id.in_(sorted(stall_ids)), changes.c.state == PENDING)
    if keep is not None:
        query = query.where(changes.c.id != keep)
    conn.execute(query.values(state=SUPERSEDED, decided_by=actor, decided_at=utcnow(), reason=reason))


def propose(conn: Connection, stored: StoredStall, accounts: tuple[Account, ...], actor: str) -> AccountChangeOut:
    """Store ``accounts`` as a pending change of the (locked) stall; its older pending change is superseded.

    Raises:
        ConflictError: one of the accounts already belongs to another stall.
    """
    check_accounts_free(conn, msgspec.structs.replace(stored.data, accounts=accounts))
    change_id = conn.execute(
        sa.insert(changes)
        .values(
            stall_id=stored.id,
            old_accounts=_accounts_json(stored.data.accounts),
            new_accounts=_accounts_json(accounts),
            state=PENDING,
            requested_by=actor,
            requested_at=utcnow(),
        )
        .returning(changes.c.id)
    ).scalar_one()
    _close_pending(
        conn, [stored.id], actor, f"thay bằng đề nghị #{change_id} / replaced by change #{change_id}", keep=change_id
    )
    return get_change(conn, change_id)


def request_change(conn: Connection, stall_code: str, accounts: Sequence[AccountIn], *, actor: str) -> AccountChangeOut:
    """Ask for the stall's accounts to become ``accounts``; nothing changes until a second person approves.

    Raises:
        NotFoundError: no such stall.
        InvalidInputError: a bad account (as a PATCH reports it), or the accounts the stall already has.
        ConflictError: one of the accounts already belongs to another stall.
    """
    stored = find_stall(conn, stall_code, for_update=True)
    data = validate_accounts(stored, accounts)
    if data.accounts == stored.data.accounts:
        raise InvalidInputError(
            [FieldError("accounts", "giống tài khoản hiện tại của sạp / the same as the stall's accounts: no change")]
        )
    return propose(conn, stored, data.accounts, actor)


def applied_without_approval(conn: Connection, stall_ids: Collection[int], actor: str) -> None:
    """After accounts changed at once (approval off): the stalls' pending changes are moot, their cards old."""
    if stall_ids:
        reason = "tài khoản đã được đổi trực tiếp / the accounts were changed directly"
        _close_pending(conn, stall_ids, actor, reason, keep=None)
        set_card_reprint(conn, stall_ids, True)


def _check_pending(row: sa.Row[Any]) -> None:
    if row.state != PENDING:
        label = ACCOUNT_CHANGE_STATES.label(row.state)
        raise ConflictError(
            f"Đề nghị #{row.id} không còn chờ duyệt ({label}) / change #{row.id} is no longer pending ({row.state})"
        )


def _locked(conn: Connection, change_id: int) -> tuple[sa.Row[Any], StoredStall]:
    # The stall first, then the change: the order a PATCH takes them in, so the two never deadlock.
    stall_id = _row(conn, change_id).stall_id
    stored = find_stall_by_id(conn, stall_id, for_update=True)
    row = _row(conn, change_id, for_update=True)
    _check_pending(row)
    return row, stored


def _decide(conn: Connection, change_id: int, state: str, actor: str, reason: str | None) -> None:
    conn.execute(
        sa.update(changes)
        .where(changes.c.id == change_id)
        .values(state=state, decided_by=actor, decided_at=utcnow(), reason=reason)
    )


def approve(conn: Connection, change_id: int, *, actor: str) -> AccountChangeOut:
    """Apply a pending change of accounts, as a second person; the stall's card then needs a reprint.

    Raises:
        NotFoundError: no such change.
        ConflictError: the change is no longer pending, ``actor`` requested it, the stall's accounts
            changed since it was requested, or one of its accounts now belongs to another stall.
    """
    row, stored = _locked(conn, change_id)
    if _person(row.requested_by) == _person(actor):
        raise ConflictError(
            "Người đề nghị không thể tự duyệt thay đổi của mình / the same person cannot approve their own change"
        )
    if _accounts_of(row.old_accounts) != stored.data.accounts:
        raise ConflictError(
            f"Tài khoản của sạp {row.stall_code} đã thay đổi từ khi có đề nghị #{change_id}; hãy đề nghị lại "
            f"/ the stall's accounts changed since change #{change_id} was requested; request it again"
        )
    new = _accounts_of(row.new_accounts)
    data = validate_stall(to_input(msgspec.structs.replace(stored.data, accounts=new)))
    note = (
        f"đề nghị #{change_id} của {row.requested_by}, {actor} duyệt "
        f"/ change #{change_id} requested by {row.requested_by}, approved by {actor}"
    )
    write_stall(conn, stored, data, actor, accounts_note=note)
    set_card_reprint(conn, [stored.id], True)
    _decide(conn, change_id, APPROVED, actor, None)
    return get_change(conn, change_id)


def reject(conn: Connection, change_id: int, *, actor: str, reason: str) -> AccountChangeOut:
    """Refuse a pending change (the requester may withdraw their own); the stall keeps its accounts.

    Raises:
        NotFoundError: no such change.
        InvalidInputError: no reason given, or one too long.
        ConflictError: the change is no longer pending.
    """
    why = " ".join(reason.split())
    if not why or len(why) > _MAX_REASON:
        message = f"cần lý do, tối đa {_MAX_REASON} ký tự / a reason is required, at most {_MAX_REASON} characters"
        raise InvalidInputError([FieldError("reason", message)])
    _locked(conn, change_id)
    _decide(conn, change_id, REJECTED, actor, why)
    return get_change(conn, change_id)
