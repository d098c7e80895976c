"""The practice program pushes patients and appointments and reads the reminder back."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from portal.extensions import db
from portal.models import Appointment, AppointmentEvent, Patient, Practice, Reminder

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
PATIENT = {"first_name": "Erika", "last_name": "Mustermann", "salutation": "Frau", "mobile": "0170 1234567",
           "sms_consent": True}
TUESDAY_10 = "2026-11-24T10:00:00+01:00"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def practice(make, clock):
    return make.licensed_practice(name="Praxis am Markt", phone="030 1234567")


@pytest.fixture
def program(make, api, practice):
    return api(make.practice_key(practice))


@pytest.fixture
def erika(program):
    assert program.put("/patients/p-1", json=PATIENT).status_code == 200
    return "p-1"


def book(program, appointment_id="t-1", start=TUESDAY_10, **fields):
    return program.put(f"/appointments/{appointment_id}", json={"patient": "p-1", "start": start, **fields})


def timeline(external_id):
    appointment = db.session.scalar(select(Appointment).where(Appointment.external_id == external_id))
    return db.session.scalars(select(AppointmentEvent).where(AppointmentEvent.appointment_id == appointment.id)
                              .order_by(AppointmentEvent.id)).all()


# --- patients and their mobile numbers ----------------------------------------------

@pytest.mark.parametrize("typed", ["017012345678", "0170 12345678", "0170-12345678", "0170/12345678",
                                   "+49 170 12345678", "0049 170 12345678"])
def test_mobile_numbers_are_accepted_as_typed_and_stored_in_e164(program, typed):
    response = program.put("/patients/p-1", json={**PATIENT, "mobile": typed})
    assert response.status_code == 200
    assert response.json["mobile"] == "+4917012345678"
    assert response.json["mobile_as_typed"] == typed
    assert response.json["warnings"] == []


@pytest.mark.parametrize("typed, detail", [
    ("O17012345678", "letter"),
    ("030 1234567", "landline"),
    ("0170 12", "short"),
])
def test_an_invalid_mobile_is_kept_as_typed_flagged_and_warned_about(program, typed, detail, ctx):
    response = program.put("/patients/p-1", json={**PATIENT, "mobile": typed})
    assert response.status_code == 200
    assert response.json["mobile"] is None
    assert response.json["mobile_as_typed"] == typed
    assert response.json["mobile_problem"] == "invalid_mobile"
    [warning] = response.json["warnings"]
    assert warning["field"] == "mobile" and warning["code"] == "invalid_mobile" and detail in warning["message"]
    stored = db.session.scalar(select(Patient).where(Patient.external_id == "p-1"))
    assert (stored.mobile_raw, stored.mobile_e164, stored.mobile_problem) == (typed, None, "invalid_mobile")


def test_an_invalid_mobile_blocks_the_patients_reminders(program, erika):
    program.put("/patients/p-1", json={**PATIENT, "mobile": "O17012345678"})
    reminder = book(program).json["reminder"]
    assert (reminder["status"], reminder["reason"]) == ("skipped", "invalid_mobile")
    assert reminder["reason_text"] == "Handynummer ungültig"
    assert book(program).json["warnings"][0]["code"] == "invalid_mobile"
    program.put("/patients/p-1", json=PATIENT)
    assert program.get("/appointments/t-1").json["reminder"]["status"] == "planned"


def test_a_consenting_patient_without_mobile_is_warned_about(program):
    response = program.put("/patients/p-1", json={**PATIENT, "mobile": None})
    assert response.json["warnings"][0]["code"] == "missing_mobile"
    assert program.put("/patients/p-2", json={**PATIENT, "mobile": None, "sms_consent": False}).json["warnings"] == []


# --- revisions --------------------------------------------------------------------

def test_a_lower_revision_is_refused_and_changes_nothing(program, ctx):
    program.put("/patients/p-1", json={**PATIENT, "revision": 5})
    stale = program.put("/patients/p-1", json={**PATIENT, "last_name": "Alt", "revision": 4})
    assert stale.status_code == 409
    assert stale.mimetype == "application/problem+json"
    assert stale.json["errors"][0]["field"] == "revision"
    assert db.session.scalar(select(Patient.last_name).where(Patient.external_id == "p-1")) == "Mustermann"


def test_the_same_revision_again_is_an_idempotent_resend(program, erika, ctx):
    first = book(program, revision=3)
    again = book(program, revision=3)
    assert again.status_code == 200 and again.json["revision"] == 3
    assert again.json["reminder"] == first.json["reminder"]
    assert len(timeline("t-1")) == 2  # created, planned


def test_a_late_older_appointment_update_does_not_move_it_back(program, erika):
    book(program, revision=2, start="2026-11-26T10:00:00+01:00")
    stale = book(program, revision=1, start=TUESDAY_10)
    assert stale.status_code == 409
    assert program.get("/appointments/t-1").json["start"] == "2026-11-26T10:00:00+01:00"


# --- appointments, their reminders and their history ----------------------------------

def test_a_new_appointment_gets_its_reminder_in_the_same_request(program, erika):
    response = book(program, therapist="Max Beispiel", duration_minutes=45)
    assert response.status_code == 200 and response.json["created"] is True
    reminder = response.json["reminder"]
    assert reminder["status"] == "planned"
    assert reminder["due_at"] == "2026-11-23T17:00:00Z"
    assert reminder["body"] is None and reminder["delivery_status"] is None
    got = program.get("/appointments/t-1").json
    assert got["start"] == "2026-11-24T10:00:00+01:00" and got["therapist"] == "Max Beispiel"
    assert got["reminder"] == reminder


def test_naive_start_times_are_refused(program, erika):
    response = book(program, start="2026-11-24T10:00:00")
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "start"


def test_an_unknown_patient_is_refused(program):
    response = book(program)
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "patient", "message": "no such patient"}]


def test_invalid_ids_are_refused(program):
    assert program.put("/patients/" + "x" * 65, json=PATIENT).status_code == 422
    assert program.put("/patients/a%20b", json=PATIENT).status_code == 422


def test_a_move_is_recorded_with_how_it_was_made_and_replans(program, erika, ctx):
    book(program, change_source="dialog")
    moved = book(program, start="2026-11-26T15:30:00+01:00", change_source="calendar_drag")
    assert moved.json["reminder"]["due_at"] == "2026-11-25T17:00:00Z"
    events = timeline("t-1")
    assert [e.kind for e in events] == ["created", "planned", "moved", "reminder_cancelled", "planned"]
    assert events[0].change_source == "dialog"
    assert events[2].change_source == "calendar_drag"
    assert events[2].data == {"from": "2026-11-24T10:00:00+01:00", "to": "2026-11-26T15:30:00+01:00"}
    assert events[3].data["reason"] == "appointment_moved"
    statuses = db.session.scalars(select(Reminder.status).order_by(Reminder.id)).all()
    assert statuses == ["cancelled", "planned"]


def test_tick_changes_are_recorded_and_skip(program, erika, ctx):
    book(program)
    response = book(program, sms_reminder=False, change_source="dialog")
    assert (response.json["reminder"]["status"], response.json["reminder"]["reason"]) == ("skipped",
                                                                                          "appointment_opt_out")
    tick = [e for e in timeline("t-1") if e.kind == "tick_changed"]
    assert [(e.data, e.change_source) for e in tick] == [({"from": True, "to": False}, "dialog")]


def test_cancelling_cancels_the_reminder_and_is_recorded_once(program, erika, ctx):
    book(program)
    assert program.delete("/appointments/t-1", json={"change_source": "clipboard_drag"}).status_code == 204
    assert program.delete("/appointments/t-1").status_code == 204
    got = program.get("/appointments/t-1").json
    assert got["cancelled"] is True
    assert (got["reminder"]["status"], got["reminder"]["reason"]) == ("cancelled", "appointment_cancelled")
    cancelled = [e for e in timeline("t-1") if e.kind == "cancelled"]
    assert [e.change_source for e in cancelled] == ["clipboard_drag"]


def test_a_resent_older_update_does_not_bring_a_cancelled_appointment_back(program, erika, ctx):
    book(program, revision=3)
    program.delete("/appointments/t-1")
    resent = book(program, revision=3)
    assert resent.status_code == 409
    assert program.get("/appointments/t-1").json["reminder"]["status"] == "cancelled"
    restored = book(program, revision=4, change_source="dialog")
    assert restored.status_code == 200 and restored.json["cancelled"] is False
    assert restored.json["reminder"]["status"] == "planned"
    assert [e.kind for e in timeline("t-1")][-4:] == ["cancelled", "reminder_cancelled", "restored", "planned"]


def test_cancelling_an_unknown_appointment_is_404(program):
    assert program.delete("/appointments/nope").status_code == 404


def test_withdrawn_consent_cancels_and_given_consent_replans(program, erika):
    book(program)
    program.put("/patients/p-1", json={**PATIENT, "sms_consent": False})
    reminder = program.get("/appointments/t-1").json["reminder"]
    assert (reminder["status"], reminder["reason"]) == ("cancelled", "consent_withdrawn")
    program.put("/patients/p-1", json=PATIENT)
    assert program.get("/appointments/t-1").json["reminder"]["status"] == "planned"


def test_synced_late_is_sent_at_once_and_too_late_is_skipped(program, erika, clock):
    clock.move_to(datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc))  # 21:00: quiet hours in Berlin
    night = book(program, "late", start="2026-11-24T10:00:00+01:00").json["reminder"]
    assert (night["status"], night["due_at"]) == ("planned", "2026-11-24T07:00:00Z")  # 08:00 local
    clock.move_to(datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc))  # 11:00 local
    soon = book(program, "soon", start="2026-11-24T12:30:00+01:00").json["reminder"]
    assert (soon["status"], soon["due_at"]) == ("planned", "2026-11-24T10:00:00Z")
    tight = book(program, "tight", start="2026-11-24T11:30:00+01:00").json["reminder"]
    assert (tight["status"], tight["reason"], tight["due_at"]) == ("skipped", "too_late", None)


# --- erasure ------------------------------------------------------------------------

def test_erasing_a_patient_removes_personal_data_and_cancels_reminders(program, erika, ctx):
    book(program)
    book(program, "t-2", start="2026-11-25T10:00:00+01:00")
    assert program.delete("/patients/p-1").status_code == 204
    patient = db.session.scalar(select(Patient).where(Patient.external_id == "p-1"))
    assert patient.erased_at is not None
    assert (patient.first_name, patient.last_name, patient.mobile_raw, patient.mobile_e164) == (None,) * 4
    assert {(r.status, r.reason) for r in db.session.scalars(select(Reminder))} == {("cancelled", "patient_erased")}
    assert db.session.scalar(select(db.func.count(Patient.id))) == 1  # the row stays for counts
    assert program.put("/patients/p-1", json=PATIENT).status_code == 409
    assert book(program, "t-3").status_code == 422


def test_erasing_purges_texts_already_sent(program, erika, ctx):
    book(program)
    reminder = db.session.scalar(select(Reminder))
    reminder.status, reminder.body, reminder.recipient = "submitted", "Frau Mustermann, ...", "+4917012345678"
    db.session.commit()
    program.delete("/patients/p-1")
    db.session.refresh(reminder)
    assert (reminder.status, reminder.body, reminder.recipient) == ("submitted", None, None)
    assert reminder.purged_at is not None


def test_erasing_an_unknown_patient_is_404(program):
    assert program.delete("/patients/nobody").status_code == 404


# --- last seen and settings ------------------------------------------------------------

def test_each_call_records_that_the_program_was_seen(program, practice, clock, ctx):
    program.get("/settings")
    db.session.expire_all()
    assert db.session.get(Practice, practice.id).last_seen_at == NOW
    clock.move_to(NOW + timedelta(minutes=5))
    assert program.put("/patients/p-1", json={**PATIENT, "revision": 1}).status_code == 200
    program.put("/patients/p-1", json={**PATIENT, "revision": 0})  # refused, but seen all the same
    db.session.expire_all()
    assert db.session.get(Practice, practice.id).last_seen_at == NOW + timedelta(minutes=5)


def test_settings_are_the_effective_ones_with_their_source(program, practice, ctx):
    practice.group.send_time = "17:30"
    practice.sender = "PraxisMarkt"
    db.session.commit()
    settings = program.get("/settings").json["settings"]
    assert settings["send_time"] == {"value": "17:30", "source": "group", "own": None}
    assert settings["sender"]["value"] == "PraxisMarkt" and settings["sender"]["source"] == "practice"
    assert settings["sms_enabled"]["value"] is True
    assert settings["timezone"]["value"] == "Europe/Berlin"


# --- the OpenAPI document tells the truth about these endpoints -------------------------

def test_every_practice_answer_matches_the_document(app, make, practice):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import positive_data_acceptance

    headers = {"Authorization": f"Bearer {make.practice_key(practice)}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        if "practice program" not in operation.definition.raw.get("tags", []):
            continue

        # State decides some answers: an unknown patient (422), a stale revision (409), an unknown ID (404).
        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()


def test_revisions_beyond_what_is_stored_are_refused(program):
    assert program.put("/patients/p-1", json={**PATIENT, "revision": 2**31}).status_code == 422
    assert program.put("/patients/p-1", json={**PATIENT, "revision": -1}).status_code == 422
    assert program.put("/patients/p-1", json={**PATIENT, "revision": 2**31 - 1}).status_code == 200
