"""Reminders: the plan for one SMS per appointment and start time."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

REMINDER_STATUSES = ("planned", "skipped", "cancelled", "queued", "submitted", "failed")
# What the SMS is: the reminder, or a notice that the appointment was moved or cancelled after an SMS went out.
REMINDER_KINDS = ("reminder", "moved_notice", "cancelled_notice")
DELIVERY_STATUSES = ("scheduled", "buffered", "sent", "delivered", "delivery_failed", "expired")


class Reminder(db.Model):
    __tablename__ = "reminders"
    __table_args__ = (
        # Never two SMS of one kind for one appointment and start time: a move back to an
        # earlier time reuses that time's reminder (or notice) instead of adding one.
        UniqueConstraint("appointment_id", "start_at", "kind", name="uq_reminders_appointment_start_kind"),
        CheckConstraint(
            "status in ('planned', 'skipped', 'cancelled', 'queued', 'submitted', 'failed')", name="status"
        ),
        CheckConstraint("kind in ('reminder', 'moved_notice', 'cancelled_notice')", name="kind"),
        # The dispatcher takes each kind of claimable reminder from its own index, in order, so that
        # a burst of 100,000 due in the same minute is not sorted again for every chunk it claims.
        Index("ix_reminders_due", "status", "due_at", "id"),
        Index("ix_reminders_retry", "next_attempt_at",
              postgresql_where=text("status = 'queued' AND claim_token IS NULL"),
              sqlite_where=text("status = 'queued' AND claim_token IS NULL")),
        Index("ix_reminders_claimed", "claimed_at",
              postgresql_where=text("status = 'queued' AND submit_started_at IS NULL"),
              sqlite_where=text("status = 'queued' AND submit_started_at IS NULL")),
        Index("ix_reminders_practice_status", "practice_id", "status"),
        # A practice's reminders list: its order, filters and count from the index alone (PostgreSQL: INCLUDE).
        Index("ix_reminders_practice_start", "practice_id", "start_at",
              postgresql_include=["id", "status", "appointment_id"]),
        # Failures by the time of the attempt (the outcome checks and the metrics).
        Index("ix_reminders_failures", "status", "submit_started_at",
              postgresql_include=["practice_id", "claimed_at", "due_at", "provider_error_code"]),
        # A patient's reply is matched to the reminders submitted to their number.
        Index("ix_reminders_recipient_submitted", "recipient", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"))
    # For a notice: the start it names (a move's new start; the start the patient was told of for a cancel).
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20), default="reminder", server_default="reminder")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Sending: a claim by a dispatcher, then the submission as it was made.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set (and committed) just before the provider is called: a crash after
    # this point may have sent the SMS, and support must be able to see that.
    submit_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    body: Mapped[str | None] = mapped_column(Text)
    recipient: Mapped[str | None] = mapped_column(String(20))
    sender: Mapped[str | None] = mapped_column(String(17))
    encoding: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[int | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    provider_error_code: Mapped[str | None] = mapped_column(String(20))
    provider_error_text: Mapped[str | None] = mapped_column(String(500))
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivery_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the retention job removed the text and recipient.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped["Appointment"] = relationship()
    practice: Mapped["Practice"] = relationship()
