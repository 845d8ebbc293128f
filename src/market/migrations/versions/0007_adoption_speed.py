"""Adoption figures at province scale: a monthly rollup and a covering index on the daily one.

- ``stall_months``: ``stall_days`` summed per stall and calendar month, kept by the matching
  driver with the same deltas; the 12-month trend reads it (~12 rows per stall, not ~365).
  Filled here from ``stall_days``.
- The ``stall_days`` index by day also carries ``receipts`` and ``value`` (as key columns, which
  both databases support, rather than PostgreSQL's ``INCLUDE``), so scanning a window of days
  reads the index alone, never the table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The first day of a day's month, per dialect (dates are ISO text on SQLite).
_MONTH_OF_DAY = {"sqlite": "date(day, 'start of month')", "postgresql": "CAST(date_trunc('month', day) AS date)"}


def upgrade() -> None:
    op.create_table(
        "stall_months",
        sa.Column(
            "stall_id", sa.Integer, sa.ForeignKey("stalls.id", name="fk_stall_months_stall_id_stalls"), nullable=False
        ),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("receipts", sa.Integer, nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("stall_id", "month", name="pk_stall_months"),
    )
    month = _MONTH_OF_DAY[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO stall_months (stall_id, month, receipts, value) "
        f"SELECT stall_id, {month}, SUM(receipts), SUM(value) FROM stall_days GROUP BY stall_id, {month}"
    )
    op.create_index("ix_stall_days_day_stall_id_receipts_value", "stall_days", ["day", "stall_id", "receipts", "value"])
    op.drop_index("ix_stall_days_day_stall_id", table_name="stall_days")


def downgrade() -> None:
    op.create_index("ix_stall_days_day_stall_id", "stall_days", ["day", "stall_id"])
    op.drop_index("ix_stall_days_day_stall_id_receipts_value", table_name="stall_days")
    op.drop_table("stall_months")
