"""Reading and writing the registry tables with SQLAlchemy Core, in bulk.

The single-stall API and the 10,000-row CSV import share these functions: a handful of
``executemany`` statements per batch instead of one ORM object per row (Core
executemany is ~8× faster than ``Session.add_all``). Callers own the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from market.merchants.history import CREATED, Change
from market.merchants.models import ChangeRecord, Merchant, PaymentAccount, Stall
from market.merchants.schemas import Account, ChangeOut, StallData
from market.merchants.search import search_text

__all__ = [
    "StoredStall",
    "account_owners",
    "accounts_table",
    "count_stalls",
    "insert_stalls",
    "load_history",
    "load_stalls",
    "set_card_reprint",
    "stalls",
    "update_stalls",
]

stalls = cast(sa.Table, Stall.__table__)
merchants = cast(sa.Table, Merchant.__table__)
accounts_table = cast(sa.Table, PaymentAccount.__table__)
changes = cast(sa.Table, ChangeRecord.__table__)

# Beyond this many ids, fetch every account rather than a huge IN list (SQLite caps parameters).
_IN_LIMIT = 500


class StoredStall(NamedTuple):
    """A stall as stored: its row id, its data, when it last changed, whether its card needs a reprint."""

    id: int
    data: StallData
    updated_at: dt.datetime
    card_reprint_needed: bool = False


_STALL_COLUMNS = (
    stalls.c.id,
    stalls.c.code,
    stalls.c.zone,
    stalls.c.row,
    stalls.c.category,
    stalls.c.area_m2,
    stalls.c.status,
    stalls.c.status_since,
    merchants.c.full_name,
    merchants.c.phone,
    merchants.c.zalo,
    merchants.c.national_id,
    merchants.c.trading_frequency,
    stalls.c.has_bank_account,
    stalls.c.has_payment_app,
    stalls.c.qr_issued_on,
    stalls.c.qr_displayed,
    stalls.c.no_cashless_reason,
    stalls.c.no_cashless_note,
    stalls.c.updated_at,
    stalls.c.card_reprint_needed,
)


def _load_accounts(conn: Connection, ids: Sequence[int] | None) -> dict[int, tuple[Account, ...]]:
    query = sa.select(
        accounts_table.c.stall_id,
        accounts_table.c.bank_bin,
        accounts_table.c.account_number,
        accounts_table.c.holder_name,
        accounts_table.c.kind,
        accounts_table.c.is_default,
    ).order_by(accounts_table.c.stall_id, accounts_table.c.position)
    if ids is not None:
        query = query.where(accounts_table.c.stall_id.in_(ids))
    found: dict[int, list[Account]] = defaultdict(list)
    for row in conn.execute(query):
        found[row.stall_id].append(
            Account(
                bank_bin=row.bank_bin,
                account_number=row.account_number,
                holder_name=row.holder_name,
                kind=row.kind,
                is_default=bool(row.is_default),
            )
        )
    return {stall_id: tuple(items) for stall_id, items in found.items()}


def load_stalls(
    conn: Connection,
    where: sa.ColumnElement[bool] | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    for_update: bool = False,
) -> list[StoredStall]:
    """Stalls matching ``where`` (all when ``None``), ordered by code, with holders and accounts."""
    query = sa.select(*_STALL_COLUMNS).join(merchants, merchants.c.stall_id == stalls.c.id).order_by(stalls.c.code)
    if where is not None:
        query = query.where(where)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    if for_update:
        # PostgreSQL: lock the row against a concurrent PATCH (SQLite's IMMEDIATE transaction already does).
        query = query.with_for_update(of=stalls)
    rows = conn.execute(query).all()
    ids = [row.id for row in rows]
    accounts = _load_accounts(conn, ids if where is not None and len(ids) <= _IN_LIMIT else None)
    return [
        StoredStall(
            id=row.id,
            data=StallData(
                code=row.code,
                zone=row.zone,
                row=row.row,
                category=row.category,
                area_m2=None if row.area_m2 is None else float(row.area_m2),
                status=row.status,
                status_since=row.status_since,
                full_name=row.full_name,
                phone=row.phone,
                zalo=row.zalo,
                national_id=row.national_id,
                trading_frequency=row.trading_frequency,
                has_bank_account=bool(row.has_bank_account),
                has_payment_app=bool(row.has_payment_app),
                qr_issued_on=row.qr_issued_on,
                qr_displayed=bool(row.qr_displayed),
                no_cashless_reason=row.no_cashless_reason,
                no_cashless_note=row.no_cashless_note,
                accounts=accounts.get(row.id, ()),
            ),
            updated_at=row.updated_at,
            card_reprint_needed=bool(row.card_reprint_needed),
        )
        for row in rows
    ]


def count_stalls(conn: Connection, where: sa.ColumnElement[bool] | None = None) -> int:
    """How many stalls match ``where``."""
    query = sa.select(sa.func.count()).select_from(stalls.join(merchants, merchants.c.stall_id == stalls.c.id))
    if where is not None:
        query = query.where(where)
    return int(conn.execute(query).scalar_one())


def account_owners(conn: Connection, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Which stall code holds each (BIN, account number) among ``keys``."""
    if not keys:
        return {}
    query = sa.select(accounts_table.c.bank_bin, accounts_table.c.account_number, stalls.c.code).join(
        stalls, stalls.c.id == accounts_table.c.stall_id
    )
    if len(keys) <= _IN_LIMIT:
        query = query.where(sa.tuple_(accounts_table.c.bank_bin, accounts_table.c.account_number).in_(list(keys)))
    wanted = set(keys)
    owners = {(row.bank_bin, row.account_number): row.code for row in conn.execute(query)}
    return {key: code for key, code in owners.items() if key in wanted}


