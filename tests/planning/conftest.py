"""Planning runs at a fixed instant: 20 Nov 2026, 10:00 in Berlin."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import AppointmentEvent, Reminder

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def reminders_of(appointment) -> list[Reminder]:
    return db.session.scalars(select(Reminder).where(Reminder.appointment_id == appointment.id)
                              .order_by(Reminder.id)).all()


def events_of(appointment, *kinds) -> list[AppointmentEvent]:
    statement = select(AppointmentEvent).where(AppointmentEvent.appointment_id == appointment.id)
    if kinds:
        statement = statement.where(AppointmentEvent.kind.in_(kinds))
    return db.session.scalars(statement.order_by(AppointmentEvent.id)).all()


@pytest.fixture
def clock():
    """Frozen time, so licences (valid by local day) and `utcnow` agree with NOW."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def practice(make, clock):
    return make.licensed_practice(name="Praxis am Markt", phone="030 1234567")


@pytest.fixture
def patient(make, practice):
    return make.patient(practice, "p-1", salutation="Frau", first_name="Erika", last_name="Mustermann")
