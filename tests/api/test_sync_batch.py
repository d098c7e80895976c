"""POST /sync writes a batch as a whole: a full batch with bad operations among good ones,
and a number of database statements that does not grow with the batch."""
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import event, func, insert, select

from portal import bulk
from portal.extensions import db
from portal.models import Appointment, AppointmentEvent, Patient, Reminder

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
FIRST_START = datetime(2026, 11, 24, 8, tzinfo=timezone.utc)


@pytest.fixture
def program(make, api):
    with time_machine.travel(NOW, tick=False):
        yield api(make.practice_key(make.licensed_practice()))


def put_patient(n: int, **data) -> dict:
    return {"op": "put_patient", "id": f"p-{n}",
            "data": {"first_name": "Erika", "last_name": f"Muster{n}", "mobile": "0170 1234567",
                     "sms_consent": True, **data}}


def put_appointment(n: int, patient: int, minutes: int = 0) -> dict:
    start = FIRST_START + timedelta(minutes=15 * n + minutes)
    return {"op": "put_appointment", "id": f"a-{n}", "data": {"patient": f"p-{patient}", "start": start.isoformat()}}


@contextmanager
def statements():
    """The SQL statements sent while the block runs: all of them, and those that are not INSERTs."""
    count = [0, 0]

    def counted(conn, cursor, statement, *_):
        count[0] += 1
        count[1] += not statement.lstrip().upper().startswith("INSERT")

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        yield count
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)


def test_a_full_batch_with_two_bad_operations_applies_the_other_998(program, ctx):
    operations = [put_patient(n) for n in range(500)] + [put_appointment(n, patient=11 + n % 400)
                                                          for n in range(500, 1000)]
    operations[10] = put_patient(10, sms_consent="vielleicht")
    operations[500] = {**operations[500], "data": {**operations[500]["data"], "start": "2026-11-24T10:00:00"}}
    response = program.post("/sync", json={"operations": operations})
    assert response.status_code == 200
    assert (response.json["applied"], response.json["failed"]) == (998, 2)
    results = response.json["results"]
    assert [r["index"] for r in results if r["status"] != 200] == [10, 500]
    assert results[10]["errors"][0]["field"] == "data.sms_consent"
    assert results[500]["errors"][0]["field"] == "data.start"
    assert db.session.scalar(select(func.count(Patient.id))) == 499
    assert db.session.scalar(select(func.count(Appointment.id))) == 499
    assert db.session.scalar(select(func.count(Reminder.id)).where(Reminder.status == "planned")) == 499
    assert program.get("/appointments/a-999").json["reminder"]["status"] == "planned"
    assert program.get("/appointments/a-500").status_code == 404


def test_each_result_shows_its_own_operation_even_when_a_later_one_changes_the_same_row(program, ctx):
    operations = [put_patient(1), put_appointment(1, patient=1), put_patient(1, last_name="Neu"),
                  put_appointment(1, patient=1, minutes=60)]
    results = program.post("/sync", json={"operations": operations}).json["results"]
    assert [r["result"]["last_name"] for r in results[::2]] == ["Muster1", "Neu"]
    assert results[1]["result"]["start"] != results[3]["result"]["start"]
    assert results[3]["result"]["created"] is False
    kinds = db.session.scalars(select(AppointmentEvent.kind).order_by(AppointmentEvent.id)).all()
    assert kinds == ["created", "planned", "moved", "reminder_cancelled", "planned"]


def _new_calendar(size: int, offset: int) -> list[dict]:
    return [operation for n in range(offset, offset + size)
            for operation in (put_patient(n), put_appointment(n, patient=n))]


def _moves(size: int, offset: int) -> list[dict]:
    return [put_appointment(n, patient=n, minutes=5) for n in range(offset, offset + size)]


