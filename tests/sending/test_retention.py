"""Message texts and delivery details go after RETENTION_DAYS; the counts stay."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from jobs.retention import purge
from portal.extensions import db
from portal.models import AppointmentEvent, DeliveryReport, Reminder, WebhookNonce


def test_old_texts_and_details_are_purged_recent_ones_kept(make, app, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_DAYS", 90)
    now = datetime.now(timezone.utc)
    practice = make.licensed_practice()
    old_at, new_at = now - timedelta(days=91), now - timedelta(days=89)
    rows = {}
    for label, at in (("old", old_at), ("new", new_at)):
        appointment = make.appointment(make.patient(practice), at + timedelta(days=1))
        reminder = make.reminder(appointment, status="submitted", body=f"Text {label}", recipient="+491701234567",
                                 submit_started_at=at, submitted_at=at, provider_message_id=f"m-{label}")
        db.session.add(DeliveryReport(reminder_id=reminder.id, practice_id=practice.id,
                                      provider_message_id=f"m-{label}", recipient="491701234567",
                                      status="delivered", status_at=at, received_at=at,
                                      details={"mccmnc": "26203"}))
        # a report without extra fields still carries the phone number
        db.session.add(DeliveryReport(reminder_id=reminder.id, practice_id=practice.id,
                                      provider_message_id=f"m-{label}", recipient="491701234567",
                                      status="sent", status_at=at - timedelta(seconds=5), received_at=at))
        db.session.add(AppointmentEvent(appointment_id=appointment.id, practice_id=practice.id,
                                        reminder_id=reminder.id, at=at, kind="submitted",
                                        data={"text": f"Text {label}", "recipient": "+49170***567"}))
        rows[label] = reminder.id
    db.session.add(WebhookNonce(jti="old-jti", expires_at=now - timedelta(minutes=1)))
    db.session.commit()

    counts = purge(now)

    assert counts == {"reminders": 1, "delivery_reports": 2, "events": 1, "nonces": 1, "replies": 0,
                      "inbound_messages": 0}
    db.session.expire_all()
    old, new = db.session.get(Reminder, rows["old"]), db.session.get(Reminder, rows["new"])
    assert (old.body, old.recipient, old.status) == (None, None, "submitted") and old.purged_at is not None
    assert (new.body, new.purged_at) == ("Text new", None)
    reports = db.session.execute(select(DeliveryReport.reminder_id, DeliveryReport.status, DeliveryReport.recipient,
                                        DeliveryReport.details).order_by(DeliveryReport.id)).all()
    assert [tuple(row) for row in reports] == [
        (rows["old"], "delivered", None, None), (rows["old"], "sent", None, None),
        (rows["new"], "delivered", "491701234567", {"mccmnc": "26203"}), (rows["new"], "sent", "491701234567", None),
    ]
    texts = dict(db.session.execute(select(AppointmentEvent.reminder_id, AppointmentEvent.data)).all())
    assert texts[rows["old"]]["text"] is None and texts[rows["new"]]["text"] == "Text new"
    assert db.session.scalar(select(func.count(DeliveryReport.id))) == 4  # the counts stay
    assert purge(now) == {"reminders": 0, "delivery_reports": 0, "events": 0, "nonces": 0, "replies": 0,
                          "inbound_messages": 0}


def test_the_purge_command(runner, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "RETENTION_DAYS", 90)
    at = datetime.now(timezone.utc) - timedelta(days=100)
    appointment = make.appointment(make.patient(make.licensed_practice()), at + timedelta(days=1))
    reminder = make.reminder(appointment, status="submitted", body="Guten Tag", recipient="+491701234567",
                             submit_started_at=at, submitted_at=at)

    result = runner.invoke(args=["reminders", "purge"])

    assert result.exit_code == 0, result.output
    assert "reminders: 1" in result.output
    db.session.expire_all()
    purged = db.session.get(Reminder, reminder.id)
    assert (purged.body, purged.recipient, purged.status) == (None, None, "submitted")
