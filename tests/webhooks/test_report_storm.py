"""A storm of status reports over HTTP from many threads: each recorded once, none moving a status back.

The reports of a burst arrive at once, in any order, some twice (the provider
retries) and some replayed (the same signature again); some name a message we
do not know yet, some a submission whose outcome we never learnt.
"""
import random
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal.extensions import db
from portal.models import AppointmentEvent, DeliveryReport, Reminder, WebhookNonce, utcnow
from portal.sending.submission import record_submitted

from .test_status_reports import BASE, PATH, T0, report, sign

SUBMITTED, UNKNOWN, IN_FLIGHT, ORPHANS = 600, 60, 60, 60
CLIENTS = 16
# the provider's order for one message; a final status last
LIFE = [("buffered", 0), ("sent", 1)]


@pytest.fixture
def served(app):
    """The app on a werkzeug threaded server, as the provider reaches it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def reminders(make, count, fields):
    practice = make.licensed_practice()
    patient = make.patient(practice)
    return [make.reminder(make.appointment(patient, T0 + timedelta(days=1, minutes=n)), recipient="+491701234567",
                          body="Erinnerung", submit_started_at=T0, **fields(n)).id for n in range(count)]


def final_status(n):
    return ("delivered", "delivery_failed", "expired")[n % 3]


def storm(make):
    """The reminders and every report for them: {kind: [reminder IDs]}, [(message ID, reference, status, at)]."""
    rng = random.Random(10)
    groups = {
        "submitted": reminders(make, SUBMITTED, lambda n: dict(status="submitted", provider_message_id=f"s-{n}",
                                                                 submitted_at=T0)),
        "unknown": reminders(make, UNKNOWN, lambda n: dict(status="failed", reason="provider_error",
                                                             provider_error_code="outcome_unknown")),
        "in_flight": reminders(make, IN_FLIGHT, lambda n: dict(status="queued", claim_token=f"t-{n}")),
    }
    reports = []
    for kind, prefix in (("submitted", "s"), ("unknown", "u"), ("in_flight", "f"), ("orphans", "o")):
        ids = groups.get(kind, [None] * ORPHANS)
        for n, reminder_id in enumerate(ids):
            reference = str(reminder_id) if kind in ("unknown", "in_flight") else None
            life = LIFE + [(final_status(n), 2)] if kind == "submitted" else [("sent", 1), ("delivered", 2)]
            reports += [(f"{prefix}-{n}", reference, status, T0 + timedelta(seconds=second))
                        for status, second in life]
    rng.shuffle(reports)
    return groups, reports, rng


def requests_for(reports, rng):
    """Each report signed; a fifth again under a new signature (a duplicate), a tenth replayed as it was."""
    sent = []
    for number, (message_id, reference, status, at) in enumerate(reports):
        query = urlencode(report(message_id=message_id, status=status, at=at, reference=reference))
        signature = sign(f"{BASE}{PATH}?{query}")
        sent.append((number, query, signature))
        if rng.random() < 0.2:
            sent.append((number, query, sign(f"{BASE}{PATH}?{query}")))
        if rng.random() < 0.1:
            sent.append((number, query, signature))
    rng.shuffle(sent)
    return sent


def send_all(base, sent):
    def one(item):
        number, query, signature = item
        response = requests.get(f"{base}{PATH}?{query}", headers={"MessageBird-Signature-JWT": signature},
                                timeout=60)
        return number, signature, response.status_code, response.json()["result"]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(one, sent))


def test_a_storm_of_reports_is_recorded_once_and_never_moves_a_status_back(served, make):
    groups, reports, rng = storm(make)
    db.session.commit()
    sent = requests_for(reports, rng)

    answers = send_all(served, sent)

    by_report, by_signature = defaultdict(list), defaultdict(list)
    for number, signature, status_code, result in answers:
        by_report[number].append(result)
        by_signature[signature].append(status_code)
    # a replayed signature: one of its two requests is refused, whichever came second
    assert all(sorted(codes) in ([200], [200, 401]) for codes in by_signature.values()), Counter(
        tuple(sorted(codes)) for codes in by_signature.values())
    # each report recorded by exactly one request; its copies answered as duplicates
    for number, results in by_report.items():
        firsts = [result for result in results if result in ("recorded", "orphan")]
        assert len(firsts) == 1 and set(results) - {"recorded", "orphan"} <= {"duplicate", "refused"}, results

    db.session.expire_all()
    assert db.session.scalar(select(func.count(DeliveryReport.id))) == len(reports)
    assert db.session.scalar(select(func.count(WebhookNonce.jti))) == len(by_signature)
    kinds = Counter(db.session.scalars(select(AppointmentEvent.kind)).all())
    assert kinds == {"delivery_report": len(reports) - 2 * ORPHANS, "submission_confirmed": UNKNOWN}

    rows = {row.id: row for row in db.session.scalars(select(Reminder))}
    for n, reminder_id in enumerate(groups["submitted"]):  # the final status, whatever came after it
        row = rows[reminder_id]
        assert (row.delivery_status, row.delivery_status_at) == (final_status(n), T0 + timedelta(seconds=2))
        assert row.delivered_at == (T0 + timedelta(seconds=2) if final_status(n) == "delivered" else None)
    for n, reminder_id in enumerate(groups["unknown"]):  # the report proved the submission
        row = rows[reminder_id]
        assert (row.status, row.provider_message_id, row.provider_error_code) == ("submitted", f"u-{n}", None)
        assert (row.submitted_at, row.delivery_status) == (T0, "delivered")
    for n, reminder_id in enumerate(groups["in_flight"]):  # the message ID attached; the send job settles it
        row = rows[reminder_id]
        assert (row.status, row.provider_message_id, row.delivery_status) == ("queued", f"f-{n}", "delivered")
    orphans = db.session.scalars(select(DeliveryReport.provider_message_id)
                                 .where(DeliveryReport.reminder_id.is_(None))).all()
    assert sorted(orphans) == sorted(f"o-{n}" for n in range(ORPHANS) for _ in range(2))


def test_orphans_of_a_storm_are_adopted_when_their_messages_become_known(served, make):
    orphans = [(f"late-{n}", status, T0 + timedelta(seconds=second))
               for n in range(20) for status, second in (("delivered", 2), ("sent", 1))]
    sent = requests_for([(message_id, None, status, at) for message_id, status, at in orphans], random.Random(3))
    assert {result for *_, code, result in send_all(served, sent) if code == 200} <= {"orphan", "duplicate"}
    in_flight = reminders(make, 20, lambda n: dict(status="queued", claim_token=f"t-{n}"))

    for n, reminder_id in enumerate(in_flight):
        assert record_submitted(db.session.get(Reminder, reminder_id), f"t-{n}", f"late-{n}", utcnow())

    db.session.expire_all()
    assert db.session.scalar(select(func.count(DeliveryReport.id)).where(DeliveryReport.reminder_id.is_(None))) == 0
    for reminder_id in in_flight:
        row = db.session.get(Reminder, reminder_id)
        assert (row.status, row.delivery_status, row.delivered_at) == ("submitted", "delivered",
                                                                        T0 + timedelta(seconds=2))
