"""Change notices, through the practice API: a moved or cancelled appointment whose reminder
already went out gets a short notice; an undone change takes a pending one back."""
from datetime import timedelta

from portal.extensions import db
from portal.models import Appointment
from portal.sending.submission import check_before_send, compose

from .conftest import NOW, berlin, events_of, reminders_of

START = berlin(2026, 11, 24, 10, 0)


def _sent_reminder(make, patient, start=START, external_id="a-1"):
    """An appointment whose reminder went out an hour ago."""
    appointment = make.appointment(patient, start, external_id=external_id)
    make.reminder(appointment, due_at=NOW - timedelta(hours=1), status="submitted",
                  submit_started_at=NOW - timedelta(hours=1), submitted_at=NOW - timedelta(hours=1),
                  body="Guten Tag ...", recipient="+491701234567")
    return appointment


def _put(program, start, patient="p-1", external_id="a-1", **extra):
    response = program.put(f"/appointments/{external_id}", json={"patient": patient, "start": start.isoformat(), **extra})
    assert response.status_code in (200, 201), response.json
    return response.json


def _rows(appointment):
    db.session.expire_all()
    return {(row.kind, row.start_at): row for row in reminders_of(appointment)}


def test_a_move_after_the_reminder_went_out_plans_a_moved_notice_now_and_the_new_reminder_as_usual(
        make, api, practice, patient):
    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))
    new = berlin(2026, 11, 27, 15, 30)

    answer = _put(program, new, change_source="calendar_drag")

    rows = _rows(appointment)
    notice = rows[("moved_notice", new)]
    assert (notice.status, notice.due_at) == ("planned", NOW)
    reminder = rows[("reminder", new)]
    assert (reminder.status, reminder.due_at) == ("planned", berlin(2026, 11, 26, 18, 0))
    assert answer["reminder"]["status"] == "planned" and answer["reminder"]["kind"] == "reminder"
    assert rows[("reminder", START)].status == "submitted"  # the old one is history
    # rendered with the new time, from the practice's moved text
    assert compose(notice, NOW).body == "Ihr Termin wurde verlegt auf Freitag, 27.11.2026 um 15:30."
    assert check_before_send(notice, NOW) is None
    planned = [event for event in events_of(appointment, "planned") if event.reminder_id == notice.id]
    assert planned and planned[0].data["due_at"] == NOW.isoformat()


def test_when_the_new_reminder_is_due_at_once_the_notice_is_that_reminder(make, api, practice, patient):
    appointment = _sent_reminder(make, patient, start=berlin(2026, 11, 20, 16, 0))
    program = api(make.practice_key(practice))
    new = berlin(2026, 11, 20, 17, 30)  # its reminder was due yesterday at 18:00: at once

    answer = _put(program, new)

    rows = _rows(appointment)
    assert set(rows) == {("reminder", berlin(2026, 11, 20, 16, 0)), ("moved_notice", new)}
    notice = rows[("moved_notice", new)]
    assert (notice.status, notice.due_at) == ("planned", NOW)
    # the practice program sees the one SMS for the new time: the notice, with the moved text
    assert answer["reminder"]["kind"] == "moved_notice" and answer["reminder"]["status"] == "planned"
    assert program.get("/appointments/a-1").json["reminder"]["kind"] == "moved_notice"
    assert compose(notice, NOW).body == "Ihr Termin wurde verlegt auf Freitag, 20.11.2026 um 17:30."


def test_a_cancel_plans_a_cancelled_notice_with_the_old_time(make, api, practice, patient):
    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))

    assert program.delete("/appointments/a-1", json={"change_source": "dialog"}).status_code in (200, 204)

    notice = _rows(appointment)[("cancelled_notice", START)]
    assert (notice.status, notice.due_at) == ("planned", NOW)
    assert compose(notice, NOW).body == "Ihr Termin am 24.11.2026 um 10:00 wurde abgesagt."
    assert check_before_send(notice, NOW) is None


def test_a_move_undone_before_the_notice_went_out_sends_nothing(make, api, practice, patient):
    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))
    new = berlin(2026, 11, 27, 15, 30)
    _put(program, new, revision=1)

    _put(program, START, revision=2)

    rows = _rows(appointment)
    notice = rows[("moved_notice", new)]
    assert (notice.status, notice.reason) == ("cancelled", "change_undone")
    assert [row for row in rows.values() if row.status in ("planned", "queued")] == []
    assert rows[("reminder", START)].status == "submitted"


def test_a_move_undone_after_the_notice_was_claimed_is_taken_back(make, api, practice, patient, app):
    from portal.sending import claim_due

    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))
    new = berlin(2026, 11, 27, 15, 30)
    _put(program, new, revision=1)
    claim = claim_due(NOW)
    notice = _rows(appointment)[("moved_notice", new)]
    assert claim.reminder_ids == [notice.id]

    _put(program, START, revision=2)

    notice = _rows(appointment)[("moved_notice", new)]
    assert (notice.status, notice.reason) == ("cancelled", "change_undone")


