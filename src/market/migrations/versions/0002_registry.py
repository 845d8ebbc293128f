"""Stall registry: stalls, holders, payment accounts, change history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from market.db import UTCDateTime

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stalls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("zone", sa.String(16), nullable=False),
        sa.Column("row", sa.String(32), nullable=True),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("area_m2", sa.Numeric(8, 2, asdecimal=False), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=True),
        sa.Column("has_bank_account", sa.Boolean(), nullable=False),
        sa.Column("has_payment_app", sa.Boolean(), nullable=False),
        sa.Column("qr_issued_on", sa.Date(), nullable=True),
        sa.Column("qr_displayed", sa.Boolean(), nullable=False),
        sa.Column("no_cashless_reason", sa.String(20), nullable=True),
        sa.Column("no_cashless_note", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stalls"),
        sa.UniqueConstraint("code", name="uq_stalls_code"),
    )
    op.create_index("ix_stalls_zone", "stalls", ["zone"])
    op.create_index("ix_stalls_category", "stalls", ["category"])
    op.create_index("ix_stalls_status", "stalls", ["status"])

    op.create_table(
        "merchants",
        sa.Column("stall_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(10), nullable=True),
        sa.Column("zalo", sa.String(10), nullable=True),
        sa.Column("national_id", sa.String(12), nullable=True),
        sa.Column("trading_frequency", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("stall_id", name="pk_merchants"),
        sa.ForeignKeyConstraint(["stall_id"], ["stalls.id"], name="fk_merchants_stall_id_stalls", ondelete="CASCADE"),
    )
    op.create_index("ix_merchants_phone", "merchants", ["phone"])

    op.create_table(
        "stall_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stall_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("bank_bin", sa.String(6), nullable=False),
        sa.Column("account_number", sa.String(19), nullable=False),
        sa.Column("holder_name", sa.String(70), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stall_accounts"),
        sa.ForeignKeyConstraint(
            ["stall_id"], ["stalls.id"], name="fk_stall_accounts_stall_id_stalls", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("bank_bin", "account_number", name="uq_stall_accounts_bank_bin_account_number"),
    )
    op.create_index("ix_stall_accounts_stall_id", "stall_accounts", ["stall_id"])
    # At most one default account per stall, in the database itself (partial unique index).
    op.create_index(
        "uq_stall_accounts_default",
        "stall_accounts",
        ["stall_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )

    op.create_table(
        "stall_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=True),
        sa.Column("stall_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stall_changes"),
        sa.ForeignKeyConstraint(
            ["stall_id"], ["stalls.id"], name="fk_stall_changes_stall_id_stalls", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_stall_changes_stall_id_id", "stall_changes", ["stall_id", "id"])


def downgrade() -> None:
    op.drop_table("stall_changes")
    op.drop_table("stall_accounts")
    op.drop_table("merchants")
    op.drop_table("stalls")
