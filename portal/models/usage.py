"""Daily SMS totals per practice, kept by the database as reminders change (migration 0010).

Triggers on `reminders` append each change of a reminder's usage series (delivered, delivery
failed, pending, refused, outcome unknown) with its day to `usage_deltas`; the scheduler folds
them into `usage_days` (`portal.usage.fold`). The usage page reads both, so its figures are
current to the last commit, and it reads a row per practice and day instead of every SMS.
"""
from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# The series and the columns of usage_days: submitted = delivered + delivery_failed + pending.
USAGE_SERIES = ("delivered", "delivery_failed", "pending", "refused", "outcome_unknown")


class UsageDay(db.Model):
    __tablename__ = "usage_days"
    __table_args__ = (
        # All practices' days: the period from the index alone (PostgreSQL: INCLUDE).
        Index("ix_usage_days_day", "day", postgresql_include=["practice_id", *USAGE_SERIES]),
    )

    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    delivered: Mapped[int] = mapped_column(default=0)
    delivery_failed: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    outcome_unknown: Mapped[int] = mapped_column(default=0)


class UsageDelta(db.Model):
    """Appended by the triggers only: no row is ever updated, so concurrent writers never wait for each other."""
    __tablename__ = "usage_deltas"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    day: Mapped[date] = mapped_column(Date)
    series: Mapped[str] = mapped_column(String(16))
    delta: Mapped[int]
