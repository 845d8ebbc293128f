"""Bulk import of a registry CSV (or XLSX workbook): validate every row in Python, then write in one transaction.

All or nothing: a single bad row (or a file that is not CSV at all) writes nothing, and the
report names every problem by Excel row and column. Rows are laid over the stored stall, so
a column the file lacks keeps its stored value, and a row equal to what is stored writes
nothing at all (no history entry either): importing the same file twice changes nothing.

A row that changes an existing stall's accounts is, like any such change, a pending change that
waits for a second person (``market.merchants.account_changes``) unless approval is off; the
report names those rows. New stalls take their accounts at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from sqlalchemy.engine import Connection

from market.errors import InvalidInputError
from market.merchants import account_changes
from market.merchants.csvio import COLUMNS, CsvFileError, RowError, RowInput, read_rows
from market.merchants.history import diff
from market.merchants.schemas import Account, HolderIn, StallData, StallIn
from market.merchants.service import ImportPlan, apply_plan, plan_import
from market.merchants.stall_codes import normalize_stall_code
from market.merchants.store import StoredStall, load_stalls
from market.merchants.validation import to_input, validate_stall
from market.merchants.xlsxio import read_xlsx_rows

__all__ = ["ImportReport", "PendingRow", "import_csv"]

_LABELS = {c.name: c.label for c in COLUMNS}
_BY_PATH = {c.path: c.name for c in COLUMNS}
_ACCOUNT_PATH = re.compile(r"accounts\[(\d+)\](?:\.(\w+))?")
_READERS = {"csv": read_rows, "xlsx": read_xlsx_rows}


@dataclass(frozen=True)
class PendingRow:
    """A row whose new accounts wait for a second person: the change's id (``None`` on a dry run)."""

    row: int
    code: str
    change_id: int | None


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or with errors, would have done)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    pending: list[PendingRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file had no problems."""
        return not self.errors


def _column_of(path: str, shown: dict[str, str]) -> str:
    """The header (as written in the file) of the column behind a validation error's field path."""
    name = _BY_PATH.get(path)
    if name is None and (match := _ACCOUNT_PATH.fullmatch(path)):
        index, part = int(match.group(1)), match.group(2)
        name = "other_accounts" if index > 0 else _BY_PATH.get(f"accounts[0].{part}", "bank")
    elif name is None and path.startswith("accounts"):
        name = "bank"
    if name is None:
        return path
    return shown.get(name, _LABELS[name])


def _laid_over(base: StallIn, values: dict[str, Any]) -> StallIn:
    top: dict[str, Any] = {}
    holder: dict[str, Any] = {}
    onboarding: dict[str, Any] = {}
    for path, value in values.items():
        group, _, name = path.partition(".")
        if group == "holder":
            holder[name] = value
        elif group == "onboarding":
            onboarding[name] = value
        else:
            top[path] = value
    top["holder"] = msgspec.structs.replace(base.holder, **holder)
    top["onboarding"] = msgspec.structs.replace(base.onboarding, **onboarding)
    return msgspec.structs.replace(base, **top)


def _validate_rows(
    rows: list[RowInput],
    stored: dict[str, StoredStall],
    shown: dict[str, str],
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> tuple[dict[str, StallData], dict[str, int]]:
    """The valid rows' stalls by code, and the row each code is on; problems go to ``report``."""
    valid: dict[str, StallData] = {}
    first_row: dict[str, int] = {}
    code_column = shown["stall_code"]
    for row in rows:
        if progress is not None:
            progress(1)
        raw_code = row.values.get("code") or ""
        try:
            code = normalize_stall_code(raw_code)
        except ValueError as exc:
            report.errors.append(RowError(row.row, code_column, str(exc)))
            continue
        if code in first_row:
            report.errors.append(
                RowError(row.row, code_column, f"sạp {code} đã có ở dòng {first_row[code]} / duplicate stall")
            )
            continue
        first_row[code] = row.row
        existing = stored.get(code)
        base = to_input(existing.data) if existing else StallIn(code=code, holder=HolderIn(full_name=""))
        try:
            valid[code] = validate_stall(_laid_over(base, {**row.values, "code": code}))
        except InvalidInputError as exc:
            report.errors.extend(RowError(row.row, _column_of(e.field, shown), e.message) for e in exc.errors)
    _check_accounts(valid, first_row, shown, report)
    return valid, first_row


def _check_accounts(
    valid: dict[str, StallData], first_row: dict[str, int], shown: dict[str, str], report: ImportReport
) -> None:
    # An account belongs to one stall (payments are attributed by account): two rows may not share one.
    column = shown.get("account_number", _LABELS["account_number"])
    claimed: dict[tuple[str, str], str] = {}
    for code, data in valid.items():
        for account in data.accounts:
            key = (account.bank_bin, account.account_number)
            if key in claimed:
                other = claimed[key]
                report.errors.append(
                    RowError(
                        first_row[code],
                        column,
                        f"tài khoản {account.account_number} đã dùng cho sạp {other} (dòng {first_row[other]}) "
                        "/ account already used by another row",
                    )
                )
            claimed.setdefault(key, code)


# A stall of the file whose new accounts become a pending change: the stall, those accounts, its row.
_Proposal = tuple[StoredStall, tuple[Account, ...], int]


def _hold_accounts(
    plan: ImportPlan,
    stored: dict[str, StoredStall],
    first_row: dict[str, int],
    shown: dict[str, str],
    report: ImportReport,
) -> list[_Proposal]:
    """Take the account changes out of ``plan``: the rest of each row applies, its accounts wait."""
    column = shown.get("account_number", _LABELS["account_number"])
    held = {(a.bank_bin, a.account_number): s.data.code for s in stored.values() for a in s.data.accounts}
    by_id = {s.id: s for s in stored.values()}
    proposals: list[_Proposal] = []
    updates = []
    for stall_id, data, changes in plan.updates:
        existing = by_id[stall_id]
        if all(c.field != "accounts" for c in changes):
            updates.append((stall_id, data, changes))
            continue
        row = first_row[data.code]
        for account in data.accounts:
            holder = held.get((account.bank_bin, account.account_number))
            # Holders outside the file are reported by the plan already.
            if holder is not None and holder != data.code and holder in first_row:
                # Approved one at a time, a change cannot take an account another stall still holds.
                report.errors.append(
                    RowError(
                        row,
                        column,
                        f"sạp {data.code}: tài khoản {account.account_number} còn thuộc sạp {holder} "
                        "/ account still registered to another stall",
                    )
                )
        proposals.append((existing, data.accounts, row))
        try:
            others = validate_stall(to_input(msgspec.structs.replace(data, accounts=existing.data.accounts)))
        except InvalidInputError as exc:
            report.errors.extend(RowError(row, _column_of(e.field, shown), e.message) for e in exc.errors)
            continue
        if changes := diff(existing.data, others):
            updates.append((stall_id, others, changes))
    plan.updates = updates
    return proposals


def _note_without_approval(plan: ImportPlan) -> list[int]:
    """Mark the history of each change of accounts in ``plan`` as applied without approval; their stall ids."""
    changed = []
    for index, (stall_id, data, changes) in enumerate(plan.updates):
        if any(c.field == "accounts" for c in changes):
            note = account_changes.APPLIED_WITHOUT_APPROVAL
            marked = [c._replace(note=note) if c.field == "accounts" else c for c in changes]
            plan.updates[index] = (stall_id, data, marked)
            changed.append(stall_id)
    return changed


def import_csv(
    conn: Connection,
    data: bytes,
    actor: str,
    *,
    approval: bool = True,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
    file_format: Literal["csv", "xlsx"] = "csv",
) -> ImportReport:
    """Import a registry CSV (or workbook) in the caller's transaction; write only when every row is valid.

    The caller commits when ``report.written`` is true (and rolls back otherwise).
    ``on_rows`` is told how many data rows there are before validation starts (for a progress
    bar), ``progress`` is called once per row validated. ``approval``: whether a change of an
    existing stall's accounts waits for a second person (``MARKET_ACCOUNT_CHANGE_APPROVAL``).
    """
    report = ImportReport()
    try:
        rows, shown, errors = _READERS[file_format](data)
    except CsvFileError as exc:
        report.errors = exc.errors
        return report
    report.rows = len(rows)
    report.errors.extend(errors)
    if on_rows is not None:
        on_rows(len(rows))
    stored = {s.data.code: s for s in load_stalls(conn)}
    valid, first_row = _validate_rows(rows, stored, shown, report, progress)
    plan = plan_import(stored, valid)
    for claimant, number, holder in plan.account_conflicts:
        report.errors.append(
            RowError(
                first_row[claimant],
                shown.get("account_number", _LABELS["account_number"]),
                f"sạp {claimant}: tài khoản {number} đang thuộc sạp {holder} / account registered to another stall",
            )
        )
    proposals = _hold_accounts(plan, stored, first_row, shown, report) if approval else []
    report.errors.sort(key=lambda e: e.row)
    report.created, report.updated, report.unchanged = len(plan.creates), len(plan.updates), plan.unchanged
    report.pending = [PendingRow(row, existing.data.code, None) for existing, _, row in proposals]
    if report.errors or dry_run:
        return report
    changed_accounts = _note_without_approval(plan)
    apply_plan(conn, plan, actor)
    account_changes.applied_without_approval(conn, changed_accounts, actor)
    report.pending = [
        PendingRow(row, existing.data.code, account_changes.propose(conn, existing, accounts, actor).id)
        for existing, accounts, row in proposals
    ]
    report.written = True
    return report
