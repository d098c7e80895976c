"""A patient's replies are personal data: erased with the patient, purged after the retention period."""
from datetime import timedelta

from sqlalchemy import select

from jobs.retention import purge
from portal.extensions import db
from portal.models import AppointmentEvent, InboundMessage, Reply, utcnow

from .conftest import inbound


def texts():
    db.session.expire_all()
    replies = [(reply.text, reply.purged_at is not None) for reply in db.session.scalars(select(Reply))]
    messages = [(message.originator, message.body) for message in db.session.scalars(select(InboundMessage))]
    events = [event.data.get("text") for event in
              db.session.scalars(select(AppointmentEvent).where(AppointmentEvent.kind == "reply"))]
    return replies, messages, events


def test_erasing_a_patient_removes_their_replies_texts_and_number(webhook, api, make, remind):
    practice = make.licensed_practice()
    reminder = remind(practice)
    webhook.get(inbound("Ja, ich komme"))
    assert texts()[0] == [("Ja, ich komme", False)]
    program = api(make.practice_key(practice))
    patient_id = reminder.appointment.patient.external_id
    assert program.delete(f"/patients/{patient_id}").status_code == 204

    replies, messages, events = texts()
    assert replies == [(None, True)] and messages == [(None, None)] and events == [None]
    assert [(event["kind"], event["text"]) for event in program.get("/events").json["events"]] == [("confirmed", None)]


def test_replies_are_purged_after_the_retention_period_and_counted(webhook, app, make, remind):
    remind(make.licensed_practice())
    webhook.get(inbound("NEIN"))
    webhook.get(inbound("JA", message_id="in-2", originator="+4917099999999"))  # unmatched: kept in the message
    assert purge(utcnow())["replies"] == 0
    counts = purge(utcnow() + timedelta(days=app.config["RETENTION_DAYS"] + 1))
    assert (counts["replies"], counts["inbound_messages"]) == (1, 2)
    replies, messages, events = texts()
    assert replies == [(None, True)] and messages == [(None, None), (None, None)] and events == [None]
    assert db.session.scalar(select(Reply.kind)) == "cancellation_requested"  # the count stays
