"""Commune report: survey indicators entered by hand, report settings (market.adoption.models).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from market.db import UTCDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_indicators",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("numerator", sa.BigInteger, nullable=False),
        sa.Column("denominator", sa.BigInteger, nullable=False),
        sa.Column("denominator_note", sa.Text),
        sa.Column("target_percent", sa.Numeric(5, 2, asdecimal=False)),
        sa.Column("surveyed_on", sa.Date, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_indicators"),
        sa.UniqueConstraint("key", "surveyed_on", name="uq_survey_indicators_key_surveyed_on"),
        sa.CheckConstraint(
            "denominator > 0 AND numerator >= 0 AND numerator <= denominator", name="ck_survey_indicators_fraction"
        ),
        sa.CheckConstraint(
            "target_percent IS NULL OR (target_percent >= 0 AND target_percent <= 100)",
            name="ck_survey_indicators_target",
        ),
    )
    op.create_table(
        "report_settings",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_report_settings"),
    )


def downgrade() -> None:
    op.drop_table("report_settings")
    op.drop_table("survey_indicators")
