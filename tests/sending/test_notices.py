"""Change notices through the real pipeline: the practice program moves or cancels an appointment
whose reminder went out, and the patient gets one short notice from the sandbox, exactly once."""
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.extensions import db
from portal.models import Appointment, Reminder

BERLIN = ZoneInfo("Europe/Berlin")
NO_QUIET = {"send_policy": "hours_before", "hours_before": 24, "quiet_start": "00:00", "quiet_end": "00:00"}


def _reminded(sending, make, api, practice=None):
    """A patient and an appointment three hours ahead, whose reminder the sandbox has accepted."""
    practice = practice or make.licensed_practice(**NO_QUIET)
    program = api(make.practice_key(practice))
    mobile = f"0170 {random.randrange(10**6, 10**7)}"
    assert program.put("/patients/p-1", json={"first_name": "Erika", "last_name": "Mustermann", "mobile": mobile,
                                              "sms_consent": True}).status_code in (200, 201)
    start = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(second=0, microsecond=0)
    _move(program, start, revision=1)
    assert sending.dispatch() == 1
    sending.work()
    assert len(sending.messages()) == 1
    return program, start


def _move(program, start, revision):
    answer = program.put("/appointments/a-1", json={"patient": "p-1", "start": start.isoformat(),
                                                    "revision": revision})
    assert answer.status_code in (200, 201), answer.json
    return answer.json


def _rows():
    db.session.expire_all()
    appointment = db.session.scalars(select(Appointment).where(Appointment.external_id == "a-1")).one()
    return db.session.scalars(select(Reminder).where(Reminder.appointment_id == appointment.id)
                              .order_by(Reminder.id)).all()


def _bodies(sending):
    return [item["message"]["body"] for item in sending.messages()]


def _local(moment):
    return moment.astimezone(BERLIN)


def test_a_move_sends_the_notice_now_and_the_new_reminder_at_its_due_time(sending, make, api):
    program, start = _reminded(sending, make, api)
    new = start + timedelta(days=3)

    _move(program, new, revision=2)
    assert sending.dispatch() == 1  # the notice; the reminder for the new time is due in two days
    sending.work()

    bodies = _bodies(sending)
    assert len(bodies) == 2
    assert bodies[1].startswith("Ihr Termin wurde verlegt auf ")
    assert _local(new).strftime("%d.%m.%Y um %H:%M") in bodies[1]
    notice, = [row for row in _rows() if row.kind == "moved_notice"]
    assert notice.status == "submitted" and notice.body == bodies[1]
    reminder, = [row for row in _rows() if row.kind == "reminder" and row.start_at == new]
    assert reminder.status == "planned" and reminder.due_at == new - timedelta(hours=24)
    assert sending.dispatch() == 0  # nothing sent twice


def test_when_the_new_reminder_is_due_at_once_one_sms_goes_out(sending, make, api):
    program, start = _reminded(sending, make, api)
    new = start + timedelta(hours=2)  # its reminder (24 hours before) is due at once

    _move(program, new, revision=2)
    assert sending.dispatch() == 1
    sending.work()
    assert sending.dispatch() == 0

    bodies = _bodies(sending)
    assert len(bodies) == 2, bodies  # the first reminder and the one notice, nothing more
    assert bodies[1] == f"Ihr Termin wurde verlegt auf {_weekday(new)}, {_local(new):%d.%m.%Y um %H:%M}."
    assert [(row.kind, row.status) for row in _rows()] == [("reminder", "submitted"), ("moved_notice", "submitted")]
    shown = program.get("/appointments/a-1").json["reminder"]
    assert shown["kind"] == "moved_notice" and shown["status"] == "submitted" and shown["body"] == bodies[1]


def test_a_cancel_sends_the_cancelled_notice_with_the_old_time(sending, make, api):
    program, start = _reminded(sending, make, api)

    assert program.delete("/appointments/a-1").status_code in (200, 204)
    assert sending.dispatch() == 1
    sending.work()

    bodies = _bodies(sending)
    assert len(bodies) == 2
    assert bodies[1] == f"Ihr Termin am {_local(start):%d.%m.%Y um %H:%M} wurde abgesagt."
    # its own timeline entries, with the text as submitted
    notice, = [row for row in _rows() if row.kind == "cancelled_notice"]
    events = sending.events(notice.id)
    assert [kind for kind, _ in events][:3] == ["planned", "claimed", "submitted"]
    assert dict(events)["submitted"]["text"] == bodies[1]


def test_a_move_undone_before_the_notice_went_out_sends_nothing(sending, make, api):
    program, start = _reminded(sending, make, api)

    _move(program, start + timedelta(days=3), revision=2)
    _move(program, start, revision=3)
    assert sending.dispatch() == 0
    sending.work()

    assert len(_bodies(sending)) == 1
    notice, = [row for row in _rows() if row.kind == "moved_notice"]
    assert (notice.status, notice.reason) == ("cancelled", "change_undone")


def test_a_notice_beyond_the_quota_is_skipped_and_counted_like_a_reminder(sending, make, api):
    from portal.sending import quota_usage

    practice = make.practice(**NO_QUIET, sms_enabled=True)
    make.licence(practice, monthly_quota=1)
    program, _ = _reminded(sending, make, api, practice=practice)

    program.delete("/appointments/a-1")
    sending.dispatch()
    sending.work()

    assert len(_bodies(sending)) == 1
    notice, = [row for row in _rows() if row.kind == "cancelled_notice"]
    assert (notice.status, notice.reason) == ("skipped", "quota_exceeded")
    assert quota_usage(db.session.merge(practice)) == (1, 1)


def test_a_notice_counts_against_the_quota(sending, make, api):
    from portal.sending import quota_usage

    practice = make.practice(**NO_QUIET, sms_enabled=True)
    make.licence(practice, monthly_quota=5)
    program, _ = _reminded(sending, make, api, practice=practice)

    program.delete("/appointments/a-1")
    sending.dispatch()
    sending.work()

    assert len(_bodies(sending)) == 2
    assert quota_usage(db.session.merge(practice)) == (2, 5)


def _weekday(moment):
    return ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")[_local(moment).weekday()]