def _stall_row(data: StallData, now: dt.datetime) -> dict[str, object]:
    return {
        "code": data.code,
        "zone": data.zone,
        "row": data.row,
        "category": data.category,
        "area_m2": data.area_m2,
        "status": data.status,
        "status_since": data.status_since,
        "has_bank_account": data.has_bank_account,
        "has_payment_app": data.has_payment_app,
        "qr_issued_on": data.qr_issued_on,
        "qr_displayed": data.qr_displayed,
        "no_cashless_reason": data.no_cashless_reason,
        "no_cashless_note": data.no_cashless_note,
        "search_text": search_text(data),
        "updated_at": now,
    }


def _merchant_row(stall_id: int, data: StallData) -> dict[str, object]:
    return {
        "stall_id": stall_id,
        "full_name": data.full_name,
        "phone": data.phone,
        "zalo": data.zalo,
        "national_id": data.national_id,
        "trading_frequency": data.trading_frequency,
    }


def _account_rows(stall_id: int, data: StallData) -> Iterable[dict[str, object]]:
    for position, account in enumerate(data.accounts):
        yield {
            "stall_id": stall_id,
            "position": position,
            "bank_bin": account.bank_bin,
            "account_number": account.account_number,
            "holder_name": account.holder_name,
            "kind": account.kind,
            "is_default": account.is_default,
        }


def _write_changes(conn: Connection, entries: list[dict[str, object]]) -> None:
    if entries:
        conn.execute(sa.insert(changes), entries)


