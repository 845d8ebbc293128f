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

__all__ = ["AccountChange", "ChangeRecord", "Merchant", "PaymentAccount", "Stall"]

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
    # The printed card shows an account that is no longer the stall's: set when a change of accounts
    # takes effect, cleared when a card is issued again.
    card_reprint_needed: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
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
    # How a change of accounts was let through: who approved whose request, or that nobody had to.
    note: Mapped[str | None] = mapped_column(sa.Text)


class AccountChange(Base):
    """A proposed new list of receiving accounts for a stall, waiting for a second person.

    Money cannot be redirected by one person: the stall keeps its accounts until someone other than
    the requester approves. ``old_accounts`` is what the requester saw, so an approval applies
    exactly the change the approver was shown. Accounts are stored in the validated ``Account`` shape.
    """

    __tablename__ = "account_changes"
    __table_args__ = (
        sa.CheckConstraint("state IN ('pending', 'approved', 'rejected', 'superseded')", name="state"),
        sa.Index("ix_account_changes_state_stall_id", "state", "stall_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stall_id: Mapped[int] = mapped_column(sa.ForeignKey("stalls.id", ondelete="CASCADE"), index=True)
    old_accounts: Mapped[list[dict[str, object]]] = mapped_column(sa.JSON)
    new_accounts: Mapped[list[dict[str, object]]] = mapped_column(sa.JSON)
    state: Mapped[str] = mapped_column(sa.String(10))
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(sa.Text)
