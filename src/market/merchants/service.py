"""The registry's operations: register, change, read, list and search stalls; their history.

Functions take a blocking SQLAlchemy ``Connection`` whose transaction the caller owns (the CLI
opens one; the web layer runs these through ``AsyncConnection.run_sync``), so the API and the
CSV import share one implementation of every rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlalchemy as sa
from msgspec import UNSET, UnsetType
from sqlalchemy.engine import Connection

from market.db import utcnow
from market.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from market.merchants import account_changes
from market.merchants.history import Change, diff
from market.merchants.schemas import (
    HistoryPage,
    HolderOut,
    OnboardingOut,
    StallData,
    StallIn,
    StallOut,
    StallPage,
    StallPatch,
    StallUpdate,
)
from market.merchants.search import search_clause
from market.merchants.stall_codes import normalize_stall_code
from market.merchants.stall_ops import account_out, check_accounts_free, find_stall, no_such_stall, write_stall
from market.merchants.store import (
    StoredStall,
    accounts_table,
    count_stalls,
    insert_stalls,
    load_history,
    load_stalls,
    set_card_reprint,
    stalls,
    update_stalls,
)
from market.merchants.validation import to_input, validate_stall
from market.merchants.vocab import (
    CATEGORIES,
    FREQUENCIES,
    NO_CASHLESS_REASONS,
    ONBOARDING_STATES,
    STATUSES,
)

__all__ = [
    "MAX_PAGE",
    "ImportPlan",
    "StallFilter",
    "all_stalls",
    "apply_plan",
    "create_stall",
    "get_stall",
    "list_stalls",
    "onboarding_state",
    "plan_import",
    "record_qr_issued",
    "stall_history",
    "to_out",
    "update_stall",
]

MAX_PAGE = 500
AccountKey = tuple[str, str]


def onboarding_state(data: StallData) -> str:
    """Where the stall stands on taking QR payments (a code of ``ONBOARDING_STATES``).

    "Taking QR" is a code issued *and displayed* (the commune's acceptance indicator).
    """
    if data.qr_displayed:
        return "qr_displayed"
    if data.qr_issued_on is not None:
        return "qr_issued"
    if data.has_bank_account or data.has_payment_app or data.accounts:
        return "account_only"
    return "no_account"


def _onboarding_clause(state: str) -> sa.ColumnElement[bool]:
    # The SQL twin of ``onboarding_state``, so that the database filters.
    has_account = sa.or_(
        stalls.c.has_bank_account,
        stalls.c.has_payment_app,
        sa.exists().where(accounts_table.c.stall_id == stalls.c.id),
    )
    displayed = stalls.c.qr_displayed.is_(True)
    issued = sa.and_(sa.not_(displayed), stalls.c.qr_issued_on.is_not(None))
    clauses = {
        "qr_displayed": displayed,
        "qr_issued": issued,
        "account_only": sa.and_(sa.not_(displayed), stalls.c.qr_issued_on.is_(None), has_account),
        "no_account": sa.and_(sa.not_(displayed), stalls.c.qr_issued_on.is_(None), sa.not_(has_account)),
    }
    return clauses[state]


def to_out(stored: StoredStall, *, include_national_id: bool = False) -> StallOut:
    """The API view of a stored stall; the national ID only when asked for."""
    data = stored.data
    accounts = [account_out(account) for account in data.accounts]
    state = onboarding_state(data)
    reason = data.no_cashless_reason
    return StallOut(
        code=data.code,
        zone=data.zone,
        row=data.row,
        category=data.category,
        category_label=CATEGORIES.label(data.category),
        area_m2=data.area_m2,
        status=data.status,
        status_label=STATUSES.label(data.status),
        status_since=data.status_since,
        holder=HolderOut(
            full_name=data.full_name,
            phone=data.phone,
            zalo=data.zalo,
            trading_frequency=data.trading_frequency,
            trading_frequency_label=FREQUENCIES.label(data.trading_frequency),
            national_id=data.national_id if include_national_id else UNSET,
        ),
        accounts=accounts,
        onboarding=OnboardingOut(
            state=state,
            state_label=ONBOARDING_STATES.label(state),
            has_bank_account=data.has_bank_account,
            has_payment_app=data.has_payment_app,
            qr_issued_on=data.qr_issued_on,
            qr_displayed=data.qr_displayed,
            no_cashless_reason=reason,
            no_cashless_reason_label=NO_CASHLESS_REASONS.label(reason) if reason else None,
            no_cashless_note=data.no_cashless_note,
            card_reprint_needed=stored.card_reprint_needed,
        ),
        updated_at=stored.updated_at,
    )


def get_stall(conn: Connection, code: str, *, include_national_id: bool = False) -> StallOut:
    """One stall by any spelling of its code ("a12" finds ``A-12``).

    Raises:
        NotFoundError: no such stall.
    """
    return to_out(find_stall(conn, code), include_national_id=include_national_id)


@dataclass(frozen=True, kw_only=True)
class StallFilter:
    """List filters; each given one narrows the list (codes or Vietnamese labels accepted)."""

    zone: str | None = None
    category: str | None = None
    status: str | None = None
    onboarding: str | None = None
    q: str | None = None
    limit: int = 50
    offset: int = 0


def _filter_clause(filters: StallFilter) -> sa.ColumnElement[bool] | None:
    errors: list[FieldError] = []
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.zone:
        clauses.append(stalls.c.zone == filters.zone.strip().upper())
    for name, vocab, column in (("category", CATEGORIES, stalls.c.category), ("status", STATUSES, stalls.c.status)):
        value = getattr(filters, name)
        if value:
            code = vocab.lookup(value)
            if code is None:
                errors.append(FieldError(name, f"giá trị không hợp lệ {value!r}; chọn một trong: {vocab.describe()}"))
            else:
                clauses.append(column == code)
    if filters.onboarding:
        state = ONBOARDING_STATES.lookup(filters.onboarding)
        if state is None:
            errors.append(FieldError("onboarding", f"chọn một trong: {ONBOARDING_STATES.describe()}"))
        else:
            clauses.append(_onboarding_clause(state))
    if filters.q and (match := search_clause(stalls.c.search_text, filters.q)) is not None:
        clauses.append(match)
    if not 1 <= filters.limit <= MAX_PAGE:
        errors.append(FieldError("limit", f"từ 1 đến {MAX_PAGE} / between 1 and {MAX_PAGE}"))
    if filters.offset < 0:
        errors.append(FieldError("offset", "không âm / must be >= 0"))
    if errors:
        raise InvalidInputError(errors)
    return sa.and_(*clauses) if clauses else None


def zones(conn: Connection) -> list[str]:
    """The zones that have stalls, in order (the registry's filter offers them)."""
    return [str(z) for z in conn.scalars(sa.select(stalls.c.zone).distinct().order_by(stalls.c.zone))]


def list_stalls(conn: Connection, filters: StallFilter, *, include_national_id: bool = False) -> StallPage:
    """A page of stalls matching ``filters``, ordered by code, with the total count.

    Raises:
        InvalidInputError: an unknown filter value or a bad page size.
    """
    where = _filter_clause(filters)
    found = load_stalls(conn, where, limit=filters.limit, offset=filters.offset)
    items = [to_out(s, include_national_id=include_national_id) for s in found]
    # A short first page already tells the total; otherwise ask the database.
    total = len(items) if filters.offset == 0 and len(items) < filters.limit else count_stalls(conn, where)
    return StallPage(items=items, total=total, limit=filters.limit, offset=filters.offset)


def create_stall(conn: Connection, stall: StallIn, actor: str) -> StallOut:
    """Register a new stall, with its first accounts in force at once.

    A new stall's accounts need no second person: nobody is paying the stall yet, so there is no
    money to redirect (it is the change of an existing stall's accounts that waits for approval).

    Raises:
        InvalidInputError: bad fields, each named.
        ConflictError: the stall code, or one of its accounts, is already registered.
    """
    data = validate_stall(stall)
    if load_stalls(conn, stalls.c.code == data.code):
        raise ConflictError(f"Sạp {data.code} đã có trong sổ / stall {data.code} is already registered")
    check_accounts_free(conn, data)
    try:
        insert_stalls(conn, [data], actor, utcnow())
    except sa.exc.IntegrityError:
        # A concurrent request registered the same code or account between our check and insert.
        raise ConflictError(f"Sạp {data.code} hoặc tài khoản của sạp vừa được đăng ký / already registered") from None
    return to_out(find_stall(conn, data.code))


def _patched(base: StallIn, patch: StallPatch) -> StallIn:
    def given(struct: msgspec.Struct, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        return {
            name: value
            for name in struct.__struct_fields__
            if name not in skip and (value := getattr(struct, name)) is not UNSET
        }

    fields = given(patch, skip=("holder", "onboarding"))
    if not isinstance(patch.holder, UnsetType):
        fields["holder"] = msgspec.structs.replace(base.holder, **given(patch.holder))
    if not isinstance(patch.onboarding, UnsetType):
        fields["onboarding"] = msgspec.structs.replace(base.onboarding, **given(patch.onboarding))
    return msgspec.structs.replace(base, **fields)


def update_stall(conn: Connection, code: str, patch: StallPatch, actor: str, *, approval: bool = True) -> StallUpdate:
    """Change some fields of a stall, recording each change in its history.

    A change of the accounts (add, replace, another default) waits for a second person when
    ``approval`` is on (``MARKET_ACCOUNT_CHANGE_APPROVAL``): the other fields apply now, the
    accounts become a pending change, and the stall keeps paying into its old ones. With approval
    off they apply at once and the history says that nobody approved them.

    Raises:
        NotFoundError: no such stall.
        InvalidInputError: the changed stall breaks a rule; each field named.
        ConflictError: a new account already belongs to another stall.
    """
    stored = find_stall(conn, code, for_update=True)
    data = validate_stall(_patched(to_input(stored.data), patch))
    if data.accounts == stored.data.accounts:
        write_stall(conn, stored, data, actor)
        return StallUpdate(stall=to_out(find_stall(conn, stored.data.code)))
    if not approval:
        write_stall(conn, stored, data, actor, accounts_note=account_changes.APPLIED_WITHOUT_APPROVAL)
        account_changes.applied_without_approval(conn, [stored.id], actor)
        return StallUpdate(stall=to_out(find_stall(conn, stored.data.code)))
    # Refuse an account of another stall before anything is written, as a PATCH always has.
    check_accounts_free(conn, data)
    others = validate_stall(_patched(to_input(stored.data), msgspec.structs.replace(patch, accounts=UNSET)))
    write_stall(conn, stored, others, actor)
    pending = account_changes.propose(conn, stored, data.accounts, actor)
    return StallUpdate(stall=to_out(find_stall(conn, stored.data.code)), pending_change=pending)


def stall_history(conn: Connection, code: str, *, limit: int = 100, offset: int = 0) -> HistoryPage:
    """A stall's changes, newest first.

    Raises:
        NotFoundError: no such stall.
        InvalidInputError: a bad page size.
    """
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInputError([FieldError("limit", f"limit 1–{MAX_PAGE}, offset >= 0")])
    stored = find_stall(conn, code)
    items, total = load_history(conn, stored.id, limit, offset)
    return HistoryPage(stall=stored.data.code, items=items, total=total, limit=limit, offset=offset)


def record_qr_issued(conn: Connection, codes: Collection[str], actor: str, on: dt.date) -> list[str]:
    """Record that the stalls' QR cards were issued on ``on``, where no issue date is recorded yet.

    A card downloaded or printed again keeps the first date: "QR issued" is when the stall first
    got its code, so a reprint writes nothing and adds no history entry.

    Args:
        conn: a connection in the caller's write transaction.
        codes: stall codes, any spelling.
        actor: who issued the cards, for the history.
        on: the issue date (the market's local date).

    Returns:
        The codes newly recorded, in code order.

    Raises:
        NotFoundError: a code names no stall.
    """
    wanted: set[str] = set()
    for code in codes:
        try:
            wanted.add(normalize_stall_code(code))
        except ValueError:
            raise no_such_stall(code) from None
    found = load_stalls(conn, stalls.c.code.in_(sorted(wanted)), for_update=True) if wanted else []
    missing = wanted - {stored.data.code for stored in found}
    if missing:
        listed = ", ".join(sorted(missing))
        raise NotFoundError(f"Không có sạp {listed} trong sổ / no stall {listed} in the registry")
    items = []
    for stored in found:
        if stored.data.qr_issued_on is None:
            data = msgspec.structs.replace(stored.data, qr_issued_on=on)
            items.append((stored.id, data, diff(stored.data, data)))
    update_stalls(conn, items, actor, utcnow())
    # A card issued now shows the stall's current accounts.
    set_card_reprint(conn, [stored.id for stored in found if stored.card_reprint_needed], False)
    return [data.code for _, data, _ in items]


def all_stalls(conn: Connection) -> list[StallData]:
    """Every stall, ordered by code (for export)."""
    return [stored.data for stored in load_stalls(conn)]


@dataclass
class ImportPlan:
    """What an import would do: stalls to create, stalls to change (with their diffs), stalls unchanged."""

    creates: list[StallData] = field(default_factory=list)
    updates: list[tuple[int, StallData, list[Change]]] = field(default_factory=list)
    unchanged: int = 0
    # Accounts claimed by a stall of the file but held in the database by a stall the file leaves alone.
    account_conflicts: list[tuple[str, str, str]] = field(default_factory=list)


def plan_import(existing: Mapping[str, StoredStall], items: Mapping[str, StallData]) -> ImportPlan:
    """Compare incoming stalls with the stored ones (both by code): what to create, change, or leave.

    Importing what is already stored plans nothing, so running an import twice changes nothing.
    """
    plan = ImportPlan()
    for code, data in items.items():
        stored = existing.get(code)
        if stored is None:
            plan.creates.append(data)
        elif changes := diff(stored.data, data):
            plan.updates.append((stored.id, data, changes))
        else:
            plan.unchanged += 1
    claims: dict[AccountKey, str] = {(a.bank_bin, a.account_number): d.code for d in items.values() for a in d.accounts}
    held = {
        (a.bank_bin, a.account_number): s.data.code
        for s in existing.values()
        if s.data.code not in items
        for a in s.data.accounts
    }
    plan.account_conflicts = [
        (claimant, number, held[(bank_bin, number)])
        for (bank_bin, number), claimant in claims.items()
        if (bank_bin, number) in held
    ]
    return plan


def apply_plan(conn: Connection, plan: ImportPlan, actor: str) -> None:
    """Write an import plan in the caller's transaction (changes first, so freed accounts can move)."""
    now = utcnow()
    update_stalls(conn, plan.updates, actor, now)
    insert_stalls(conn, plan.creates, actor, now)
