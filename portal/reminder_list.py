"""A practice's reminders as its group administrator lists them: by the day of
the appointment (in the practice's time zone), patient and status; the coming
appointments first, soonest at the top, then the past ones, latest first."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, select
from sqlalchemy.orm import joinedload

from . import support
from .access import Principal, scoped
from .extensions import db
from .models import Appointment, Practice, Reminder
from .models.base import one_of
from .practices import local_zone


@dataclass(frozen=True)
class ReminderFilter:
    date_from: date | None = None
    date_to: date | None = None
    patient: str | None = None
    status: str | None = None


def reminder_ids(principal: Principal, practice: Practice, chosen: ReminderFilter, now: datetime) -> Select:
    """The IDs of the practice's reminders matching `chosen`, upcoming first (a statement to page).

    IDs, not rows: ordering a practice's thousands of reminders then takes the index
    `ix_reminders_practice_start` alone, and only the page's fifty rows are read (`load`).
    """
    zone = local_zone(practice)
    statement = scoped(principal, Reminder).with_only_columns(Reminder.id).where(Reminder.practice_id == practice.id)
    if chosen.status:
        statement = statement.where(Reminder.status == chosen.status)
    if chosen.date_from:
        statement = statement.where(Reminder.start_at >= _day_start(chosen.date_from, zone))
    if chosen.date_to:
        statement = statement.where(Reminder.start_at < _day_start(chosen.date_to + timedelta(days=1), zone))
    if chosen.patient and chosen.patient.strip():
        # The support lookup's name search, so that both forgive the same spellings.
        found = support.search(principal, support.Criteria(name=chosen.patient, practice=practice.slug)).subquery()
        statement = statement.where(Reminder.appointment_id.in_(select(found.c.id)))
    upcoming = Reminder.start_at >= now
    return statement.order_by(
        case((upcoming, 0), else_=1),
        case((upcoming, Reminder.start_at)).asc(),
        Reminder.start_at.desc(),
        Reminder.id.desc(),
    )


def load(ids: list[int]) -> list[Reminder]:
    """The reminders of a page with their appointments and patients, in any order."""
    return list(db.session.scalars(
        select(Reminder).where(one_of(Reminder.id, ids))
        .options(joinedload(Reminder.appointment).joinedload(Appointment.patient))
    ))


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)
