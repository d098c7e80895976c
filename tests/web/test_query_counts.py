"""List pages run a fixed number of queries, however many rows they show."""
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import Appointment, AuditEntry, Licence, Patient, Practice, Reminder


@contextmanager
def counted():
    statements = []

    def count(*_args):
        statements.append(1)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _fill(practice: Practice, rows: int, offset: int) -> None:
    """`rows` patients, appointments and reminders (some invalid numbers), and practices with licences."""
    start = datetime.now(timezone.utc) + timedelta(days=2)
    for number in range(offset, offset + rows):
        patient = Patient(practice=practice, external_id=f"p{number}", first_name="Erika", last_name=f"Muster{number}",
                          mobile_raw="017O123", mobile_problem="invalid_mobile", sms_consent=True)
        appointment = Appointment(practice=practice, patient=patient, external_id=f"a{number}",
                                  start_at=start + timedelta(minutes=number))
        db.session.add_all([patient, appointment, Reminder(
            practice=practice, appointment=appointment, start_at=appointment.start_at, status="skipped",
            reason="invalid_mobile")])
        other = Practice(slug=f"extra-{number}", name=f"Extra {number}", group=practice.group)
        db.session.add_all([other, Licence(practice=other, status="active", valid_from=date.today())])
        db.session.add(AuditEntry(actor="x", action="test", object_type="Practice", object_key=f"extra-{number}",
                                  group_id=practice.group_id))
    db.session.commit()


PAGES = [
    ("vendor", "/admin/practices"),
    ("vendor", "/admin/usage"),
    ("admin", "/settings/"),
    ("admin", "/settings/practices/nord-1/reminders"),
    ("admin", "/settings/practices/nord-1/data-quality"),
    ("support", "/support/?practice=nord-1"),
    ("vendor", "/support/audit"),
]


@pytest.mark.parametrize("role,path", PAGES)
def test_list_pages_do_not_grow_with_rows(as_user, tenants, role, path):
    client = as_user(tenants[role])
    _fill(tenants["practice"], 5, 0)
    with counted() as few:
        assert client.get(path).status_code == 200
    _fill(tenants["practice"], 120, 5)
    with counted() as many:
        assert client.get(path).status_code == 200
    assert len(many) == len(few), (path, len(few), len(many))
    assert len(many) <= 15, (path, len(many))
