"""Tables of the commune report: survey indicators entered by hand, and the report's settings.

Some "Xã hội số" indicators cannot be measured by the platform (residents'
smartphone use, working-age people with an online payment account): the commune enters them
from its survey, as a numerator and a denominator with the survey's date and source, and the
report shows them marked as such. Targets and the report's letterhead (issuing body, place,
signatory) are settings the commune changes without a new release.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, UTCDateTime, utcnow

__all__ = ["ReportSetting", "SurveyIndicator"]


class SurveyIndicator(Base):
    """One survey result: ``numerator`` of ``denominator`` as surveyed on ``surveyed_on``."""

    __tablename__ = "survey_indicators"
    __table_args__ = (
        # One value per indicator per survey date; entering it again corrects it.
        sa.UniqueConstraint("key", "surveyed_on"),
        sa.CheckConstraint("denominator > 0 AND numerator >= 0 AND numerator <= denominator", name="fraction"),
        sa.CheckConstraint("target_percent IS NULL OR (target_percent >= 0 AND target_percent <= 100)", name="target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.Text)
    numerator: Mapped[int] = mapped_column(sa.BigInteger)
    denominator: Mapped[int] = mapped_column(sa.BigInteger)
    # Who the denominator counts: "độ tuổi lao động" is not the national "15 tuổi trở lên".
    denominator_note: Mapped[str | None] = mapped_column(sa.Text)
    target_percent: Mapped[float | None] = mapped_column(sa.Numeric(5, 2, asdecimal=False))
    surveyed_on: Mapped[dt.date] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.Text)
    recorded_by: Mapped[str] = mapped_column(sa.String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportSetting(Base):
    """One setting of the commune report (letterhead, signatory, a target), as text."""

    __tablename__ = "report_settings"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
