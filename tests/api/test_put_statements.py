"""What a single PUT of the practice program costs the database, in statements: more than these is a row
loaded twice, a lazy load a joined one would have covered, or a flush of its own."""
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import event

from portal.extensions import db

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
PATIENT = {"first_name": "Erika", "last_name": "Mustermann", "mobile": "0170 1234567", "sms_consent": True}


@pytest.fixture
def program(make, api):
    with time_machine.travel(NOW, tick=False):
        program = api(make.practice_key(make.licensed_practice()))
        # the first call records the key as used, in a commit of its own: once a minute, not counted here
        assert program.put("/patients/p-1", json=PATIENT).status_code == 200
        yield program


def event_inserts() -> int:
    """The program's event and planning's are one INSERT on PostgreSQL; on SQLite the ORM's bulk INSERT
    sends rows without a reminder (the program's) as an executemany of their own."""
    return 1 if db.engine.dialect.name == "postgresql" else 2


@contextmanager
def statements():
    sent = []

    def note(conn, cursor, statement, *_):
        sent.append(" ".join(statement.split())[:60])

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_a_patient_update_loads_the_key_with_its_practice_then_the_patient_then_writes_it(program):
    with statements() as sent:
        response = program.put("/patients/p-1", json={**PATIENT, "last_name": "Musterfrau"})
    assert response.status_code == 200 and response.json["last_name"] == "Musterfrau"
    assert len(sent) <= 3, "\n".join(sent)  # key with practice, group and licences; the patient, locked; its UPDATE


def test_a_new_appointment_and_its_move_load_nothing_twice(program):
    with statements() as created:
        response = program.put("/appointments/t-1", json={"patient": "p-1", "start": "2026-11-24T10:00:00+01:00"})
    assert response.status_code == 200 and response.json["created"] is True
    assert response.json["reminder"]["status"] == "planned"
    # key with practice; no such appointment; the patient; INSERTs of the appointment, its reminder, the events
    assert len(created) <= 5 + event_inserts(), "\n".join(created)

    with statements() as moved:
        response = program.put("/appointments/t-1", json={"patient": "p-1", "start": "2026-11-24T11:00:00+01:00"})
    assert response.status_code == 200 and response.json["start"] == "2026-11-24T11:00:00+01:00"
    assert response.json["reminder"]["status"] == "planned"
    # key with practice; the appointment with its patient; its reminders; UPDATE of the appointment and of the
    # old reminder (cancelled), INSERT of the new one, and of the events (moved, cancelled, planned) in one
    assert len(moved) <= 6 + event_inserts(), "\n".join(moved)
    assert sum(text.startswith("INSERT INTO appointment_events") for text in moved) <= event_inserts(), moved


def test_a_cancellation_loads_the_appointment_with_its_patient_and_writes_in_one_flush(program):
    assert program.put("/appointments/t-1", json={"patient": "p-1", "start": "2026-11-24T10:00:00+01:00"}).status_code == 200
    with statements() as cancelled:
        response = program.delete("/appointments/t-1", json={"change_source": "dialog"})
    assert response.status_code == 204
    # key with practice; the appointment with its patient; its reminders; UPDATE of the appointment and of
    # its reminder (cancelled), the events (cancelled, the reminder's) in one INSERT
    assert len(cancelled) <= 5 + event_inserts(), "\n".join(cancelled)
    assert sum(text.startswith("INSERT INTO appointment_events") for text in cancelled) <= event_inserts(), cancelled
    reminder = program.get("/appointments/t-1").json["reminder"]
    assert reminder["status"] == "cancelled"

    with statements() as again:
        assert program.delete("/appointments/t-1").status_code == 204
    assert not any(text.startswith(("INSERT", "UPDATE")) for text in again), again  # cancelling twice changes nothing
