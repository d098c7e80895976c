"""Inbound SMS at /webhooks/messagebird/inbound: signed like status reports, recorded once, applied."""
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AppointmentEvent, InboundMessage, Patient, Reminder, Reply
from tests.hostile import DEEP_JSON, HOSTILE_TEXT, snapshot
from tests.webhooks.test_status_reports import BASE, sign

from .conftest import PATH, inbound


def replies():
    db.session.expire_all()
    return db.session.scalars(select(Reply).order_by(Reply.id)).all()


# --- refusals ------------------------------------------------------------------------

def test_a_missing_signature_is_refused(webhook, ctx):
    before = snapshot()
    response = webhook.get(inbound(), signature=False)
    assert response.status_code == 401 and "missing" in response.json["detail"]
    assert snapshot() == before


def test_a_bad_signature_is_refused(webhook, ctx):
    before = snapshot()
    assert webhook.get(inbound(), key="another-key-" + "y" * 40).status_code == 401
    assert webhook.get(inbound(), signature="not.a.jwt").status_code == 401
    # signed for another query: the text was changed on the way
    tampered = webhook.client.get(PATH + "?id=in-1&originator=4917012345678&body=NEIN", headers={
        "MessageBird-Signature-JWT": sign(f"{BASE}{PATH}?id=in-1&originator=4917012345678&body=JA")})
    assert tampered.status_code == 401
    assert snapshot() == before


def test_an_expired_signature_is_refused(webhook, ctx):
    before = snapshot()
    response = webhook.get(inbound(), now=time.time() - 3600)
    assert response.status_code == 401 and "invalid signature" in response.json["detail"]
    assert snapshot() == before


def test_a_replayed_signature_is_refused(webhook, ctx, make, remind):
    remind(make.licensed_practice())
    params = inbound()
    first = webhook.get(params, jti="jti-once")
    assert first.status_code == 200 and first.json["result"] == "recorded"
    before = snapshot()
    replay = webhook.get(params, jti="jti-once")
    assert replay.status_code == 401 and replay.json["detail"] == "replayed signature"
    assert snapshot() == before


