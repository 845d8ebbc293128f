"""One original row per bank credit, enforced by the database: a unique partial index.

The same bank credit (receiving account and bank reference) may arrive through two providers; the
second copy is stored with status ``duplicate`` and ``duplicate_of`` its first copy. The journal
writer used to look each batch's references up (and, on PostgreSQL, take an advisory lock for
it); now ``(bank_reference, account_number)`` is unique among rows that are not duplicates, so a
batch's INSERT skips a second copy by itself and a batch of new credits needs no lookup. The
index replaces the plain one on the same columns, which only that lookup used.

Rows written before this revision already follow the rule; should any not (a copy stored as an
original), it is marked a duplicate of the earliest original first, so the index can be built,
and copies that named it as their first now name the earliest. Its receipts, if the matcher had
attributed it, stay in the ledger until ``market reconcile replay`` rebuilds it from the journal:
the upgrade logs a warning saying how many rows it marked.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# market.reconcile.ingest.models.ORIGINAL_CREDIT as of this revision (a migration keeps its own copy).
_ORIGINAL = "status <> 'duplicate' AND account_number <> '' AND bank_reference <> ''"
_FIRST_COPY = (
    "SELECT min(f.id) FROM notification_journal AS f WHERE f.bank_reference = notification_journal.bank_reference "
    "AND f.account_number = notification_journal.account_number AND f.status <> 'duplicate'"
)


def upgrade() -> None:
    marked = op.get_bind().execute(
        sa.text(
            f"UPDATE notification_journal SET status = 'duplicate', duplicate_of = ({_FIRST_COPY}) "
            f"WHERE {_ORIGINAL} AND id > ({_FIRST_COPY})"
        )
    )
    if marked.rowcount:
        # A duplicate's first copy is an original: those that named a row marked above follow it.
        op.execute(
            "UPDATE notification_journal SET duplicate_of = (SELECT f.duplicate_of FROM notification_journal AS f "
            "WHERE f.id = notification_journal.duplicate_of) WHERE duplicate_of IN "
            "(SELECT id FROM notification_journal WHERE status = 'duplicate')"
        )
        logging.getLogger("alembic.runtime.migration").warning(
            "0008: %d journal rows were second copies of a bank credit stored as originals; they are now its "
            "duplicates. Run `market reconcile replay` so that the ledger counts each credit once.",
            marked.rowcount,
        )
    op.drop_index("ix_notification_journal_bank_reference_account_number", table_name="notification_journal")
    op.create_index(
        "uq_notification_journal_bank_credit",
        "notification_journal",
        ["bank_reference", "account_number"],
        unique=True,
        sqlite_where=sa.text(_ORIGINAL),
        postgresql_where=sa.text(_ORIGINAL),
    )


def downgrade() -> None:
    op.drop_index("uq_notification_journal_bank_credit", table_name="notification_journal")
    op.create_index(
        "ix_notification_journal_bank_reference_account_number",
        "notification_journal",
        ["bank_reference", "account_number"],
    )
