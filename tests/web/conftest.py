"""Portal fixtures: users of each role, a logged-in test client, and a strict app
(CSRF and rate limits on) sharing the test database."""
from datetime import datetime, timedelta, timezone

import pytest

from portal import create_app
from portal.extensions import db
from portal.models import AppointmentEvent, DeliveryReport, Reminder

PASSWORD = "correct horse battery"


def login(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def as_user(app, make):
    """`as_user(user)`: a fresh test client logged in as `user`."""
    def log_in(user):
        client = app.test_client()
        response = login(client, user.email)
        assert response.status_code == 302, response.data[:500]
        return client
    return log_in


@pytest.fixture
def tenants(make):
    """Two groups with a practice each, and a user of every role."""
    home, foreign = make.group("home", name="Praxisgruppe Nord"), make.group("foreign", name="Praxisgruppe Süd")
    practice = make.licensed_practice(group=home, slug="nord-1", name="Praxis Nord", phone="030 1234567")
    other = make.practice(group=foreign, slug="sued-1", name="Praxis Süd")
    return {
        "home": home, "foreign": foreign, "practice": practice, "other": other,
        "vendor": make.user("vendor_admin", email="vendor@example.org"),
        "support": make.user("support", email="support@example.org"),
        "admin": make.user("group_admin", group=home, email="admin@example.org"),
        "stranger": make.user("group_admin", group=foreign, email="stranger@example.org"),
    }


@pytest.fixture
def sent_reminder(make, tenants):
    """A patient with an appointment whose reminder was submitted and delivered."""
    practice = tenants["practice"]
    patient = make.patient(practice, external_id="P-77", mobile="0170 1234567", first_name="Erika",
                           last_name="Mustermann")
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    appointment = make.appointment(patient, start, external_id="T-1001", therapist="Max Beispiel")
    submitted = start - timedelta(hours=20)
    reminder = Reminder(
        practice_id=practice.id, appointment=appointment, start_at=start, due_at=submitted, status="submitted",
        submit_started_at=submitted, submitted_at=submitted, body="Frau Mustermann, wir erinnern an Ihren Termin.",
        recipient="+491701234567", sender="PraxisNord", encoding="GSM-7", segments=1,
        provider_message_id="mb-msg-4711", delivery_status="delivered", delivery_status_at=submitted,
        delivered_at=submitted,
    )
    db.session.add(reminder)
    db.session.flush()
    db.session.add_all([
        AppointmentEvent(appointment_id=appointment.id, practice_id=practice.id, at=submitted - timedelta(days=3),
                         kind="created", change_source="dialog", data={"start": start.isoformat()}),
        AppointmentEvent(appointment_id=appointment.id, practice_id=practice.id, reminder_id=reminder.id,
                         at=submitted - timedelta(days=3), kind="planned",
                         data={"reason": None, "due_at": submitted.isoformat(), "start_at": start.isoformat()}),
        AppointmentEvent(appointment_id=appointment.id, practice_id=practice.id, reminder_id=reminder.id,
                         at=submitted, kind="submitted",
                         data={"text": reminder.body, "recipient": "+49 170 ****567", "message_id": "mb-msg-4711"}),
        AppointmentEvent(appointment_id=appointment.id, practice_id=practice.id, reminder_id=reminder.id,
                         at=submitted + timedelta(seconds=5), kind="delivery_report",
                         data={"status": "delivered", "status_at": submitted.isoformat(), "reason": None,
                               "error_code": "0", "message_id": "mb-msg-4711"}),
        DeliveryReport(reminder_id=reminder.id, practice_id=practice.id, provider_message_id="mb-msg-4711",
                       reference=str(reminder.id), recipient="491701234567", status="delivered",
                       status_at=submitted, status_error_code="0"),
    ])
    db.session.commit()
    return {"patient": patient, "appointment": appointment, "reminder": reminder}


@pytest.fixture
def strict_app(app, database_url, redis_url):
    """The same database with CSRF protection and login rate limits switched on."""
    strict = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
        "EMBEDDED_REDIS": False, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": True,
    })
    yield strict
    with strict.app_context():
        db.session.remove()
