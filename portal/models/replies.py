"""What patients answer: each inbound SMS once, and what it means for each practice it reached."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

MATCHES = ("matched", "ambiguous", "unmatched")
CONFIRMATION_STATES = ("pending", "sending", "sent", "failed")


class InboundMessage(db.Model):
    """One SMS a patient sent to the reply number, recorded once per provider message ID."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_message_id: Mapped[str] = mapped_column(String(64), unique=True)
    # E.164 (or the provider's digits when no number can be read); purged with the text.
    originator: Mapped[str | None] = mapped_column(String(20))
    recipient: Mapped[str | None] = mapped_column(String(20))
    # Kept here only when no practice could be found; else each practice's reply holds it.
    body: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    intent: Mapped[str] = mapped_column(String(16))
    match: Mapped[str] = mapped_column(String(12))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reply(db.Model):
    """An inbound SMS as one practice's reply: an entry of its feed, and of the appointment's timeline.

    `seq` is the feed's cursor, counted per practice and taken under a lock
    held until the commit (`portal.replies.next_seq`), so a reader never sees
    a higher number before a lower one is committed.
    """

    __tablename__ = "replies"
    __table_args__ = (
        UniqueConstraint("practice_id", "seq", name="uq_replies_practice_seq"),
        UniqueConstraint("inbound_message_id", "practice_id", name="uq_replies_message_practice"),
        Index("ix_replies_appointment", "appointment_id"),
        Index("ix_replies_patient", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    seq: Mapped[int]
    inbound_message_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id"))
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id"))
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(24))  # the feed's: confirmed, cancellation_requested, ...
    intent: Mapped[str] = mapped_column(String(16))  # what the text said (domain.replies.INTENTS)
    ambiguous: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the patient sent it
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The one SMS answering a STOP: pending until the job sent it.
    confirmation: Mapped[str | None] = mapped_column(String(10))
    confirmation_message_id: Mapped[str | None] = mapped_column(String(64))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practice: Mapped["Practice"] = relationship()
    appointment: Mapped["Appointment"] = relationship()
    patient: Mapped["Patient"] = relationship()
    inbound_message: Mapped[InboundMessage] = relationship()
