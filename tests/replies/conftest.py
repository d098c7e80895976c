"""Inbound SMS signed as MessageBird signs them, and reminders that went out to a patient's number."""
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from tests.webhooks.test_status_reports import BASE, sign

PATH = "/webhooks/messagebird/inbound"
NUMBER = "+4917012345678"


def inbound(body="JA", message_id="in-1", originator=NUMBER, sent_at=None, **fields):
    sent_at = sent_at or datetime.now(timezone.utc)
    params = {"id": message_id, "originator": originator and originator.lstrip("+"), "recipient": "4915712345678", "body": body,
              "createdDatetime": sent_at.isoformat().replace("+00:00", "Z")}
    params.update(fields)
    return {key: value for key, value in params.items() if value is not None}


class Inbound:
    """Sends inbound SMS to the portal's webhook, signed over the URL and body."""

    def __init__(self, client):
        self.client = client

    def get(self, params, signature=None, **sign_args):
        query = urlencode(params)
        headers = {} if signature is False else {
            "MessageBird-Signature-JWT": signature or sign(f"{BASE}{PATH}?{query}", **sign_args)}
        return self.client.get(f"{PATH}?{query}", headers=headers)

    def post_json(self, params, **sign_args):
        body = json.dumps(params).encode()
        return self.client.post(PATH, data=body, headers={
            "MessageBird-Signature-JWT": sign(BASE + PATH, body, **sign_args), "Content-Type": "application/json"})

    def post_form(self, params):
        body = urlencode(params).encode()
        return self.client.post(PATH, data=body, headers={
            "MessageBird-Signature-JWT": sign(BASE + PATH, body),
            "Content-Type": "application/x-www-form-urlencoded"})


@pytest.fixture
def webhook(client):
    return Inbound(client)


@pytest.fixture
def remind(make):
    """`remind(practice, hours_ago=1, mobile=...)`: a patient of `practice` and an appointment tomorrow whose
    reminder was submitted to their number `hours_ago` hours ago; returns the reminder."""
    def create(practice, hours_ago=1.0, mobile="0170 12345678", patient=None, start=None):
        now = datetime.now(timezone.utc)
        patient = patient or make.patient(practice, mobile=mobile)
        appointment = make.appointment(patient, start or now.replace(microsecond=0) + timedelta(hours=20))
        submitted = now - timedelta(hours=hours_ago)
        return make.reminder(appointment, status="submitted", due_at=submitted, submitted_at=submitted,
                             submit_started_at=submitted, recipient=patient.mobile_e164, body="Erinnerung",
                             sender="Praxis", provider_message_id=f"out-{appointment.id}")
    return create
