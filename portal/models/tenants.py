"""Tenants: practice groups, practices, their licences and API keys."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

LICENCE_STATUSES = ("active", "suspended", "revoked")


class SettingsColumns:
    """Overridable settings; NULL means "inherit from the level above"."""

    send_policy: Mapped[str | None] = mapped_column(String(20))
    send_time: Mapped[str | None] = mapped_column(String(5))
    hours_before: Mapped[int | None]
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    min_lead_minutes: Mapped[int | None]
    template: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(17))
    timezone: Mapped[str | None] = mapped_column(String(64))
    change_notice: Mapped[bool | None]
    change_template_moved: Mapped[str | None] = mapped_column(Text)
    change_template_cancelled: Mapped[str | None] = mapped_column(Text)
    replies_enabled: Mapped[bool | None]
    reply_line: Mapped[str | None] = mapped_column(String(160))


class PracticeGroup(SettingsColumns, db.Model):
    __tablename__ = "practice_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    practices: Mapped[list["Practice"]] = relationship(back_populates="group", order_by="Practice.slug")


class Practice(SettingsColumns, db.Model):
    __tablename__ = "practices"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("practice_groups.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    sms_enabled: Mapped[bool] = mapped_column(default=False)
    # When the practice program last called the API: support's "is it online?".
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[PracticeGroup] = relationship(back_populates="practices")
    licences: Mapped[list["Licence"]] = relationship(
        back_populates="practice", order_by="Licence.id.desc()", cascade="all, delete-orphan"
    )

    @property
    def licence(self) -> "Licence | None":
        """The latest licence grant or change, as the admin screens show it.

        It may start in the future: whether SMS may be sent asks `licence_on`.
        """
        return self.licences[0] if self.licences else None

    def licence_on(self, day: date) -> "Licence | None":
        """The licence in force on `day`: the newest row that has begun by then.

        A renewal granted ahead of time does not cut off the licence running
        today; a newer row that has begun replaces the older ones, also when it
        ends earlier than they would (a licence shortened, suspended, revoked).
        """
        return next((licence for licence in self.licences if licence.valid_from <= day), None)

    def has_active_licence(self, today: date) -> bool:
        licence = self.licence_on(today)
        return licence is not None and licence.is_active(today)


class Licence(db.Model):
    """One licence grant or change; the rows of a practice are its full history."""

    __tablename__ = "licences"
    __table_args__ = (
        CheckConstraint("status in ('active', 'suspended', 'revoked')", name="status"),
        CheckConstraint("valid_until is null or valid_until >= valid_from", name="validity"),
        CheckConstraint("monthly_quota is null or monthly_quota >= 0", name="quota"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]
    monthly_quota: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    practice: Mapped[Practice] = relationship(back_populates="licences")
    created_by: Mapped["User | None"] = relationship()

    def covers(self, day: date) -> bool:
        """Whether `day` lies inside the validity, whatever the status."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def is_active(self, today: date) -> bool:
        """Active means status active and today inside the validity."""
        return self.status == "active" and self.covers(today)


class PracticeApiKey(db.Model):
    """The practice program's credential; only a hash of the key is kept."""

    __tablename__ = "practice_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practice: Mapped[Practice] = relationship()
    created_by: Mapped["User | None"] = relationship()