def test_a_cancel_undone_takes_its_notice_back(make, api, practice, patient):
    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))
    program.delete("/appointments/a-1")

    _put(program, START, revision=1)  # restored at the same time

    notice = _rows(appointment)[("cancelled_notice", START)]
    assert (notice.status, notice.reason) == ("cancelled", "change_undone")


def test_a_move_while_a_notice_is_pending_replaces_it(make, api, practice, patient):
    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))
    first, second = berlin(2026, 11, 27, 15, 30), berlin(2026, 11, 28, 9, 0)
    _put(program, first)
    _put(program, second)
    program.delete("/appointments/a-1")

    rows = _rows(appointment)
    assert (rows[("moved_notice", first)].status, rows[("moved_notice", first)].reason) == \
        ("cancelled", "appointment_moved")
    assert rows[("moved_notice", second)].reason == "appointment_cancelled"
    # the patient knows only the first time: the cancel notice names it
    cancelled = rows[("cancelled_notice", START)]
    assert cancelled.status == "planned"
    assert compose(cancelled, NOW).body == "Ihr Termin am 24.11.2026 um 10:00 wurde abgesagt."


def test_a_move_after_the_appointment_began_sends_no_notice(make, api, practice, patient):
    began = NOW - timedelta(minutes=30)
    appointment = _sent_reminder(make, patient, start=began)
    program = api(make.practice_key(practice))
    new = berlin(2026, 11, 27, 15, 30)

    _put(program, new)

    rows = _rows(appointment)
    assert set(rows) == {("reminder", began), ("reminder", new)}
    assert rows[("reminder", new)].status == "planned"


def test_a_cancel_after_the_appointment_began_sends_no_notice(make, api, practice, patient):
    appointment = _sent_reminder(make, patient, start=NOW - timedelta(minutes=5))
    program = api(make.practice_key(practice))

    program.delete("/appointments/a-1")

    assert [kind for kind, _ in _rows(appointment)] == ["reminder"]


def test_moving_an_appointment_whose_reminder_was_never_sent_is_plain_re_planning(make, api, practice, patient):
    program = api(make.practice_key(practice))
    _put(program, START)
    appointment = db.session.query(Appointment).filter_by(external_id="a-1").one()

    _put(program, berlin(2026, 11, 27, 15, 30))
    program.delete("/appointments/a-1")

    assert {kind for kind, _ in _rows(appointment)} == {"reminder"}


def test_a_notice_due_in_quiet_hours_waits_until_they_end(make, api, practice, patient, clock):
    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))
    clock.move_to(berlin(2026, 11, 20, 22, 15))  # quiet hours 21:00 to 08:00

    _put(program, berlin(2026, 11, 27, 15, 30))

    notice = _rows(appointment)[("moved_notice", berlin(2026, 11, 27, 15, 30))]
    assert (notice.status, notice.due_at) == ("planned", berlin(2026, 11, 21, 8, 0))
    from portal.sending import claim_due
    assert claim_due(berlin(2026, 11, 21, 7, 59)).reminder_ids == []
    assert claim_due(berlin(2026, 11, 21, 8, 0)).reminder_ids == [notice.id]


def test_a_notice_that_cannot_wait_for_the_morning_is_too_late(make, api, practice, patient, clock):
    appointment = _sent_reminder(make, patient, start=berlin(2026, 11, 21, 7, 30))
    program = api(make.practice_key(practice))
    clock.move_to(berlin(2026, 11, 20, 22, 15))

    program.delete("/appointments/a-1")

    notice = _rows(appointment)[("cancelled_notice", berlin(2026, 11, 21, 7, 30))]
    assert (notice.status, notice.reason) == ("skipped", "notice_too_late")


def test_with_the_notice_switch_off_no_notice_is_sent(make, api, practice, patient):
    practice.change_notice = False
    db.session.commit()
    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))

    program.delete("/appointments/a-1")

    notice = _rows(appointment)[("cancelled_notice", START)]
    assert (notice.status, notice.reason) == ("skipped", "notices_disabled")
    from portal.sending import claim_due
    assert claim_due(NOW).reminder_ids == []


def test_the_group_switch_is_inherited(make, api, clock):
    group = make.group(change_notice=False)
    practice = make.licensed_practice(group=group)
    patient = make.patient(practice, "p-1")
    appointment = _sent_reminder(make, patient)

    api(make.practice_key(practice)).delete("/appointments/a-1")

    assert _rows(appointment)[("cancelled_notice", START)].reason == "notices_disabled"


def test_consent_withdrawn_before_the_notice_went_out_stops_it(make, api, practice, patient):
    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))
    _put(program, berlin(2026, 11, 27, 15, 30))

    program.put("/patients/p-1", json={"first_name": "Erika", "last_name": "Mustermann",
                                       "mobile": "0170 1234567", "sms_consent": False})

    notice = _rows(appointment)[("moved_notice", berlin(2026, 11, 27, 15, 30))]
    assert (notice.status, notice.reason) == ("cancelled", "consent_withdrawn")