def insert_stalls(conn: Connection, items: Sequence[StallData], actor: str, now: dt.datetime) -> list[int]:
    """Insert new stalls (holder, accounts, one "created" history entry each); returns their ids in order."""
    if not items:
        return []
    rows = [{**_stall_row(data, now), "created_at": now} for data in items]
    # A plain executemany, then the ids by code: INSERT … RETURNING for many rows goes through
    # SQLAlchemy's "insertmanyvalues" (one huge statement per 1,000 rows), which psycopg parses
    # several times slower than it pipelines a plain executemany.
    conn.execute(sa.insert(stalls), rows)
    codes = [data.code for data in items]
    query = sa.select(stalls.c.code, stalls.c.id)
    if len(codes) <= _IN_LIMIT:
        query = query.where(stalls.c.code.in_(codes))
    id_of = {row.code: row.id for row in conn.execute(query)}
    ids = [id_of[code] for code in codes]
    conn.execute(sa.insert(merchants), [_merchant_row(i, d) for i, d in zip(ids, items, strict=True)])
    account_rows = [row for i, d in zip(ids, items, strict=True) for row in _account_rows(i, d)]
    if account_rows:
        conn.execute(sa.insert(accounts_table), account_rows)
    _write_changes(
        conn,
        [
            {
                "stall_id": i,
                "at": now,
                "actor": actor,
                "field": CREATED,
                "old_value": None,
                "new_value": d.code,
                "note": None,
            }
            for i, d in zip(ids, items, strict=True)
        ],
    )
    return ids


def update_stalls(
    conn: Connection, items: Sequence[tuple[int, StallData, Sequence[Change]]], actor: str, now: dt.datetime
) -> None:
    """Write new versions of existing stalls (by id) with their history entries.

    Accounts of a stall whose accounts changed are replaced; every old row goes before any new
    one is inserted, so two stalls in one batch may swap an account.
    """
    if not items:
        return
    stall_rows = [{**_stall_row(data, now), "b_id": stall_id} for stall_id, data, _ in items]
    conn.execute(
        sa.update(stalls).where(stalls.c.id == sa.bindparam("b_id")),
        [{k: v for k, v in row.items() if k != "code"} for row in stall_rows],
    )
    conn.execute(
        sa.update(merchants).where(merchants.c.stall_id == sa.bindparam("b_id")),
        [{**_merchant_row(stall_id, data), "b_id": stall_id} for stall_id, data, _ in items],
    )
    replaced = [(stall_id, data) for stall_id, data, diffs in items if any(c.field == "accounts" for c in diffs)]
    if replaced:
        conn.execute(
            sa.delete(accounts_table).where(accounts_table.c.stall_id == sa.bindparam("b_id")),
            [{"b_id": stall_id} for stall_id, _ in replaced],
        )
        account_rows = [row for stall_id, data in replaced for row in _account_rows(stall_id, data)]
        if account_rows:
            conn.execute(sa.insert(accounts_table), account_rows)
    _write_changes(
        conn,
        [
            {
                "stall_id": stall_id,
                "at": now,
                "actor": actor,
                "field": c.field,
                "old_value": c.old,
                "new_value": c.new,
                "note": c.note,
            }
            for stall_id, _, diffs in items
            for c in diffs
        ],
    )


def load_history(conn: Connection, stall_id: int, limit: int, offset: int) -> tuple[list[ChangeOut], int]:
    """A stall's history entries, newest first, and how many there are in all."""
    total = conn.execute(sa.select(sa.func.count()).where(changes.c.stall_id == stall_id)).scalar_one()
    rows = conn.execute(
        sa.select(
            changes.c.at, changes.c.actor, changes.c.field, changes.c.old_value, changes.c.new_value, changes.c.note
        )
        .where(changes.c.stall_id == stall_id)
        # Newest change first; the fields of one change keep their order.
        .order_by(changes.c.at.desc(), changes.c.id)
        .limit(limit)
        .offset(offset)
    )
    items = [
        ChangeOut(at=r.at, actor=r.actor, field=r.field, old=r.old_value, new=r.new_value, note=r.note) for r in rows
    ]
    return items, int(total)


def set_card_reprint(conn: Connection, stall_ids: Collection[int], needed: bool) -> None:
    """Mark (or clear) the stalls' printed cards as showing accounts they no longer have."""
    if stall_ids:
        conn.execute(
            sa.update(stalls)
            .where(stalls.c.id.in_(sorted(stall_ids)), stalls.c.card_reprint_needed != needed)
            .values(card_reprint_needed=needed)
        )
