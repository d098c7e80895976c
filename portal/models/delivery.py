"""Delivery reports from the provider, each recorded exactly once."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class DeliveryReport(db.Model):
    __tablename__ = "delivery_reports"
    __table_args__ = (
        # The same report delivered twice is recorded once. Not by recipient: we submit one
        # recipient per message, the column is NULL in some reports (NULLs never collide) and
        # is purged with the message text.
        UniqueConstraint("provider_message_id", "status", "status_at", name="uq_delivery_reports_report"),
        Index("ix_delivery_reports_reminder", "reminder_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL for an orphan: a report for a message we do not know (yet).
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id"))
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practices.id"), index=True)
    provider_message_id: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str | None] = mapped_column(String(128))
    recipient: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    status_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_reason: Mapped[str | None] = mapped_column(String(100))
    status_error_code: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Everything else the provider sent; purged with the message text.
    details: Mapped[dict | None] = mapped_column(JSON)

    reminder: Mapped["Reminder | None"] = relationship()


class WebhookNonce(db.Model):
    """A `jti` already accepted, so a replayed signed request is refused."""

    __tablename__ = "webhook_nonces"

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
