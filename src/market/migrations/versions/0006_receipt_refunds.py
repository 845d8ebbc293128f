"""Receipts remember what is owed back and what was taken back (``refund_due``, ``reversed_amount``).

The matching driver rebuilds the core's book from the ledger after a restart; a refund can only
be tied to the right receipt when the receipt's outstanding refund and reversed total survive.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(sa.Column("refund_due", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("reversed_amount", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("reversed_amount")
        batch.drop_column("refund_due")
