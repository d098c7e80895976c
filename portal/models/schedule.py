"""What the practice program syncs: patients, appointments and their history."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..domain.search_keys import name_key, phone_key
from ..extensions import db
from .base import UTCDateTime, utcnow

CHANGE_SOURCES = ("calendar_drag", "clipboard_drag", "dialog", "import")
# Every kind of timeline entry (see AppointmentEvent), for the API's enum.
EVENT_KINDS = (
    "created", "restored", "moved", "tick_changed", "patient_changed", "cancelled",
    "planned", "skipped", "reminder_cancelled", "replanned",
    "claimed", "send_retry", "submitted", "failed", "outcome_unknown", "submission_confirmed",
    "delivery_report", "outcome_check", "outcome_resent", "reply", "reply_answered",
)


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("practice_id", "external_id"),
        # Trigram index on PostgreSQL: a word anywhere in the key is found without a scan.
        Index("ix_patients_name_key", "name_key", postgresql_using="gin",
              postgresql_ops={"name_key": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    # The practice program's own ID; unique within the practice only.
    external_id: Mapped[str] = mapped_column(String(64))
    salutation: Mapped[str | None] = mapped_column(String(40))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    mobile_raw: Mapped[str | None] = mapped_column(String(64))
    mobile_e164: Mapped[str | None] = mapped_column(String(20), index=True)
    # missing_mobile / invalid_mobile, with a human-readable detail.
    mobile_problem: Mapped[str | None] = mapped_column(String(20))
    mobile_problem_detail: Mapped[str | None] = mapped_column(String(200))
    sms_consent: Mapped[bool] = mapped_column(default=False)
    # Set when consent was taken back: support tells "never consented" from "withdrew".
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the patient replied STOP, with the revision then: only a newer record gives consent again.
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opted_out_revision: Mapped[int | None]
    # Search keys (domain.search_keys), kept in step with the names and the number.
    name_key: Mapped[str | None] = mapped_column(String(210))
    mobile_key: Mapped[str | None] = mapped_column(String(64), index=True)
    revision: Mapped[int] = mapped_column(default=0)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    practice: Mapped["Practice"] = relationship()

    @validates("first_name", "last_name")
    def _keep_name_key(self, key: str, value: str | None) -> str | None:
        names = {"first_name": self.first_name, "last_name": self.last_name, key: value}
        self.name_key = name_key(names["first_name"], names["last_name"])
        return value

    @validates("mobile_raw")
    def _keep_mobile_key(self, key: str, value: str | None) -> str | None:
        self.mobile_key = phone_key(value)
        return value

    @validates("sms_consent")
    def _note_withdrawal(self, key: str, value: bool) -> bool:
        if self.sms_consent and not value:
            self.consent_withdrawn_at = utcnow()
        return value


class Appointment(db.Model):
    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("practice_id", "external_id"),
        Index("ix_appointments_practice_start", "practice_id", "start_at"),
        # Support looks up the practice program's ID without knowing the practice.
        Index("ix_appointments_external_id", "external_id"),
        # A common surname in every practice: its newest appointments, walked in order (support._named).
        Index("ix_appointments_start", "start_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The offset the program sent, in minutes, so times come back as given.
    start_offset_minutes: Mapped[int] = mapped_column(default=0)
    duration_minutes: Mapped[int | None]
    therapist: Mapped[str | None] = mapped_column(String(100))
    sms_reminder: Mapped[bool] = mapped_column(default=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    practice: Mapped["Practice"] = relationship()
    patient: Mapped[Patient] = relationship()
    events: Mapped[list["AppointmentEvent"]] = relationship(
        back_populates="appointment", order_by="AppointmentEvent.id"
    )


class AppointmentEvent(db.Model):
    """One entry of an appointment's timeline, for support.

    kinds: from the practice program created, moved, tick_changed, cancelled,
    restored; from planning planned, skipped, reminder_cancelled, replanned;
    from sending claimed, send_retry, submitted, failed, outcome_unknown,
    submission_confirmed, outcome_check, outcome_resent; from the webhook delivery_report
    and reply (a patient's answer); reply_answered (the SMS confirming a STOP).
    `data` holds what the kind needs (from/to, reason, text, error code...).
    """

    __tablename__ = "appointment_events"
    __table_args__ = (Index("ix_appointment_events_appointment", "appointment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"))
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    change_source: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[dict | None] = mapped_column(JSON)

    appointment: Mapped[Appointment] = relationship(back_populates="events")