def test_no_signing_key_refuses_everything(webhook, ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGEBIRD_SIGNING_KEY", None)
    assert webhook.get(inbound()).status_code == 401


@pytest.mark.parametrize("params,field", [
    ({"id": None}, "id"), ({"originator": None}, "originator"), ({"originator": "PraxisNord"}, "originator"),
    ({"createdDatetime": "yesterday"}, "createdDatetime"), ({"createdDatetime": "2026-11-24T18:00:00"}, "createdDatetime"),
    ({"createdDatetime": "9999-12-31T23:59:59Z"}, "createdDatetime"), ({"recipient": "Praxis"}, "recipient"),
    ({"body": "x" * 1601}, "body"),
])
def test_an_unreadable_sms_is_refused_naming_the_field(webhook, ctx, params, field):
    before = snapshot()
    response = webhook.get(inbound(**params))
    assert response.status_code == 400 and field in response.json["detail"], response.json
    assert snapshot() == before


@pytest.mark.parametrize("field", ["id", "originator", "body", "createdDatetime"])
@pytest.mark.parametrize("label", sorted(set(HOSTILE_TEXT) - {"huge"}))
def test_hostile_values_are_refused_naming_the_field(webhook, ctx, field, label):
    before = snapshot()
    response = webhook.post_json(inbound(**{field: HOSTILE_TEXT[label]}))
    assert response.status_code == 400, response.json
    assert field in response.json["detail"]
    assert snapshot() == before


def test_a_huge_body_and_deep_json_are_refused(webhook, client, ctx):
    before = snapshot()
    assert webhook.post_json(inbound(body=HOSTILE_TEXT["huge"])).status_code == 400
    body = ('{"id": "in-1", "extra": %s}' % DEEP_JSON).encode()
    response = client.post(PATH, data=body, headers={"MessageBird-Signature-JWT": sign(BASE + PATH, body),
                                                     "Content-Type": "application/json"})
    assert response.status_code == 400
    assert snapshot() == before


def test_the_older_field_names_payload_and_receiver_are_read(webhook, ctx, make, remind):
    remind(make.licensed_practice())
    params = inbound(body=None, recipient=None, payload="Ja gerne", receiver="4915712345678")
    assert webhook.post_form(params).json["result"] == "recorded"
    assert [(reply.kind, reply.text) for reply in replies()] == [("confirmed", "Ja gerne")]


# --- recorded once, matched, applied ------------------------------------------------------

def test_a_redelivered_sms_is_recorded_once(webhook, ctx, make, remind):
    reminder = remind(make.licensed_practice())
    assert webhook.get(inbound("JA")).json["result"] == "recorded"
    again = webhook.post_json(inbound("JA"))  # the same provider message ID, a new signature
    assert again.status_code == 200 and again.json["result"] == "duplicate"
    assert db.session.scalar(select(func.count(InboundMessage.id))) == 1
    assert [(reply.kind, reply.reminder_id, reply.seq) for reply in replies()] == [("confirmed", reminder.id, 1)]
    events = db.session.scalars(select(AppointmentEvent).where(AppointmentEvent.kind == "reply")).all()
    assert [(event.appointment_id, event.data["reply"], event.data["text"]) for event in events] == [
        (reminder.appointment_id, "confirmed", "JA")]


def test_nein_records_a_cancellation_request_and_cancels_nothing(webhook, ctx, make, remind):
    reminder = remind(make.licensed_practice())
    assert webhook.get(inbound("Nein, leider nicht")).json["result"] == "recorded"
    assert [reply.kind for reply in replies()] == ["cancellation_requested"]
    assert reminder.appointment.cancelled_at is None


def test_a_reply_from_a_number_we_never_messaged_is_kept_unmatched(webhook, ctx):
    response = webhook.get(inbound("JA", originator="+4917099999999"))
    assert response.json["result"] == "unmatched"
    message = db.session.scalars(select(InboundMessage)).one()
    assert (message.match, message.body, message.intent) == ("unmatched", "JA", "confirm")
    assert replies() == []


def test_anything_else_is_kept_for_the_practice_to_read(webhook, ctx, make, remind):
    remind(make.licensed_practice())
    webhook.get(inbound("Kann ich auf Donnerstag verschieben? 🙏"))
    assert [(reply.kind, reply.text) for reply in replies()] == [
        ("unreadable_reply", "Kann ich auf Donnerstag verschieben? 🙏")]


def test_two_practices_sharing_the_number_get_the_yes_as_ambiguous_and_nothing_is_confirmed(
        webhook, ctx, make, remind):
    physio, logo = make.licensed_practice(), make.licensed_practice()
    first, second = remind(physio, hours_ago=3), remind(logo, hours_ago=1)
    response = webhook.get(inbound("JA"))
    assert response.json["result"] == "ambiguous"
    assert [(reply.practice_id, reply.reminder_id, reply.kind, reply.ambiguous, reply.seq) for reply in replies()] == [
        (physio.id, first.id, "unreadable_reply", True, 1), (logo.id, second.id, "unreadable_reply", True, 1)]
    assert not any(reply.kind == "confirmed" for reply in replies())


def test_the_same_practice_twice_is_not_ambiguous_its_latest_reminder_is_answered(webhook, ctx, make, remind):
    practice = make.licensed_practice()
    remind(practice, hours_ago=30)
    latest = remind(practice, hours_ago=2)
    webhook.get(inbound("ja"))
    assert [(reply.reminder_id, reply.kind) for reply in replies()] == [(latest.id, "confirmed")]


def test_stop_withdraws_consent_at_every_practice_that_messaged_the_number(webhook, ctx, make, remind):
    physio, logo, other = make.licensed_practice(), make.licensed_practice(), make.licensed_practice()
    first = remind(physio, hours_ago=3)
    remind(logo, hours_ago=1)
    stranger = make.patient(other, mobile="0170 12345678")  # same number, but this practice never messaged it
    later = make.appointment(first.appointment.patient, datetime.now(timezone.utc) + timedelta(days=5))
    planned = make.reminder(later, due_at=datetime.now(timezone.utc) + timedelta(days=4))
    response = webhook.get(inbound("STOPP"))
    assert response.json["result"] == "ambiguous"  # two practices; STOP applies to both all the same
    assert [(reply.practice_id, reply.kind, reply.confirmation) for reply in replies()] == [
        (physio.id, "opted_out", "pending"), (logo.id, "opted_out", "pending")]
    patients = {patient.practice_id: patient for patient in db.session.scalars(select(Patient))}
    assert not patients[physio.id].sms_consent and patients[physio.id].consent_withdrawn_at is not None
    assert not patients[logo.id].sms_consent
    assert patients[other.id].sms_consent and stranger.id == patients[other.id].id
    row = db.session.get(Reminder, planned.id)
    assert (row.status, row.reason) == ("cancelled", "consent_withdrawn")


def test_a_second_stop_is_recorded_but_asks_for_no_second_confirmation(webhook, ctx, make, remind):
    remind(make.licensed_practice())
    webhook.get(inbound("STOP", message_id="in-1"))
    webhook.get(inbound("Stop bitte", message_id="in-2"))
    assert [(reply.kind, reply.confirmation, reply.seq) for reply in replies()] == [
        ("opted_out", "pending", 1), ("opted_out", None, 2)]


def test_a_stop_is_not_undone_by_the_program_resending_an_older_record(webhook, api, make, remind):
    practice = make.licensed_practice()
    program = api(make.practice_key(practice))
    person = {"first_name": "Erika", "last_name": "Mustermann", "mobile": "0170 12345678", "sms_consent": True,
              "revision": 3}
    assert program.put("/patients/p-1", json=person).status_code == 200
    patient = db.session.scalars(select(Patient)).one()
    remind(practice, patient=patient)
    webhook.get(inbound("STOP"))

    resent = program.put("/patients/p-1", json=person)  # a full re-sync before the program read the feed
    assert resent.json["sms_consent"] is False
    assert [warning["code"] for warning in resent.json["warnings"]] == ["opted_out"]
    again = program.put("/patients/p-1", json={**person, "revision": 4})  # ticked again in the program
    assert again.json["sms_consent"] is True and again.json["warnings"] == []


def test_a_stop_taken_over_by_the_program_leaves_consent_to_it(webhook, api, make, remind):
    practice = make.licensed_practice()
    program = api(make.practice_key(practice))
    person = {"first_name": "Erika", "last_name": "Mustermann", "mobile": "0170 12345678", "sms_consent": True}
    program.put("/patients/p-1", json=person)
    remind(practice, patient=db.session.scalars(select(Patient)).one())
    webhook.get(inbound("STOP"))
    assert program.put("/patients/p-1", json={**person, "sms_consent": False}).json["warnings"] == []
    assert program.put("/patients/p-1", json=person).json["sms_consent"] is True  # staff ticked it again


def test_inbound_sms_are_counted_by_what_became_of_them(webhook, client, ctx):
    from tests.operations.test_metrics import scrape, value

    before = scrape(client)
    webhook.get(inbound("JA", originator="+4917099999999"))
    webhook.get(inbound("JA", originator="+4917099999999"), signature=False)
    after = scrape(client)
    for result in ("unmatched", "refused"):
        assert value(after, "praxis_inbound_sms_total", result=result) == value(
            before, "praxis_inbound_sms_total", result=result) + 1
