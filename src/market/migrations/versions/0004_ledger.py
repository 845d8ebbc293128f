"""The ledger: payment intents, receipts, the review queue, the per-stall-day rollup, the checkpoint.

Joins the registry (0002) and journal (0003) branches: receipts point at both.

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from market.db import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = ("0002", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "payment_intents",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column(
            "stall_id",
            sa.Integer,
            sa.ForeignKey("stalls.id", name="fk_payment_intents_stall_id_stalls"),
            nullable=False,
        ),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("paid_amount", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_payment_intents_amount_positive"),
        sa.PrimaryKeyConstraint("id", name="pk_payment_intents"),
        sa.UniqueConstraint("code", name="uq_payment_intents_code"),
    )
    op.create_index("ix_payment_intents_stall_id_state", "payment_intents", ["stall_id", "state"])

    op.create_table(
        "receipts",
        sa.Column("id", _Id, autoincrement=True),
        sa.Column(
            "journal_id",
            _Id,
            sa.ForeignKey("notification_journal.id", name="fk_receipts_journal_id_notification_journal"),
            nullable=False,
        ),
        sa.Column(
            "stall_id", sa.Integer, sa.ForeignKey("stalls.id", name="fk_receipts_stall_id_stalls"), nullable=False
        ),
        sa.Column("intent_id", _Id, sa.ForeignKey("payment_intents.id", name="fk_receipts_intent_id_payment_intents")),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("local_day", sa.Date, nullable=False),
        sa.Column("reverses_id", _Id, sa.ForeignKey("receipts.id", name="fk_receipts_reverses_id_receipts")),
        sa.Column("is_reversed", sa.Boolean, nullable=False),
        sa.Column("flag", sa.String(24)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_receipts"),
        sa.UniqueConstraint("journal_id", name="uq_receipts_journal_id"),
    )
    op.create_index("ix_receipts_stall_id_local_day", "receipts", ["stall_id", "local_day"])
    op.create_index("ix_receipts_intent_id", "receipts", ["intent_id"])
    op.create_index("ix_receipts_local_day", "receipts", ["local_day"])

    op.create_table(
        "review_items",
        sa.Column("id", _Id, autoincrement=True),
        sa.Column(
            "journal_id",
            _Id,
            sa.ForeignKey("notification_journal.id", name="fk_review_items_journal_id_notification_journal"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("suggestions", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("resolution", sa.String(12)),
        sa.Column(
            "resolved_stall_id", sa.Integer, sa.ForeignKey("stalls.id", name="fk_review_items_resolved_stall_id_stalls")
        ),
        sa.Column(
            "resolved_intent_id",
            _Id,
            sa.ForeignKey("payment_intents.id", name="fk_review_items_resolved_intent_id_payment_intents"),
        ),
        sa.Column("resolved_by", sa.String(64)),
        sa.Column("resolved_at", UTCDateTime),
        sa.Column("resolution_note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_review_items"),
        sa.UniqueConstraint("journal_id", name="uq_review_items_journal_id"),
    )

    op.create_table(
        "stall_days",
        sa.Column(
            "stall_id", sa.Integer, sa.ForeignKey("stalls.id", name="fk_stall_days_stall_id_stalls"), nullable=False
        ),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("receipts", sa.Integer, nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("stall_id", "day", name="pk_stall_days"),
    )
    op.create_index("ix_stall_days_day_stall_id", "stall_days", ["day", "stall_id"])

    op.create_table(
        "match_checkpoint",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("last_journal_id", _Id, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_match_checkpoint"),
    )


def downgrade() -> None:
    op.drop_table("match_checkpoint")
    op.drop_index("ix_stall_days_day_stall_id", table_name="stall_days")
    op.drop_table("stall_days")
    op.drop_table("review_items")
    op.drop_index("ix_receipts_local_day", table_name="receipts")
    op.drop_index("ix_receipts_intent_id", table_name="receipts")
    op.drop_index("ix_receipts_stall_id_local_day", table_name="receipts")
    op.drop_table("receipts")
    op.drop_index("ix_payment_intents_stall_id_state", table_name="payment_intents")
    op.drop_table("payment_intents")
