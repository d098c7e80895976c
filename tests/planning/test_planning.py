"""Planning a reminder row per appointment and start time, from the effective settings."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select

from portal.extensions import db
from portal.models import Licence, Reminder
from portal.planning import plan_appointment, replan_patient, replan_practice
from portal.sending.submission import check_before_send, compose

from .conftest import NOW, berlin, events_of, reminders_of


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_a_new_appointment_is_planned_the_evening_before_at_six(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    db.session.commit()
    assert (reminder.status, reminder.reason) == ("planned", None)
    assert reminder.due_at == berlin(2026, 11, 23, 18, 0)
    assert reminder.start_at == berlin(2026, 11, 24, 10, 0)
    [planned] = events_of(appointment, "planned")
    assert planned.data["due_at"] == "2026-11-23T17:00:00+00:00"
    assert planned.reminder_id == reminder.id


def test_planning_twice_changes_nothing_and_writes_no_event(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    first = plan_appointment(appointment, NOW)
    db.session.commit()
    before = len(events_of(appointment))
    again = plan_appointment(appointment, NOW + timedelta(hours=3))
    db.session.commit()
    assert again.id == first.id and again.due_at == berlin(2026, 11, 23, 18, 0)
    assert len(events_of(appointment)) == before
    assert len(reminders_of(appointment)) == 1


def test_a_move_cancels_the_old_plan_and_plans_the_new_start(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    old = plan_appointment(appointment, NOW)
    appointment.start_at = berlin(2026, 11, 26, 15, 30)
    new = plan_appointment(appointment, NOW)
    db.session.commit()
    assert (old.status, old.reason) == ("cancelled", "appointment_moved")
    assert (new.status, new.due_at) == ("planned", berlin(2026, 11, 25, 18, 0))
    [cancelled] = events_of(appointment, "reminder_cancelled")
    assert cancelled.data["reason"] == "appointment_moved"
    assert cancelled.data["due_at"] == "2026-11-23T17:00:00+00:00"


def test_moving_back_reuses_that_start_times_row(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    first = plan_appointment(appointment, NOW)
    appointment.start_at = berlin(2026, 11, 26, 15, 30)
    plan_appointment(appointment, NOW)
    appointment.start_at = berlin(2026, 11, 24, 10, 0)
    back = plan_appointment(appointment, NOW)
    db.session.commit()
    assert back.id == first.id and back.status == "planned"
    assert [(r.status, r.reason) for r in reminders_of(appointment)] == [
        ("planned", None), ("cancelled", "appointment_moved")]


def test_a_reminder_already_submitted_is_never_sent_again_for_that_start(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    reminder.status, reminder.submitted_at = "submitted", NOW
    appointment.start_at = berlin(2026, 11, 26, 15, 30)
    plan_appointment(appointment, NOW)
    appointment.start_at = berlin(2026, 11, 24, 10, 0)
    again = plan_appointment(appointment, NOW)
    db.session.commit()
    assert again.id == reminder.id and again.status == "submitted"
    assert sum(r.status in ("planned", "submitted") for r in reminders_of(appointment)) == 1


def test_a_reminder_whose_submission_began_is_left_to_the_sender(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    reminder.status, reminder.submit_started_at = "queued", NOW
    appointment.cancelled_at = NOW
    plan_appointment(appointment, NOW)
    db.session.commit()
    assert reminder.status == "queued"
    assert check_before_send(reminder, NOW) == "appointment_cancelled"


def test_a_claimed_reminder_not_yet_submitted_is_cancelled_at_once(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    reminder.status, reminder.claim_token = "queued", "token"
    db.session.commit()
    appointment.cancelled_at = NOW
    plan_appointment(appointment, NOW)
    db.session.commit()
    assert (reminder.status, reminder.reason, reminder.claim_token) == ("cancelled", "appointment_cancelled", None)
    assert events_of(appointment, "reminder_cancelled")[-1].data["reason"] == "appointment_cancelled"


def test_consent_withdrawn_after_the_claim_cancels_the_claimed_reminder(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    reminder.status, reminder.claim_token = "queued", "token"
    patient.sms_consent = False
    db.session.commit()
    replan_patient(patient, NOW)
    db.session.commit()
    assert (reminder.status, reminder.reason) == ("cancelled", "consent_withdrawn")


def test_cancellation_cancels_the_plan(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    appointment.cancelled_at = NOW
    plan_appointment(appointment, NOW)
    db.session.commit()
    assert (reminder.status, reminder.reason) == ("cancelled", "appointment_cancelled")


def test_withdrawn_consent_cancels_and_given_consent_plans_again(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    patient.sms_consent = False
    replan_patient(patient, NOW)
    assert (reminder.status, reminder.reason) == ("cancelled", "consent_withdrawn")
    replan_patient(patient, NOW)
    assert (reminder.status, reminder.reason) == ("cancelled", "consent_withdrawn")
    patient.sms_consent = True
    replan_patient(patient, NOW)
    db.session.commit()
    assert (reminder.status, reminder.due_at) == ("planned", berlin(2026, 11, 23, 18, 0))


def test_a_patient_who_never_consented_is_skipped(make, practice):
    patient = make.patient(practice, sms_consent=False)
    reminder = plan_appointment(make.appointment(patient, berlin(2026, 11, 24, 10, 0)), NOW)
    assert (reminder.status, reminder.reason, reminder.due_at) == ("skipped", "no_consent", None)


def test_an_invalid_or_missing_mobile_skips(make, practice):
    typo = make.patient(practice, mobile="O170 1234567")
    nothing = make.patient(practice, mobile=None)
    assert plan_appointment(make.appointment(typo, berlin(2026, 11, 24, 10)), NOW).reason == "invalid_mobile"
    assert plan_appointment(make.appointment(nothing, berlin(2026, 11, 24, 11)), NOW).reason == "missing_mobile"


def test_tick_off_skips_and_tick_on_plans(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0), sms_reminder=False)
    reminder = plan_appointment(appointment, NOW)
    assert (reminder.status, reminder.reason) == ("skipped", "appointment_opt_out")
    appointment.sms_reminder = True
    plan_appointment(appointment, NOW)
    db.session.commit()
    assert reminder.status == "planned"
    assert [e.kind for e in events_of(appointment)] == ["skipped", "planned"]


def test_a_lost_licence_skips_the_whole_practice_and_a_new_one_plans_again(make, practice, patient):
    appointments = [make.appointment(patient, berlin(2026, 11, 24 + n, 10, 0)) for n in range(3)]
    replan_practice(practice, NOW)
    make.licence(practice, status="suspended")
    replan_practice(practice, NOW)
    db.session.commit()
    assert {(r.status, r.reason) for a in appointments for r in reminders_of(a)} == {("skipped", "no_licence")}
    make.licence(practice)
    replan_practice(practice, NOW)
    db.session.commit()
    assert {r.status for a in appointments for r in reminders_of(a)} == {"planned"}


def test_sms_switched_off_for_the_practice_skips(make, practice, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    practice.sms_enabled = False
    assert plan_appointment(appointment, NOW).reason == "sms_disabled"


def test_practice_settings_move_the_due_time(make, practice, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    practice.send_policy, practice.hours_before = "hours_before", 3
    replan_practice(practice, NOW)
    db.session.commit()
    # 07:00 lies in the quiet hours (21:00-08:00): one minute before they begin.
    assert reminder.due_at == berlin(2026, 11, 23, 20, 59)
    assert [e.kind for e in events_of(appointment)] == ["planned", "planned"]


def test_group_settings_apply_unless_the_practice_overrides_them(make, practice, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    practice.group.send_time = "17:15"
    assert plan_appointment(appointment, NOW).due_at == berlin(2026, 11, 23, 17, 15)
    practice.send_time = "19:00"
    assert plan_appointment(appointment, NOW).due_at == berlin(2026, 11, 23, 19, 0)


def test_synced_late_is_sent_at_once(make, patient, clock):
    late = utc(2026, 11, 23, 19, 0)  # 20:00 in Berlin, after the 18:00 due time
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, late)
    assert (reminder.status, reminder.due_at) == ("planned", late)


def test_synced_during_quiet_hours_waits_for_their_end(make, patient):
    night = berlin(2026, 11, 23, 23, 0)
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    assert plan_appointment(appointment, night).due_at == berlin(2026, 11, 24, 8, 0)


def test_too_late_is_skipped(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, berlin(2026, 11, 24, 9, 30))  # 30 minutes ahead, lead is 60
    assert (reminder.status, reminder.reason, reminder.due_at) == ("skipped", "too_late", None)
    assert events_of(appointment, "skipped")[0].data["reason"] == "too_late"


def test_a_planned_reminder_already_due_keeps_its_time_on_replanning(make, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    db.session.commit()
    count = len(events_of(appointment))
    plan_appointment(appointment, berlin(2026, 11, 23, 18, 5))  # dispatcher not there yet
    assert reminder.due_at == berlin(2026, 11, 23, 18, 0) and len(events_of(appointment)) == count


def test_due_times_on_both_dst_change_days(make, patient, clock):
    clock.move_to(datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc))
    make.licence(patient.practice)
    spring = make.appointment(patient, berlin(2026, 3, 30, 10, 0))
    autumn = make.appointment(patient, berlin(2026, 10, 26, 10, 0))
    now = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert plan_appointment(spring, now).due_at == utc(2026, 3, 29, 16, 0)  # 18:00 CEST
    assert plan_appointment(autumn, now).due_at == utc(2026, 10, 25, 17, 0)  # 18:00 CET


def test_replanning_a_practice_takes_a_fixed_number_of_queries(make, practice):
    patients = [make.patient(practice) for _ in range(3)]
    for n in range(60):
        make.appointment(patients[n % 3], berlin(2026, 11, 24, 8, 0) + timedelta(hours=n))
    db.session.expire_all()
    small = _selects(lambda: replan_practice(practice, NOW))
    for n in range(60, 240):
        make.appointment(patients[n % 3], berlin(2026, 11, 24, 8, 0) + timedelta(hours=n))
    db.session.expire_all()
    large = _selects(lambda: replan_practice(practice, NOW))
    assert large == small <= 10
    assert db.session.scalar(select(Reminder.id).where(Reminder.status != "planned")) is None


def _selects(action) -> int:
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


# --- just before sending ----------------------------------------------------------

def test_check_before_send_finds_what_changed(make, practice, patient):
    appointment = make.appointment(patient, berlin(2026, 11, 24, 10, 0))
    reminder = plan_appointment(appointment, NOW)
    assert check_before_send(reminder, NOW) is None
    appointment.start_at = berlin(2026, 11, 24, 11, 0)
    assert check_before_send(reminder, NOW) == "appointment_moved"
    appointment.start_at = berlin(2026, 11, 24, 10, 0)
    patient.sms_consent = False
    assert check_before_send(reminder, NOW) == "consent_withdrawn"
    patient.sms_consent = True
    appointment.sms_reminder = False
    assert check_before_send(reminder, NOW) == "appointment_opt_out"
    appointment.sms_reminder = True
    db.session.add(Licence(practice=practice, status="revoked", valid_from=NOW.date()))
    db.session.flush()
    db.session.refresh(practice, ["licences"])
    assert check_before_send(reminder, NOW) == "no_licence"


def test_check_before_send_refuses_an_appointment_that_has_begun(make, practice, patient):
    start = berlin(2026, 11, 24, 10, 0)
    reminder = plan_appointment(make.appointment(patient, start), NOW)
    assert check_before_send(reminder, start - timedelta(minutes=5)) is None
    assert check_before_send(reminder, start - timedelta(seconds=30)) == "too_late"
    assert check_before_send(reminder, start + timedelta(hours=2)) == "too_late"


def test_check_before_send_ignores_the_quota(make, practice, patient):
    make.licence(practice, monthly_quota=0)
    reminder = plan_appointment(make.appointment(patient, berlin(2026, 11, 24, 10, 0)), NOW)
    assert check_before_send(reminder, NOW) is None


def test_compose_renders_the_practice_text_in_local_time(make, practice, patient):
    practice.template = ("{anrede} {nachname}: {wochentag}, {datum} um {uhrzeit} bei {therapeut}, "
                         "{praxis} {praxis_telefon}")
    practice.sender = "PraxisMarkt"
    appointment = make.appointment(patient, datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc), therapist="Max Beispiel")
    composed = compose(plan_appointment(appointment, NOW), NOW)
    assert composed.body == ("Frau Mustermann: Dienstag, 24.11.2026 um 10:00 bei Max Beispiel, "
                             "Praxis am Markt 030 1234567")
    assert (composed.recipient, composed.sender) == ("+491701234567", "PraxisMarkt")
    assert (composed.encoding, composed.segments) == ("GSM-7", 1)


def test_compose_counts_segments_of_long_and_unicode_texts(make, practice, patient):
    practice.template = "Bis bald 🙂 {vorname}"
    composed = compose(plan_appointment(make.appointment(patient, berlin(2026, 11, 24, 10)), NOW), NOW)
    assert composed.body == "Bis bald 🙂 Erika" and composed.encoding == "UCS-2"
    practice.template = "x" * 161
    assert compose(plan_appointment(make.appointment(patient, berlin(2026, 11, 25, 10)), NOW), NOW).segments == 2
