"""Account changes wait for a second person: ``account_changes``, the card reprint flag, history notes.

- ``account_changes``: a proposed list of a stall's receiving accounts, pending until someone other
  than the requester approves it (market.merchants.account_changes).
- ``stalls.card_reprint_needed``: the printed card shows accounts the stall no longer has.
- ``stall_changes.note``: how a change of accounts was let through (approved by whom, or without
  a second person because the market turned approval off).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from market.db import UTCDateTime

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stalls") as batch:
        batch.add_column(sa.Column("card_reprint_needed", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("stall_changes") as batch:
        batch.add_column(sa.Column("note", sa.Text))
    op.create_table(
        "account_changes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("stall_id", sa.Integer, nullable=False),
        sa.Column("old_accounts", sa.JSON, nullable=False),
        sa.Column("new_accounts", sa.JSON, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", UTCDateTime),
        sa.Column("reason", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_account_changes"),
        sa.ForeignKeyConstraint(
            ["stall_id"], ["stalls.id"], name="fk_account_changes_stall_id_stalls", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'rejected', 'superseded')", name="ck_account_changes_state"
        ),
    )
    op.create_index("ix_account_changes_stall_id", "account_changes", ["stall_id"])
    op.create_index("ix_account_changes_state_stall_id", "account_changes", ["state", "stall_id"])


def downgrade() -> None:
    op.drop_table("account_changes")
    with op.batch_alter_table("stall_changes") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("stalls") as batch:
        batch.drop_column("card_reprint_needed")
