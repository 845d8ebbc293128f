"""The notification journal (market.reconcile.ingest.models.JournalEntry).

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from market.db import UTCDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notification_journal",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_txn_id", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("review_reason", sa.Text),
        sa.Column("duplicate_of", _Id),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("memo", sa.Text, nullable=False),
        sa.Column("transferred_at", UTCDateTime, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("bank_reference", sa.Text),
        sa.Column("account_number", sa.Text),
        sa.Column("bank_bin", sa.Text),
        sa.Column("virtual_account", sa.Text),
        sa.Column("order_code", sa.Text),
        sa.Column("counterparty_name", sa.Text),
        sa.Column("counterparty_account", sa.Text),
        sa.Column("counterparty_bank", sa.Text),
        sa.Column("auth", sa.String(64), nullable=False),
        sa.Column("raw_body", sa.LargeBinary, nullable=False),
        sa.Column("raw_headers", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_journal"),
        sa.UniqueConstraint("provider", "provider_txn_id", name="uq_notification_journal_provider_provider_txn_id"),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["notification_journal.id"],
            name="fk_notification_journal_duplicate_of_notification_journal",
        ),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f("ck_notification_journal_direction")),
        sa.CheckConstraint(
            "(amount > 0) = (direction = 'in') AND amount <> 0", name=op.f("ck_notification_journal_amount_sign")
        ),
    )
    op.create_index(
        "ix_notification_journal_bank_reference_account_number",
        "notification_journal",
        ["bank_reference", "account_number"],
    )
    op.create_index("ix_notification_journal_status_id", "notification_journal", ["status", "id"])


def downgrade() -> None:
    op.drop_table("notification_journal")