@pytest.mark.parametrize("batch", [_new_calendar, _moves], ids=["new patients and appointments", "moves"])
def test_the_statements_of_a_sync_batch_do_not_grow_with_its_size(program, ctx, batch):
    program.post("/sync", json={"operations": _new_calendar(10, 0) + _new_calendar(300, 100)})
    counts = []
    # 300 moves make 900 timeline events: within the 1,000 rows SQLAlchemy sends in one INSERT
    for size, offset in ((10, 0), (300, 100)):
        operations = batch(size, offset) if batch is _moves else batch(size, 1000 + offset)
        with statements() as count:
            response = program.post("/sync", json={"operations": operations})
        assert response.json["failed"] == 0, response.json
        counts.append(count)
    assert counts[0][1] == counts[1][1], counts  # no query or UPDATE per operation
    if db.engine.dialect.name == "postgresql":
        # PostgreSQL inserts many rows with their IDs in one statement; SQLite's driver cannot
        # promise the order of the IDs it returns, so SQLAlchemy sends new rows there one by one.
        assert counts[0][0] == counts[1][0], counts


def test_a_new_appointment_is_one_insert_and_nothing_is_loaded_again_after_the_commit(program, ctx):
    program.post("/sync", json={"operations": [put_patient(1)]})
    sent = []

    def statement(conn, cursor, text, *_):
        sent.append(text.lstrip().split("(")[0].strip())

    def commit(conn):
        sent.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        response = program.put("/appointments/a-1", json=put_appointment(1, patient=1)["data"])
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
    assert response.status_code == 200 and response.json["reminder"]["status"] == "planned"
    assert response.json["created"] is True and response.json["patient"] == "p-1"
    assert sent.count("INSERT INTO appointments") == 1
    assert not any(text.startswith("UPDATE appointments") for text in sent)
    assert sent.count("COMMIT") == 1 and sent[-1] == "COMMIT", sent  # the answer was built before it


def test_new_rows_of_a_batch_refer_to_each_other_and_to_rows_that_existed(program, ctx, caplog):
    program.post("/sync", json={"operations": [put_patient(1), put_patient(2), put_appointment(1, patient=1),
                                               put_appointment(2, patient=2)]})
    operations = [put_patient(9), put_appointment(9, patient=9), put_patient(3), put_appointment(4, patient=1),
                  put_appointment(1, patient=3, minutes=30), put_patient(2, last_name="Neu"),
                  put_appointment(2, patient=2, minutes=45), put_appointment(3, patient=9)]
    response = program.post("/sync", json={"operations": operations})
    results = response.json["results"]
    assert response.json["failed"] == 0, results
    assert "one by one" not in caplog.text  # written as a batch
    assert [r["result"]["created"] for r in results] == [True, True, True, True, False, False, False, True]
    # new rows get their IDs in the order of the operations, after the rows that existed
    patients = dict(db.session.execute(select(Patient.external_id, Patient.id).order_by(Patient.id)).all())
    assert list(patients) == ["p-1", "p-2", "p-9", "p-3"]
    appointments = db.session.execute(select(Appointment).order_by(Appointment.id)).scalars().all()
    assert [a.external_id for a in appointments] == ["a-1", "a-2", "a-9", "a-4", "a-3"]
    answers = {r["id"]: r["result"] for r in results if r["op"] == "put_appointment"}
    for appointment in appointments:
        answer = answers[appointment.external_id]
        assert appointment.patient_id == patients[answer["patient"]]
        reminder = db.session.scalars(select(Reminder).where(Reminder.appointment_id == appointment.id,
                                                             Reminder.start_at == appointment.start_at)).one()
        assert (reminder.status, reminder.due_at.isoformat().replace("+00:00", "Z")) == (
            answer["reminder"]["status"], answer["reminder"]["due_at"].replace("+00:00", "Z"))
    misplaced = select(func.count(AppointmentEvent.id)).join(Reminder, Reminder.id == AppointmentEvent.reminder_id) \
        .where(Reminder.appointment_id != AppointmentEvent.appointment_id)
    assert db.session.scalar(misplaced) == 0
    assert program.get("/appointments/a-1").json["patient"] == "p-3"


