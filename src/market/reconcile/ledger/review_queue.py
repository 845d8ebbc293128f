"""The review queue: money automation would not attribute, ranked guesses, and people's decisions.

An item is opened by the matching driver for a notification the core sent to ``review``
(no stall's account and no code, a code of another stall, a typo close to several intents...)
or that the provider reported as failed. :func:`list_unmatched` shows each with the payer's own
words (bank wrappers stripped, ``memo.content``) and ranked suggestions: the core's (the code's
owner, the account's owner, intents one edit away from a mistyped code), intents one edit away from
the memo of money into no stall's account (worked out as the queue is read), and the stalls this
payer has paid before.

:func:`resolve_item` records a person's decision — credit an intent, credit a stall, or "not
ours" — with who and why. The matching driver applies it in its next transaction (the core's
``apply_manual``), and from then on automation never overrides it: the row is no longer pending,
and a replay hands the same decision to the core, which puts manual decisions before every rule.
A decision is final here; a second one on the same item is refused (409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.db import utcnow
from market.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from market.merchants import normalize_stall_code
from market.merchants.store import stalls
from market.reconcile.ledger.manual_decisions import decided_items_query
from market.reconcile.ledger.tables import intents_table, journal_table, receipts_table, review_items_table
from market.reconcile.ledger.writes import suggestion_dict
from market.reconcile.matching import memo, references
from market.reconcile.matching.decisions import Suggestion
from market.reconcile.reasons import ONE_EDIT, ONE_EDIT_AMOUNT, PAYER_HISTORY, PROVIDER_STATUS, UNKNOWN_ACCOUNT
from market.reconcile.statuses import UNMATCHED

__all__ = [
    "ResolutionOut",
    "ResolveIn",
    "SuggestionOut",
    "UnmatchedItem",
    "UnmatchedPage",
    "cast_state",
    "get_item",
    "list_unmatched",
    "resolve_item",
]

# A regular customer is a hint, not evidence: below the core's one-edit guesses (50–80).
_HISTORY_BASE, _HISTORY_STEP, _HISTORY_CAP = 20, 2, 10
_MAX_WHY = 500
_MAX_BY = 64
State = Literal["open", "resolved", "all"]


class SuggestionOut(msgspec.Struct, kw_only=True):
    """One ranked guess: credit ``stall`` (and ``intent``, if given); higher ``score`` first.

    ``why`` is a suggestion ground of :mod:`market.reconcile.reasons`; ``times``, for
    ``payer_history``, how many times this payer has paid the stall. ``why_text`` is the words for
    people, which the web layer fills in from its catalogue.
    """

    stall: str
    intent: str | None
    score: int
    why: str
    why_text: str = ""
    times: int | None = None


class ResolutionOut(msgspec.Struct, kw_only=True):
    """A person's decision; ``applied`` once the matching driver has written it to the ledger."""

    action: str
    stall: str | None
    intent: str | None
    by: str
    why: str
    at: dt.datetime
    applied: bool
    outcome: str


class UnmatchedItem(msgspec.Struct, kw_only=True):
    """A notification waiting for (or decided by) a person.

    ``reason`` is a code of :mod:`market.reconcile.reasons`; ``reason_text`` is the words for
    people, which the web layer fills in from its catalogue.
    """

    id: int
    journal_id: int
    reason: str
    reason_text: str = ""
    detail: str | None
    provider: str
    amount: int
    memo: str
    content: str
    transferred_at: dt.datetime
    account_number: str | None
    payer_name: str | None
    payer_account: str | None
    suggestions: list[SuggestionOut]
    resolution: ResolutionOut | None = None


class UnmatchedPage(msgspec.Struct, kw_only=True):
    """A page of the queue; ``total`` counts every item in the requested state."""

    total: int
    items: list[UnmatchedItem]


class ResolveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /api/reconcile/unmatched/{id}/resolve``.

    ``action`` is ``intent`` (credit the intent whose code is ``intent``), ``stall`` (a sale of
    ``stall``) or ``not_ours`` (not the market's money); ``why`` is required. ``by`` stays in
    the JSON contract, but the web drops it and records the signed-in principal instead.
    """

    action: str
    why: str
    stall: str | None = None
    intent: str | None = None
    by: str | None = None


def _base_query() -> sa.Select[Any]:
    r, j = review_items_table.c, journal_table.c
    return decided_items_query(
        r.id,
        r.journal_id,
        r.reason,
        r.suggestions,
        r.resolved_at,
        j.status,
        j.review_reason,
        j.provider,
        j.amount,
        j.memo,
        j.transferred_at,
        j.account_number,
        j.counterparty_name,
        j.counterparty_account,
    )


def _state_clause(state: State) -> sa.ColumnElement[bool] | None:
    if state == "open":
        return review_items_table.c.resolution.is_(None)
    if state == "resolved":
        return review_items_table.c.resolution.is_not(None)
    return None


def _payer_history(conn: Connection, payers: set[str]) -> dict[str, list[tuple[str, int]]]:
    """For each payer account, the stalls it paid before and how often (most first)."""
    if not payers:
        return {}
    j, r = journal_table.c, receipts_table.c
    query = (
        sa.select(j.counterparty_account, stalls.c.code, sa.func.count().label("times"))
        .select_from(receipts_table)
        .join(journal_table, j.id == r.journal_id)
        .join(stalls, stalls.c.id == r.stall_id)
        .where(j.counterparty_account.in_(sorted(payers)), r.amount > 0)
        .group_by(j.counterparty_account, stalls.c.code)
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for row in conn.execute(query):
        found.setdefault(row.counterparty_account, []).append((row.code, int(row.times)))
    return {payer: sorted(stalls_paid, key=lambda s: (-s[1], s[0])) for payer, stalls_paid in found.items()}


def _near_codes(conn: Connection, rows: Sequence[Any]) -> dict[int, list[dict[str, Any]]]:
    """Intents one edit away from the memo of each item about money into no stall's account.

    Worked out as the queue is read, not when the core decided: only for the items a person looks
    at, and against the intents as they stand now (one paid since is no longer "the amount matches").
    """
    wanted = {
        row.id: (row.amount, memo.near_code_candidates(row.memo, repair_prefix=True))
        for row in rows
        if row.reason == UNKNOWN_ACCOUNT
    }
    candidates = {code for _, found in wanted.values() for code in found}
    if not candidates:
        return {}
    i = intents_table.c
    query = (
        sa.select(i.code, stalls.c.code.label("stall"), i.amount, i.paid_amount)
        .join(stalls, stalls.c.id == i.stall_id)
        .where(i.code.in_(sorted(candidates)))
    )
    issued = {row.code: row for row in conn.execute(query)}
    near: dict[int, list[dict[str, Any]]] = {}
    for item_id, (amount, found) in wanted.items():
        for code in found:
            intent = issued.get(code)
            if intent is None:
                continue
            exact = intent.amount - intent.paid_amount == amount
            guess = Suggestion(
                stall=intent.stall,
                intent=code,
                score=70 if exact else 50,
                why=ONE_EDIT_AMOUNT if exact else ONE_EDIT,
            )
            near.setdefault(item_id, []).append(suggestion_dict(guess))  # the form the core's are stored in
    return near


def _suggestions(stored: list[dict[str, Any]], history: list[tuple[str, int]]) -> list[SuggestionOut]:
    """The core's guesses and the payer's history, one per (stall, intent), best first."""
    best: dict[tuple[str, str | None], SuggestionOut] = {}
    candidates = [
        SuggestionOut(
            stall=s["stall"],
            intent=s.get("intent"),
            score=int(s["score"]),
            why=s["why"],
        )
        for s in stored
    ]
    candidates += [
        SuggestionOut(
            stall=stall,
            intent=None,
            score=_HISTORY_BASE + _HISTORY_STEP * min(times, _HISTORY_CAP),
            why=PAYER_HISTORY,
            times=times,
        )
        for stall, times in history
    ]
    for candidate in candidates:
        key = (candidate.stall, candidate.intent)
        if key not in best or candidate.score > best[key].score:
            best[key] = candidate
    return sorted(best.values(), key=lambda s: (-s.score, s.stall, s.intent or ""))


def _item(row: Any, history: dict[str, list[tuple[str, int]]], near: dict[int, list[dict[str, Any]]]) -> UnmatchedItem:
    resolution = None
    if row.resolution is not None:
        resolution = ResolutionOut(
            action=row.resolution,
            stall=row.resolved_stall,
            intent=row.resolved_intent,
            by=row.resolved_by or "",
            why=row.resolution_note or "",
            at=row.resolved_at,
            applied=row.status != UNMATCHED,
            outcome=row.status,
        )
    return UnmatchedItem(
        id=row.id,
        journal_id=row.journal_id,
        reason=row.reason,
        detail=row.review_reason if row.reason == PROVIDER_STATUS else None,
        provider=row.provider,
        amount=row.amount,
        memo=row.memo,
        content=memo.content(row.memo),
        transferred_at=row.transferred_at,
        account_number=row.account_number,
        payer_name=row.counterparty_name,
        payer_account=row.counterparty_account,
        suggestions=_suggestions(
            [*(row.suggestions or []), *near.get(row.id, [])], history.get(row.counterparty_account or "", [])
        ),
        resolution=resolution,
    )


def list_unmatched(conn: Connection, *, state: State = "open", limit: int = 50, offset: int = 0) -> UnmatchedPage:
    """The queue, oldest first, with ranked suggestions.

    Raises:
        InvalidInputError: ``limit`` outside 1..500 or a negative ``offset``.
    """
    if not 1 <= limit <= 500 or offset < 0:
        raise InvalidInputError([FieldError("limit", "1..500, and offset ≥ 0")])
    where = _state_clause(state)
    # The total comes from the same statement as the rows (a window count): on PostgreSQL two
    # statements see two snapshots, and the matcher may commit in between.
    query = (
        _base_query()
        .add_columns(sa.func.count().over().label("queue_total"))
        .order_by(review_items_table.c.id)
        .limit(limit)
        .offset(offset)
    )
    count = sa.select(sa.func.count()).select_from(review_items_table)
    if where is not None:
        count, query = count.where(where), query.where(where)
    rows = conn.execute(query).all()
    if rows:
        total = int(rows[0].queue_total)
    elif offset == 0:
        total = 0  # an empty first page is an empty queue, as of the same snapshot
    else:  # past the end: only a count can say how many there are
        total = int(conn.execute(count).scalar_one())
    history = _payer_history(conn, {row.counterparty_account for row in rows if row.counterparty_account})
    near = _near_codes(conn, rows)
    return UnmatchedPage(total=total, items=[_item(row, history, near) for row in rows])


def get_item(conn: Connection, item_id: int) -> UnmatchedItem:
    """One review item.

    Raises:
        NotFoundError: no item has that id.
    """
    row = conn.execute(_base_query().where(review_items_table.c.id == item_id)).first()
    if row is None:
        raise NotFoundError(f"Không có mục cần xem xét số {item_id} / no review item {item_id}")
    history = _payer_history(conn, {row.counterparty_account} if row.counterparty_account else set())
    return _item(row, history, _near_codes(conn, [row]))


def _target(conn: Connection, data: ResolveIn) -> tuple[int | None, int | None]:
    """Check the decision's target; ``(stall_id, intent_id)`` to store."""
    if data.action == "not_ours":
        return None, None
    if data.action == "stall":
        try:
            code = normalize_stall_code(data.stall or "")
        except ValueError as exc:
            raise InvalidInputError([FieldError("stall", str(exc))]) from None
        stall_id = conn.execute(sa.select(stalls.c.id).where(stalls.c.code == code)).scalar()
        if stall_id is None:
            raise NotFoundError(f"Không có sạp {data.stall!r} trong sổ / no stall {data.stall!r} in the registry")
        return int(stall_id), None
    code = references.normalise_code(data.intent or "")
    row = conn.execute(
        sa.select(intents_table.c.id, intents_table.c.stall_id).where(intents_table.c.code == code)
    ).first()
    if row is None:
        raise NotFoundError(f"Không có đơn thanh toán {data.intent!r} / no payment intent {data.intent!r}")
    return int(row.stall_id), int(row.id)


def _check(data: ResolveIn, by: str) -> None:
    errors = []
    if data.action not in ("intent", "stall", "not_ours"):
        errors.append(FieldError("action", "one of intent, stall, not_ours"))
    if data.action == "intent" and not data.intent:
        errors.append(FieldError("intent", "the code of the intent to credit"))
    if data.action == "stall" and not data.stall:
        errors.append(FieldError("stall", "the code of the stall to credit"))
    if not data.why.strip() or len(data.why) > _MAX_WHY:
        errors.append(FieldError("why", f"lý do, 1..{_MAX_WHY} ký tự / the reason, 1..{_MAX_WHY} characters"))
    if not by or len(by) > _MAX_BY:
        errors.append(FieldError("by", f"who decides, 1..{_MAX_BY} characters"))
    if errors:
        raise InvalidInputError(errors)


def resolve_item(
    conn: Connection, item_id: int, data: ResolveIn, by: str, *, now: dt.datetime | None = None
) -> UnmatchedItem:
    """Record a person's decision on a review item (the caller commits; the driver applies it).

    Args:
        conn: a connection in a write transaction (``sqlite_immediate`` on SQLite).
        item_id: the review item.
        data: the decision.
        by: who decides (``data.by`` wins when given).

    Raises:
        InvalidInputError: a bad action, a missing target or reason.
        NotFoundError: no such item, stall or intent.
        ConflictError: the item already has a decision (decisions are final).
    """
    who = (data.by or by).strip()
    _check(data, who)
    current = get_item(conn, item_id)
    if current.resolution is not None:
        raise ConflictError(
            f"Mục {item_id} đã được quyết định bởi {current.resolution.by} / item {item_id} was already resolved "
            f"by {current.resolution.by}",
        )
    stall_id, intent_id = _target(conn, data)
    conn.execute(
        sa.update(review_items_table)
        .where(review_items_table.c.id == item_id, review_items_table.c.resolution.is_(None))
        .values(
            resolution=data.action,
            resolved_stall_id=stall_id,
            resolved_intent_id=intent_id,
            resolved_by=who,
            resolved_at=now or utcnow(),
            resolution_note=data.why.strip(),
        )
    )
    return get_item(conn, item_id)


def cast_state(value: str) -> State:
    """Validate a ``state`` query value."""
    if value not in ("open", "resolved", "all"):
        raise InvalidInputError([FieldError("state", "one of open, resolved, all")])
    return cast(State, value)
