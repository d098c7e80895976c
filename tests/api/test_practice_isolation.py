"""A practice's key sees and changes only its own practice; personal tokens cannot use these endpoints.

The endpoint list is taken from the declared operations, so a practice endpoint
added later is covered here without anyone remembering it.
"""
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import select

from portal.api.core import OPERATIONS
from portal.domain.settings import DEFAULT_TEMPLATE
from portal.extensions import db
from portal.models import Appointment, AppointmentEvent, Patient, Practice, Reminder

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
PRACTICE_OPERATIONS = [op for op in OPERATIONS if "practice program" in op.tags]
PATIENT = {"first_name": "Max", "last_name": "Fremd", "mobile": "0171 7654321", "sms_consent": True}
SAMPLE_BODIES = {
    ("PUT", "/patients/{patient_id}"): {**PATIENT, "sms_consent": False},
    ("PUT", "/appointments/{appointment_id}"): {"patient": "shared", "start": "2026-11-30T10:00:00+01:00"},
    ("POST", "/sync"): {"operations": [{"op": "delete_patient", "id": "shared"}]},
}


@pytest.fixture
def practices(make, api):
    """Practices A and B; B has patient "shared" and appointment "shared" (the same IDs A might use)."""
    with time_machine.travel(NOW, tick=False):
        a, b = make.licensed_practice(slug="praxis-a"), make.licensed_practice(slug="praxis-b")
        key_a, key_b = api(make.practice_key(a)), api(make.practice_key(b))
        assert key_b.put("/patients/shared", json=PATIENT).status_code == 200
        response = key_b.put("/appointments/shared", json={"patient": "shared", "start": "2026-11-24T10:00:00+01:00"})
        assert response.json["reminder"]["status"] == "planned"
        yield {"a": key_a, "b": key_b}


def path_for(op) -> str:
    return op.path.replace("{patient_id}", "shared").replace("{appointment_id}", "shared")


def b_state():
    """Everything of practice B that A could touch."""
    db.session.expire_all()
    b = db.session.scalar(select(Practice.id).where(Practice.slug == "praxis-b"))
    patient = db.session.scalar(select(Patient).where(Patient.practice_id == b, Patient.external_id == "shared"))
    appointment = db.session.scalar(select(Appointment).where(Appointment.practice_id == b))
    reminder = db.session.scalar(select(Reminder).where(Reminder.practice_id == b))
    events = db.session.scalar(select(db.func.count(AppointmentEvent.id)).where(AppointmentEvent.practice_id == b))
    return (patient.first_name, patient.sms_consent, patient.erased_at, appointment.start_at,
            appointment.cancelled_at, reminder.status, events)


def test_the_list_covers_every_practice_endpoint():
    assert {(op.method, op.path) for op in PRACTICE_OPERATIONS} == {
        ("PUT", "/patients/{patient_id}"), ("DELETE", "/patients/{patient_id}"),
        ("PUT", "/appointments/{appointment_id}"), ("DELETE", "/appointments/{appointment_id}"),
        ("GET", "/appointments/{appointment_id}"), ("POST", "/sync"), ("GET", "/settings"), ("GET", "/events"),
    }


@pytest.mark.parametrize("op", PRACTICE_OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_a_key_of_practice_a_never_reads_or_changes_practice_b(practices, op, ctx):
    before = b_state()
    with time_machine.travel(NOW, tick=False):
        response = practices["a"].call(op.method, path_for(op), json=SAMPLE_BODIES.get((op.method, op.path)))
    if op.method in ("GET", "DELETE") and "{" in op.path:
        assert response.status_code == 404
        assert "Fremd" not in response.get_data(as_text=True)
    elif op.path == "/appointments/{appointment_id}":
        # A's own namespace: B's patient "shared" does not exist for A.
        assert response.status_code == 422
    elif op.path == "/sync":
        assert response.json["results"][0]["status"] == 404
    assert b_state() == before


def test_a_key_of_practice_a_creates_its_own_objects_under_the_same_ids(practices, ctx):
    with time_machine.travel(NOW, tick=False):
        assert practices["a"].put("/patients/shared", json={**PATIENT, "first_name": "Anna"}).json["created"] is True
        assert practices["b"].get("/appointments/shared").json["patient"] == "shared"
    names = db.session.scalars(select(Patient.first_name).order_by(Patient.id)).all()
    assert names == ["Max", "Anna"]


def test_settings_are_the_keys_own_practice(make, practices):
    b = db.session.scalar(select(Practice).where(Practice.slug == "praxis-b"))
    b.sender, b.template, b.send_time, b.sms_enabled = "PraxisB", "Praxis B: {datum}", "17:00", False
    db.session.commit()
    with time_machine.travel(NOW, tick=False):
        settings_a = practices["a"].get("/settings").json["settings"]
        settings_b = practices["b"].get("/settings").json["settings"]
    values = {name: (item["value"], item.get("source")) for name, item in settings_a.items()}
    assert values["sender"] == ("Praxis", "default") and values["send_time"] == ("18:00", "default")
    assert values["template"] == (DEFAULT_TEMPLATE, "default") and settings_a["sms_enabled"]["value"] is True
    # B's own values are there for B's key: the two practices really differ
    assert (settings_b["sender"]["value"], settings_b["template"]["value"]) == ("PraxisB", "Praxis B: {datum}")
    assert settings_b["sms_enabled"]["value"] is False


@pytest.mark.parametrize("role", ["vendor_admin", "support", "group_admin"])
@pytest.mark.parametrize("op", PRACTICE_OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_personal_tokens_get_403_on_practice_endpoints(make, api, practices, role, op, ctx):
    group = make.group() if role == "group_admin" else None
    person = api(make.token(make.user(role, group=group)))
    before = b_state()
    response = person.call(op.method, path_for(op), json=SAMPLE_BODIES.get((op.method, op.path)))
    assert response.status_code == 403
    assert b_state() == before


@pytest.mark.parametrize("op", PRACTICE_OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_without_credentials_it_is_401(api, op, app):
    assert api(None).call(op.method, path_for(op), json=SAMPLE_BODIES.get((op.method, op.path))).status_code == 401


def test_a_revoked_key_is_refused(make, api, ctx):
    from portal.models import PracticeApiKey

    practice = make.licensed_practice()
    secret = make.practice_key(practice)
    db.session.scalar(select(PracticeApiKey)).revoked_at = NOW
    db.session.commit()
    assert api(secret).get("/settings").status_code == 401
