"""MessageBird status reports: signed, recorded once, in the provider's order, orphans kept."""
import hashlib
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import AppointmentEvent, DeliveryReport, Reminder, WebhookNonce

from ..conftest import SIGNING_KEY

BASE = "http://localhost:5000"
PATH = "/webhooks/messagebird/status"
T0 = datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)


def sign(url, body=b"", key=SIGNING_KEY, jti=None, now=None, **claims):
    now = int(time.time() if now is None else now)
    payload = {"iss": "MessageBird", "nbf": now - 1, "exp": now + 300, "jti": jti or str(uuid.uuid4()),
               "url_hash": hashlib.sha256(url.encode()).hexdigest()}
    if body:
        payload["payload_hash"] = hashlib.sha256(body).hexdigest()
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="HS256")


def report(message_id="msg-1", status="delivered", at=T0, **fields):
    params = {
        "id": message_id, "reference": fields.pop("reference", None), "recipient": "491701234567",
        "status": status, "statusDatetime": at.isoformat().replace("+00:00", "Z"),
        "statusReason": "successfully delivered", "statusErrorCode": None, "mccmnc": "26203",
        "price[amount]": "0.075", "price[currency]": "EUR",
    }
    params.update(fields)
    return {key: value for key, value in params.items() if value is not None}


class Webhook:
    def __init__(self, client):
        self.client = client

    def get(self, params, signature=None, **sign_args):
        query = urlencode(params)
        url = f"{BASE}{PATH}?{query}"
        headers = {} if signature is False else {"MessageBird-Signature-JWT": signature or sign(url, **sign_args)}
        return self.client.get(f"{PATH}?{query}", headers=headers)

    def post_json(self, params, **sign_args):
        body = json.dumps(params).encode()
        headers = {"MessageBird-Signature-JWT": sign(BASE + PATH, body, **sign_args),
                   "Content-Type": "application/json"}
        return self.client.post(PATH, data=body, headers=headers)

    def post_form(self, params):
        body = urlencode(params).encode()
        headers = {"MessageBird-Signature-JWT": sign(BASE + PATH, body),
                   "Content-Type": "application/x-www-form-urlencoded"}
        return self.client.post(PATH, data=body, headers=headers)


@pytest.fixture
def webhook(client):
    return Webhook(client)


@pytest.fixture
def submitted(make):
    """A reminder submitted as message msg-1."""
    practice = make.licensed_practice()
    appointment = make.appointment(make.patient(practice), T0 + timedelta(days=1))
    reminder = make.reminder(appointment, status="submitted", provider_message_id="msg-1",
                             recipient="+491701234567", body="Erinnerung", submitted_at=T0,
                             submit_started_at=T0)
    return reminder.id


def stored():
    return db.session.scalar(select(func.count(DeliveryReport.id)))


def reminder(reminder_id):
    db.session.expire_all()
    return db.session.get(Reminder, reminder_id)


def test_a_signed_report_is_recorded_and_sets_the_delivery_status(webhook, submitted):
    response = webhook.get(report(status="delivered"))

    assert response.status_code == 200, response.json
    assert response.json == {"result": "recorded"}
    row = db.session.scalars(select(DeliveryReport)).one()
    assert (row.reminder_id, row.status, row.status_at, row.recipient) == (submitted, "delivered", T0, "491701234567")
    assert row.details == {"mccmnc": "26203", "price[amount]": "0.075", "price[currency]": "EUR"}
    assert (reminder(submitted).delivery_status, reminder(submitted).delivered_at) == ("delivered", T0)
    event = db.session.scalars(select(AppointmentEvent).where(AppointmentEvent.kind == "delivery_report")).one()
    assert event.data["status"] == "delivered" and event.reminder_id == submitted


def test_reports_as_json_and_as_form_are_read_too(webhook, submitted):
    assert webhook.post_json(report(status="sent")).status_code == 200
    assert webhook.post_form(report(status="delivered", at=T0 + timedelta(seconds=5))).status_code == 200
    assert stored() == 2
    assert reminder(submitted).delivery_status == "delivered"


def test_the_same_report_twice_is_recorded_once(webhook, submitted):
    assert webhook.get(report()).json == {"result": "recorded"}
    again = webhook.get(report())  # a new signature (new jti), the same report
    assert again.status_code == 200 and again.json == {"result": "duplicate"}
    assert stored() == 1
    assert db.session.scalar(select(func.count(AppointmentEvent.id))) == 1


