"""Registry tables: stalls (with their onboarding state), holders, payment accounts, change history.

One holder per stall: the market office registers the person who trades at the stall, and the
stall's card shows that person's account. The onboarding state lives on the stall row because
every adoption figure is "stalls with …".
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db import Base, UTCDateTime, utcnow

__all__ = ["ChangeRecord", "Merchant", "PaymentAccount", "Stall"]

# History grows with every edit of every stall; BIGINT on PostgreSQL, INTEGER (rowid) on SQLite.
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Stall(Base):
    """A business point (sạp, quầy, ki-ốt) and where its holder stands on taking cashless payments."""

    __tablename__ = "stalls"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    zone: Mapped[str] = mapped_column(sa.String(16), index=True)
    row: Mapped[str | None] = mapped_column(sa.String(32))
    category: Mapped[str] = mapped_column(sa.String(20), index=True)
    area_m2: Mapped[float | None] = mapped_column(sa.Numeric(8, 2, asdecimal=False))
    status: Mapped[str] = mapped_column(sa.String(10), index=True)
    status_since: Mapped[dt.date | None] = mapped_column(sa.Date)
    has_bank_account: Mapped[bool] = mapped_column(sa.Boolean)
    has_payment_app: Mapped[bool] = mapped_column(sa.Boolean)
    qr_issued_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    qr_displayed: Mapped[bool] = mapped_column(sa.Boolean)
    no_cashless_reason: Mapped[str | None] = mapped_column(sa.String(20))
    no_cashless_note: Mapped[str | None] = mapped_column(sa.Text)
    # Folded (lower-case, no diacritics) code, name and phone numbers, so that the database filters
    # "nguyen" → "Nguyễn" with a plain LIKE on SQLite and PostgreSQL alike.
    search_text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    holder: Mapped[Merchant] = relationship(back_populates="stall", uselist=False)
    accounts: Mapped[list[PaymentAccount]] = relationship(back_populates="stall", order_by="PaymentAccount.position")


class Merchant(Base):
    """The stall holder (tiểu thương). The national ID is sensitive: stored, shown only when asked."""

    __tablename__ = "merchants"

    stall_id: Mapped[int] = mapped_column(sa.ForeignKey("stalls.id", ondelete="CASCADE"), primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str | None] = mapped_column(sa.String(10), index=True)
    zalo: Mapped[str | None] = mapped_column(sa.String(10))
    national_id: Mapped[str | None] = mapped_column(sa.String(12))
    trading_frequency: Mapped[str] = mapped_column(sa.String(10))

    stall: Mapped[Stall] = relationship(back_populates="holder")


class PaymentAccount(Base):
    """An account that receives the stall's transfers; exactly one per stall is the card's default.

    An account belongs to one stall only: an incoming transfer is attributed to a stall by the
    account it reached, so two stalls sharing one would make their payments indistinguishable.
    """

    __tablename__ = "stall_accounts"
    __table_args__ = (
        sa.UniqueConstraint("bank_bin", "account_number"),
        # At most one default per stall, enforced by the database (partial unique index; both
        # SQLite and PostgreSQL support them); "at least one" is the service's job.
        sa.Index(
            "uq_stall_accounts_default",
            "stall_id",
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stall_id: Mapped[int] = mapped_column(sa.ForeignKey("stalls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer)
    bank_bin: Mapped[str] = mapped_column(sa.String(6))
    account_number: Mapped[str] = mapped_column(sa.String(19))
    holder_name: Mapped[str] = mapped_column(sa.String(70))
    kind: Mapped[str] = mapped_column(sa.String(16))
    is_default: Mapped[bool] = mapped_column(sa.Boolean)

    stall: Mapped[Stall] = relationship(back_populates="accounts")


class ChangeRecord(Base):
    """One field of one stall changed: who, when, old → new (``None`` = empty)."""

    __tablename__ = "stall_changes"
    __table_args__ = (sa.Index("ix_stall_changes_stall_id_id", "stall_id", "id"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    stall_id: Mapped[int] = mapped_column(sa.ForeignKey("stalls.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(64))
    field: Mapped[str] = mapped_column(sa.String(40))
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