def test_a_batch_whose_write_fails_is_applied_again_one_by_one(program, ctx, monkeypatch, caplog):
    """Another request creates an appointment of the batch meanwhile: the batch's INSERT conflicts after
    its new patients were written, and each operation gets the result it would get on its own."""
    program.post("/sync", json={"operations": [put_patient(1), put_appointment(1, patient=1)]})
    existing = db.session.scalars(select(Appointment)).one()
    insert_new = bulk.insert_new

    def conflicting(*models):
        if Appointment in models:
            with db.engine.connect() as other:
                other.execute(insert(Appointment).values(
                    practice_id=existing.practice_id, external_id="a-2", patient_id=existing.patient_id,
                    start_at=FIRST_START, revision=0, start_offset_minutes=0, sms_reminder=True))
                other.commit()
        insert_new(*models)

    db.session.remove()
    monkeypatch.setattr(bulk, "insert_new", conflicting)
    response = program.post("/sync", json={"operations": [put_patient(2), put_appointment(2, patient=2)]})
    results = response.json["results"]
    assert "sync batch of 2 operations applied one by one" in caplog.text
    assert [(r["status"], r["result"]["created"]) for r in results] == [(200, True), (200, False)], results
    assert results[1]["result"]["patient"] == "p-2" and results[1]["result"]["reminder"]["status"] == "planned"
    rows = db.session.execute(select(Appointment.external_id, Patient.external_id).join(Patient)
                              .order_by(Appointment.id)).all()
    assert rows == [("a-1", "p-1"), ("a-2", "p-2")]


def test_a_batch_writes_the_columns_each_row_changed_with_updated_at_and_revision(program, ctx):
    """Some columns of some rows, a refused operation among them: checked against the database afterwards."""
    program.post("/sync", json={"operations": [put_patient(1), put_patient(2), put_patient(3, revision=7),
                                               put_appointment(1, patient=1), put_appointment(2, patient=2),
                                               put_appointment(3, patient=3)]})
    later = NOW + timedelta(hours=1)
    moved, untick = put_appointment(1, patient=2, minutes=30), put_appointment(2, patient=2)
    moved["data"]["revision"], untick["data"]["sms_reminder"] = 3, False
    operations = [put_patient(1, last_name="Neu", revision=5), put_patient(2), put_patient(3, revision=2), moved,
                  untick]
    updates = []

    def update(conn, cursor, text, params, context, executemany):
        words = text.split()
        if words[0] == "UPDATE" and words[1] in ("patients", "appointments", "reminders"):
            updates.append((words[1], "from arrays" if "FROM unnest(" in text and not executemany else "by row"))

    event.listen(db.engine, "before_cursor_execute", update)
    try:
        with time_machine.travel(later, tick=False):
            results = program.post("/sync", json={"operations": operations}).json["results"]
    finally:
        event.remove(db.engine, "before_cursor_execute", update)
    assert [r["status"] for r in results] == [200, 200, 409, 200, 200], results
    db.session.expire_all()
    patients = {p.external_id: p for p in db.session.scalars(select(Patient).order_by(Patient.id))}
    assert [(p.last_name, p.name_key, p.revision, p.updated_at) for p in patients.values()] == [
        ("Neu", " erika neu ", 5, later), ("Muster2", " erika muster2 ", 0, NOW), ("Muster3", " erika muster3 ", 7, NOW)]
    appointments = db.session.scalars(select(Appointment).order_by(Appointment.id)).all()
    assert [(a.patient_id, a.start_at, a.sms_reminder, a.revision, a.updated_at) for a in appointments] == [
        (patients["p-2"].id, FIRST_START + timedelta(minutes=45), True, 3, later),
        (patients["p-2"].id, FIRST_START + timedelta(minutes=30), False, 0, later),
        (patients["p-3"].id, FIRST_START + timedelta(minutes=45), True, 0, NOW)]
    reminders = db.session.execute(select(Appointment.external_id, Reminder.status, Reminder.reason,
                                          Reminder.updated_at).join(Appointment).order_by(Reminder.id)).all()
    assert reminders == [("a-1", "cancelled", "appointment_moved", later),
                         ("a-2", "skipped", "appointment_opt_out", later), ("a-3", "planned", None, NOW),
                         ("a-1", "planned", None, later)]
    if db.engine.dialect.name == "postgresql":
        # one statement per table and set of changed columns, and nothing left for the flush
        assert updates == [("patients", "from arrays"), *[("appointments", "from arrays")] * 2,
                           *[("reminders", "from arrays")] * 2], updates
