"""Baseline: an empty schema that every later migration builds on.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Creating the alembic_version table is all the baseline does; tables arrive with their packages.
    pass


def downgrade() -> None:
    pass
