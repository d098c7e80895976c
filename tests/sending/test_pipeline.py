"""A due reminder reaches the provider once, with the text stored as submitted,
and its delivery report comes back through the signed webhook."""
from collections import Counter
from datetime import datetime, timedelta, timezone

from portal.extensions import db
from portal.models import Appointment, AuditEntry
from portal.planning import plan_appointment
from portal.sending import quota_usage
from sqlalchemy import select

from .conftest import wait_until


def test_a_due_reminder_is_submitted_and_its_delivery_report_recorded(sending, due):
    [reminder_id] = due(1)

    assert sending.dispatch() == 1
    sending.work()

    reminder = sending.reminder(reminder_id)
    assert reminder.status == "submitted"
    assert reminder.recipient.startswith("+49170") and len(reminder.recipient) == 13
    assert reminder.body and reminder.sender and reminder.encoding == "GSM-7" and reminder.segments == 1
    [message] = sending.messages()
    sent = message["message"]
    assert sent["id"] == reminder.provider_message_id
    assert sent["reference"] == str(reminder_id)
    assert sent["body"] == reminder.body and sent["originator"] == reminder.sender
    assert message["reportUrl"] == sending.portal_url + "/webhooks/messagebird/status"
    # validity ends at the appointment, about three hours from now
    assert 3 * 3600 - 120 < sent["validity"] <= 3 * 3600

    delivered = wait_until(lambda: sending.reminder(reminder_id).delivery_status == "delivered",
                           message="the delivery report")
    assert delivered
    assert sending.reminder(reminder_id).delivered_at is not None
    kinds = [kind for kind, _ in sending.events(reminder_id)]
    assert kinds[:2] == ["claimed", "submitted"]
    wait_until(lambda: Counter(kind for kind, _ in sending.events(reminder_id))["delivery_report"] == 2,
               message="both reports as events")
    submitted = dict(sending.events(reminder_id))["submitted"]
    assert submitted["text"] == reminder.body and submitted["message_id"] == reminder.provider_message_id


def test_nothing_is_due_nothing_is_claimed(sending, make):
    practice = make.licensed_practice()
    patient = make.patient(practice)
    appointment = make.appointment(patient, datetime.now(timezone.utc) + timedelta(days=2))
    make.reminder(appointment, due_at=datetime.now(timezone.utc) + timedelta(hours=5))

    assert sending.dispatch() == 0
    assert sending.messages() == []


def test_sending_is_disabled_without_an_access_key(sending, due, app, monkeypatch):
    [reminder_id] = due(1)
    monkeypatch.setitem(app.config, "MESSAGEBIRD_ACCESS_KEY", None)

    assert sending.dispatch() == 0
    assert sending.reminder(reminder_id).status == "planned"


def test_cli_dispatch_prints_how_many(sending, due, runner, app):
    due(3)
    result = runner.invoke(args=["reminders", "dispatch"])
    assert result.exit_code == 0, result.output
    assert "dispatched 3 reminders" in result.output


def test_a_cancelled_appointment_gets_nothing_even_when_already_claimed(sending, due, ctx, make, api):
    practice = make.licensed_practice()
    program = api(make.practice_key(practice))
    [reminder_id] = due(1, practice=practice)
    assert sending.dispatch() == 1  # claimed and queued, the send job not yet run

    appointment = db.session.get(Appointment, sending.reminder(reminder_id).appointment_id)
    assert program.delete(f"/appointments/{appointment.external_id}").status_code in (200, 204)
    # final at once: the practice program sees it cancelled before any send job has run
    shown = program.get(f"/appointments/{appointment.external_id}").json["reminder"]
    assert (shown["status"], shown["reason"]) == ("cancelled", "appointment_cancelled")
    sending.work()

    reminder = sending.reminder(reminder_id)
    assert (reminder.status, reminder.reason, reminder.submit_started_at) == ("cancelled", "appointment_cancelled",
                                                                               None)
    assert sending.messages() == []
    assert [kind for kind, _ in sending.events(reminder_id)] == ["claimed", "reminder_cancelled"]


def test_a_claimed_reminder_is_refused_at_send_time_when_planning_did_not_see_the_change(sending, due, ctx):
    [reminder_id] = due(1)
    assert sending.dispatch() == 1
    appointment = db.session.get(Appointment, sending.reminder(reminder_id).appointment_id)
    appointment.cancelled_at = datetime.now(timezone.utc)  # written without re-planning
    db.session.commit()
    sending.work()

    assert sending.reminder(reminder_id).status == "cancelled"
    assert sending.messages() == []
    assert ("reminder_cancelled", {"reason": "appointment_cancelled", "at_send": True}) in sending.events(reminder_id)


def test_a_moved_appointment_gets_nothing_for_its_old_time(sending, due, ctx):
    [reminder_id] = due(1)
    assert sending.dispatch() == 1

    appointment = db.session.get(Appointment, sending.reminder(reminder_id).appointment_id)
    appointment.start_at = appointment.start_at + timedelta(days=3)
    plan_appointment(appointment)
    db.session.commit()
    sending.work()

    reminder = sending.reminder(reminder_id)
    assert (reminder.status, reminder.reason) == ("cancelled", "appointment_moved")
    assert sending.messages() == []


def test_the_monthly_quota_stops_sending_and_warns_from_80_percent(sending, due, make, ctx):
    practice = make.practice()
    make.licence(practice, monthly_quota=4)
    practice.sms_enabled = True
    db.session.commit()
    reminder_ids = due(5, practice=practice)

    sending.settle()

    statuses = Counter((sending.reminder(i).status, sending.reminder(i).reason) for i in reminder_ids)
    assert statuses == {("submitted", None): 4, ("skipped", "quota_exceeded"): 1}
    assert len(sending.messages()) == 4
    db.session.expire_all()
    assert quota_usage(practice) == (4, 4)
    warnings = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "quota.warning")).all()
    assert len(warnings) == 1 and warnings[0].practice_id == practice.id
    assert warnings[0].after["quota"] == 4


def test_quota_usage_without_quota_is_unlimited(sending, due, make, ctx):
    practice = make.licensed_practice()
    due(2, practice=practice)
    sending.settle()
    db.session.expire_all()
    assert quota_usage(practice) == (2, None)


def test_an_appointment_already_begun_is_too_late(sending, make):
    practice = make.licensed_practice()
    appointment = make.appointment(make.patient(practice), datetime.now(timezone.utc) - timedelta(minutes=5))
    reminder_id = make.reminder(appointment, due_at=datetime.now(timezone.utc) - timedelta(hours=3)).id

    sending.settle()

    assert (sending.reminder(reminder_id).status, sending.reminder(reminder_id).reason) == ("skipped", "too_late")
    assert sending.messages() == []