def test_an_outcome_unknown_counts_as_sent_a_refused_reminder_does_not(make, api, practice, patient):
    unknown = make.appointment(patient, START, external_id="a-1")
    make.reminder(unknown, status="failed", reason="provider_error", provider_error_code="outcome_unknown",
                  submit_started_at=NOW - timedelta(hours=1))
    refused = make.appointment(patient, START, external_id="a-2")
    make.reminder(refused, status="failed", reason="provider_error", provider_error_code="9",
                  submit_started_at=NOW - timedelta(hours=1))
    program = api(make.practice_key(practice))

    _put(program, berlin(2026, 11, 27, 15, 30), external_id="a-1")
    _put(program, berlin(2026, 11, 27, 15, 30), external_id="a-2")

    assert ("moved_notice", berlin(2026, 11, 27, 15, 30)) in _rows(unknown)  # the patient may hold it
    assert {kind for kind, _ in _rows(refused)} == {"reminder"}


def _sync(program, *operations):
    response = program.post("/sync", json={"operations": list(operations)})
    assert response.status_code == 200 and response.json["failed"] == 0, response.json
    return response.json["results"]


def _put_op(start, external_id="a-1", revision=None):
    data = {"patient": "p-1", "start": start.isoformat(), **({"revision": revision} if revision else {})}
    return {"op": "put_appointment", "id": external_id, "data": data}


def test_a_sync_batch_moves_cancels_and_undoes_like_single_requests(make, api, practice, patient):
    moved = _sent_reminder(make, patient, external_id="a-1")
    undone = _sent_reminder(make, patient, external_id="a-2")
    cancelled = _sent_reminder(make, patient, external_id="a-3")
    program = api(make.practice_key(practice))
    new = berlin(2026, 11, 27, 15, 30)

    results = _sync(program, _put_op(new, "a-1"),
                    _put_op(new, "a-2", revision=1), _put_op(START, "a-2", revision=2),
                    {"op": "delete_appointment", "id": "a-3"})

    assert results[0]["result"]["reminder"]["kind"] == "reminder"
    assert _rows(moved)[("moved_notice", new)].status == "planned"
    assert _rows(undone)[("moved_notice", new)].reason == "change_undone"
    assert _rows(cancelled)[("cancelled_notice", START)].status == "planned"


def test_the_send_time_check_asks_the_same_rules(make, api, practice, patient):
    """A change that reaches the database without planning (a race) still stops the notice at send time."""
    appointment = _sent_reminder(make, patient)
    program = api(make.practice_key(practice))
    program.delete("/appointments/a-1")
    notice = _rows(appointment)[("cancelled_notice", START)]

    appointment.cancelled_at = None
    assert check_before_send(notice, NOW) == "change_undone"
    appointment.cancelled_at = NOW
    assert check_before_send(notice, START - timedelta(seconds=30)) == "notice_too_late"
    appointment.patient.sms_consent = False
    assert check_before_send(notice, NOW) == "consent_withdrawn"


def test_a_notice_that_was_the_reminder_stays_so_after_it_went_out(make, api, practice, patient):
    from portal.planning import replan_practice

    appointment = _sent_reminder(make, patient, start=berlin(2026, 11, 20, 16, 0))
    program = api(make.practice_key(practice))
    new = berlin(2026, 11, 20, 17, 30)
    _put(program, new)
    notice = _rows(appointment)[("moved_notice", new)]
    notice.status, notice.submit_started_at, notice.submitted_at = "submitted", NOW, NOW
    db.session.commit()

    replan_practice(practice, NOW + timedelta(minutes=5))
    db.session.commit()

    assert set(_rows(appointment)) == {("reminder", berlin(2026, 11, 20, 16, 0)), ("moved_notice", new)}


def test_a_notice_that_is_the_reminder_goes_out_even_when_the_earlier_sms_never_did(make, api, practice, patient):
    """The old reminder was in flight at the move, then its retry was taken back: the notice still reminds."""
    from portal.sending import state

    start = berlin(2026, 11, 20, 16, 0)
    appointment = make.appointment(patient, start, external_id="a-1")
    old = make.reminder(appointment, status="queued", claim_token="t", submit_started_at=NOW - timedelta(minutes=1))
    program = api(make.practice_key(practice))
    new = berlin(2026, 11, 20, 17, 30)
    _put(program, new)  # the old one may still arrive: the notice is planned, and is the reminder for 17:30
    notice = _rows(appointment)[("moved_notice", new)]
    assert notice.status == "planned"

    old.submit_started_at = None  # a transient failure gave the claim back ...
    db.session.commit()
    assert state.take_back(old, "cancelled", "appointment_moved", NOW)  # ... and its re-check took it back
    db.session.commit()

    assert check_before_send(notice, NOW) is None
