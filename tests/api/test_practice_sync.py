"""POST /sync: up to 1,000 operations in order, one result each, a bad one sinks nothing else."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Appointment, Patient, Reminder

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
PATIENT = {"first_name": "Erika", "last_name": "Mustermann", "mobile": "0170 1234567", "sms_consent": True}


@pytest.fixture
def program(make, api):
    with time_machine.travel(NOW, tick=False):
        yield api(make.practice_key(make.licensed_practice()))


def put_patient(key, **data):
    return {"op": "put_patient", "id": key, "data": {**PATIENT, **data}}


def put_appointment(key, patient="p-1", start="2026-11-24T10:00:00+01:00", **data):
    return {"op": "put_appointment", "id": key, "data": {"patient": patient, "start": start, **data}}


def test_mixed_good_and_bad_operations_each_get_their_result(program, ctx):
    operations = [
        put_patient("p-1", revision=2),
        put_appointment("t-1"),
        put_appointment("t-2", start="2026-11-24T10:00:00"),  # naive time
        put_patient("p-1", last_name="Alt", revision=1),  # stale
        {"op": "delete_appointment", "id": "unknown"},
        {"op": "shred_patient", "id": "p-1"},
        "not an object",
        put_appointment("t-3", patient="nobody"),
        put_patient("p-2", mobile="O170 1234567"),
        {"op": "delete_appointment", "id": "t-1", "data": {"change_source": "calendar_drag"}},
    ]
    response = program.post("/sync", json={"operations": operations})
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["status"] for r in results] == [200, 200, 422, 409, 404, 422, 422, 422, 200, 204]
    assert [r["index"] for r in results] == list(range(10))
    assert (response.json["applied"], response.json["failed"]) == (4, 6)
    assert results[1]["result"]["reminder"]["status"] == "planned"
    assert results[2]["errors"][0]["field"] == "data.start"
    assert results[3]["errors"][0]["field"] == "revision"
    assert results[5]["errors"][0]["field"] == "op"
    assert results[8]["warnings"][0]["code"] == "invalid_mobile"
    assert db.session.scalar(select(Patient.last_name).where(Patient.external_id == "p-1")) == "Mustermann"
    assert db.session.scalar(select(func.count(Appointment.id))) == 1
    assert db.session.scalar(select(Reminder.reason)) == "appointment_cancelled"


def test_operations_apply_in_order(program, ctx):
    operations = [
        put_appointment("t-1"),  # the patient does not exist yet
        put_patient("p-1"),
        put_appointment("t-1"),
        put_appointment("t-1", start="2026-11-25T10:00:00+01:00", change_source="import"),
    ]
    results = program.post("/sync", json={"operations": operations}).json["results"]
    assert [r["status"] for r in results] == [422, 200, 200, 200]
    assert results[3]["result"]["start"] == "2026-11-25T10:00:00+01:00"
    assert results[3]["result"]["reminder"]["due_at"] == "2026-11-24T17:00:00Z"


def test_a_thousand_operations_are_accepted_and_one_more_is_not(program, ctx):
    operations = [put_patient("p-1")] + [
        put_appointment(f"t-{n}", start=(datetime(2026, 11, 24, 8, tzinfo=timezone.utc)
                                         + timedelta(minutes=15 * n)).isoformat())
        for n in range(999)
    ]
    too_many = program.post("/sync", json={"operations": operations + [put_patient("p-2")]})
    assert too_many.status_code == 422
    assert db.session.scalar(select(func.count(Patient.id))) == 0
    response = program.post("/sync", json={"operations": operations})
    assert response.status_code == 200 and response.json["failed"] == 0
    assert db.session.scalar(select(func.count(Reminder.id)).where(Reminder.status == "planned")) == 999


def test_sending_the_same_batch_twice_changes_nothing(program, ctx):
    operations = [put_patient("p-1", revision=1), put_appointment("t-1", revision=1)]
    first = program.post("/sync", json={"operations": operations}).json["results"]
    second = program.post("/sync", json={"operations": operations}).json["results"]
    assert [r["status"] for r in second] == [200, 200]
    assert second[1]["result"]["reminder"] == first[1]["result"]["reminder"]
    assert second[1]["result"]["created"] is False
    assert db.session.scalar(select(func.count(Reminder.id))) == 1


def test_an_empty_or_malformed_batch_is_refused(program):
    assert program.post("/sync", json={"operations": []}).status_code == 422
    assert program.post("/sync", json={"ops": []}).status_code == 422
    assert program.post("/sync", data="[", headers={"Content-Type": "application/json"}).status_code == 400