def test_the_same_report_without_recipient_twice_is_recorded_once(webhook, submitted):
    assert webhook.get(report(recipient=None)).json == {"result": "recorded"}
    assert webhook.get(report(recipient=None)).json == {"result": "duplicate"}
    assert stored() == 1


def test_two_racing_copies_of_a_report_without_recipient_cannot_both_be_stored(submitted):
    # What two webhook requests at the same moment would write: neither sees the other's row
    # before inserting, so the database alone must refuse the second (NULLs never collide).
    for _ in range(2):
        db.session.add(DeliveryReport(reminder_id=submitted, provider_message_id="msg-1", status="delivered",
                                      status_at=T0))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert stored() == 0


@pytest.mark.parametrize("order", [["sent", "delivered"], ["delivered", "sent"], ["buffered", "delivered", "sent"]])
def test_a_later_status_never_regresses_whatever_the_order(webhook, submitted, order):
    times = {"buffered": T0, "sent": T0 + timedelta(seconds=1), "delivered": T0 + timedelta(seconds=2)}
    for status in order:
        assert webhook.get(report(status=status, at=times[status])).status_code == 200
    assert reminder(submitted).delivery_status == "delivered"
    assert reminder(submitted).delivered_at == times["delivered"]
    assert stored() == len(order)


def test_a_report_for_an_unknown_message_is_kept_as_an_orphan(webhook, submitted):
    response = webhook.get(report(message_id="unknown-42"))
    assert response.status_code == 200 and response.json == {"result": "orphan"}
    row = db.session.scalars(select(DeliveryReport)).one()
    assert row.reminder_id is None and row.provider_message_id == "unknown-42"
    assert reminder(submitted).delivery_status is None


def test_a_replayed_signature_is_refused_and_changes_nothing(webhook, submitted):
    params = report(status="sent")
    query = urlencode(params)
    signature = sign(f"{BASE}{PATH}?{query}")
    assert webhook.get(params, signature=signature).status_code == 200

    replay = webhook.get(params, signature=signature)

    assert replay.status_code == 401
    assert stored() == 1
    assert db.session.scalar(select(func.count(WebhookNonce.jti))) == 1


@pytest.mark.parametrize("case", [
    "missing", "wrong_key", "expired", "other_url", "not_a_jwt", "no_jti", "wrong_issuer",
])
def test_forged_or_expired_signatures_are_refused(webhook, submitted, case):
    params = report()
    url = f"{BASE}{PATH}?{urlencode(params)}"
    signature = {
        "missing": False,
        "wrong_key": sign(url, key="another-signing-key-" + "y" * 40),
        "expired": sign(url, now=time.time() - 3600),
        "other_url": sign(f"{BASE}{PATH}?id=msg-1&status=delivered"),
        "not_a_jwt": "not-a-jwt",
        "no_jti": jwt.encode({"iss": "MessageBird", "nbf": int(time.time()) - 1, "exp": int(time.time()) + 60,
                              "url_hash": hashlib.sha256(url.encode()).hexdigest()}, SIGNING_KEY, "HS256"),
        "wrong_issuer": sign(url, iss="Mallory"),
    }[case]

    response = webhook.get(params, signature=signature)

    assert response.status_code == 401
    assert stored() == 0
    assert db.session.scalar(select(func.count(WebhookNonce.jti))) == 0
    assert reminder(submitted).delivery_status is None


def test_a_tampered_json_body_is_refused(webhook, client, submitted):
    body = json.dumps(report()).encode()
    signature = sign(BASE + PATH, body)
    tampered = body.replace(b"delivered", b"expired")
    response = client.post(PATH, data=tampered, headers={"MessageBird-Signature-JWT": signature,
                                                          "Content-Type": "application/json"})
    assert response.status_code == 401
    assert stored() == 0


