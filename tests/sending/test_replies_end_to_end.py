"""A patient answers a reminder: the sandbox forwards the reply, signed, to the portal over HTTP,
the practice program reads it from the feed, support sees it in the lookup, and a STOP is
answered with exactly one confirmation SMS."""
import random
from datetime import datetime, timedelta, timezone

import requests

from portal.extensions import db
from portal.models import Patient

REPLY_NUMBER = "+4915700000000"


def reminded(sending, make, api):
    """A reminder sent through the sandbox; (practice program, support, the patient's number in E.164)."""
    practice = make.licensed_practice(send_policy="hours_before", hours_before=24, quiet_start="00:00",
                                      quiet_end="00:00", name="Physiotherapie am Markt", sender="PraxisNord")
    program = api(make.practice_key(practice))
    mobile = f"0170 {random.randrange(10**6, 10**7)}"  # a number of this test's own (see sending.messages)
    program.put("/patients/p-1", json={"first_name": "Erika", "last_name": "Mustermann", "mobile": mobile,
                                       "sms_consent": True})
    start = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(microsecond=0)
    assert program.put("/appointments/a-1", json={"patient": "p-1", "start": start.isoformat()}).status_code == 200
    sending.settle()
    assert len(sending.messages()) == 1
    number = db.session.scalar(db.select(Patient.mobile_e164))
    return program, api(make.token(make.user("support"))), number


def patient_replies(sending, number, body):
    """POST /_sandbox/reply: the patient's phone answers the reminder."""
    response = requests.post(f"{sending.sandbox.url}/_sandbox/reply", headers=sending.sandbox.headers, timeout=10,
                             json={"originator": number, "body": body, "recipient": REPLY_NUMBER,
                                   "url": f"{sending.portal_url}/webhooks/messagebird/inbound"})
    assert response.status_code == 200, response.text
    return response.json()


def test_ja_through_the_sandbox_shows_in_the_feed_and_the_lookup(sending, make, api):
    program, support, number = reminded(sending, make, api)

    forwarded = patient_replies(sending, number, "Ja, danke!")
    assert forwarded["response_status"] == 200 and '"recorded"' in forwarded["response"]

    events = program.get("/events").json["events"]
    assert [(event["kind"], event["appointment"], event["patient"], event["text"]) for event in events] == [
        ("confirmed", "a-1", "p-1", "Ja, danke!")]
    found = support.get("/lookup", query_string={"phone": number}).json["appointments"]
    replies = [event for event in found[0]["timeline"] if event["kind"] == "reply"]
    assert [(event["data"]["reply"], event["data"]["text"]) for event in replies] == [("confirmed", "Ja, danke!")]


def test_stop_twice_is_answered_by_one_confirmation_sms(sending, make, api, app, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGEBIRD_REPLY_NUMBER", REPLY_NUMBER)
    program, _, number = reminded(sending, make, api)

    assert '"recorded"' in patient_replies(sending, number, "STOP")["response"]
    sending.work()
    assert '"recorded"' in patient_replies(sending, number, "Stopp bitte")["response"]
    sending.work()
    sending.dispatch(datetime.now(timezone.utc) + timedelta(minutes=5))  # would find a confirmation left pending
    sending.work()

    confirmations = [item["message"] for item in sending.messages()
                     if item["message"]["body"].startswith("Sie erhalten keine")]
    assert [(message["originator"], message["body"]) for message in confirmations] == [
        (REPLY_NUMBER, "Sie erhalten keine Terminerinnerungen mehr von Physiotherapie am Markt.")]
    assert [event["kind"] for event in program.get("/events").json["events"]] == ["opted_out", "opted_out"]
    patient = program.get("/appointments/a-1").json
    assert patient["patient"] == "p-1"
    db.session.expire_all()
    withdrawn = db.session.scalars(db.select(Patient)).one()
    assert not withdrawn.sms_consent and withdrawn.consent_withdrawn_at is not None


def test_a_stop_confirmation_whose_job_was_lost_is_sent_by_the_dispatcher(sending, make, api, redis_url):
    import redis

    _, _, number = reminded(sending, make, api)
    patient_replies(sending, number, "STOP")
    redis.Redis.from_url(redis_url).flushdb()  # the job is gone with Redis; the confirmation is still pending
    sending.work()
    assert not [item for item in sending.messages() if item["message"]["body"].startswith("Sie erhalten")]

    sending.dispatch(datetime.now(timezone.utc) + timedelta(minutes=5))
    sending.work()
    confirmations = [item["message"] for item in sending.messages()
                     if item["message"]["body"].startswith("Sie erhalten keine")]
    assert len(confirmations) == 1 and confirmations[0]["originator"] == "PraxisNord"