def test_without_a_signing_key_every_report_is_refused(webhook, submitted, app, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGEBIRD_SIGNING_KEY", None)
    assert webhook.get(report()).status_code == 401
    assert stored() == 0


@pytest.mark.parametrize("broken", [
    {"id": None}, {"status": None}, {"statusDatetime": None}, {"statusDatetime": "yesterday"},
    {"statusDatetime": "2026-11-25T17:00:00"}, {"recipient": "not-a-number"}, {"id": "x" * 65},
])
def test_an_unreadable_report_is_a_400_and_changes_nothing(webhook, submitted, broken):
    params = {key: value for key, value in {**report(), **broken}.items() if value is not None}
    response = webhook.get(params)
    assert response.status_code == 400
    assert stored() == 0
    assert db.session.scalar(select(func.count(WebhookNonce.jti))) == 0


def test_a_json_body_that_is_not_an_object_is_a_400(webhook, submitted, client):
    body = b"[1, 2]"
    response = client.post(PATH, data=body, headers={"MessageBird-Signature-JWT": sign(BASE + PATH, body),
                                                      "Content-Type": "application/json"})
    assert response.status_code == 400


def test_a_report_confirms_a_submission_whose_outcome_was_unknown(webhook, make):
    practice = make.licensed_practice()
    appointment = make.appointment(make.patient(practice), T0 + timedelta(days=1))
    reminder_id = make.reminder(appointment, status="failed", reason="provider_error",
                                provider_error_code="outcome_unknown", recipient="+491701234567",
                                body="Erinnerung", submit_started_at=T0).id

    response = webhook.get(report(message_id="late-1", reference=str(reminder_id), status="sent"))

    assert response.json == {"result": "recorded"}
    confirmed = reminder(reminder_id)
    assert (confirmed.status, confirmed.reason, confirmed.provider_message_id) == ("submitted", None, "late-1")
    assert confirmed.delivery_status == "sent"
    kinds = db.session.scalars(select(AppointmentEvent.kind).order_by(AppointmentEvent.id)).all()
    assert kinds == ["submission_confirmed", "delivery_report"]


def test_a_reference_to_another_number_confirms_nothing(webhook, make):
    practice = make.licensed_practice()
    appointment = make.appointment(make.patient(practice), T0 + timedelta(days=1))
    reminder_id = make.reminder(appointment, status="failed", reason="provider_error",
                                provider_error_code="outcome_unknown", recipient="+491709999999",
                                submit_started_at=T0).id
    assert webhook.get(report(message_id="late-2", reference=str(reminder_id))).json == {"result": "orphan"}
    assert reminder(reminder_id).status == "failed"


def test_an_orphan_is_attached_when_its_message_becomes_known(webhook, make):
    from portal.models import utcnow
    from portal.sending.submission import record_submitted

    assert webhook.get(report(message_id="m-9", status="delivered")).json == {"result": "orphan"}
    practice = make.licensed_practice()
    appointment = make.appointment(make.patient(practice), T0 + timedelta(days=1))
    queued = make.reminder(appointment, status="queued", claim_token="t-1", submit_started_at=T0,
                           body="Erinnerung", recipient="+491701234567")

    assert record_submitted(queued, "t-1", "m-9", utcnow())

    row = db.session.scalars(select(DeliveryReport)).one()
    assert row.reminder_id == queued.id and row.practice_id == practice.id
    assert (reminder(queued.id).status, reminder(queued.id).delivery_status) == ("submitted", "delivered")
    kinds = db.session.scalars(select(AppointmentEvent.kind).order_by(AppointmentEvent.id)).all()
    assert kinds == ["submitted", "delivery_report"]


def test_a_report_that_waits_for_the_worker_recording_its_message_is_not_orphaned(webhook, make, app):
    """The provider reports before the worker has committed its answer: the report still belongs to the reminder."""
    import threading

    from sqlalchemy import update

    practice = make.licensed_practice()
    appointment = make.appointment(make.patient(practice), T0 + timedelta(days=1))
    sending_now = make.reminder(appointment, status="queued", claim_token="t-1", submit_started_at=T0,
                                body="Erinnerung", recipient="+491701234567").id
    answers = []
    with db.engine.connect() as worker:  # the worker, holding the row while it records the provider's answer
        worker.execute(update(Reminder).where(Reminder.id == sending_now).values(provider_message_id="m-race"))
        reporter = threading.Thread(target=lambda: answers.append(
            webhook.get(report(message_id="m-race", status="sent", reference=str(sending_now))).json))
        reporter.start()
        time.sleep(1.0)  # the report is now waiting for the worker's transaction
        worker.commit()
        reporter.join(timeout=30)

    assert answers == [{"result": "recorded"}]
    assert db.session.scalar(select(DeliveryReport.reminder_id)) == sending_now
