"""Provider failures, lost jobs and a flushed Redis: no reminder lost, none sent twice."""
import socket
from collections import Counter
from datetime import datetime, timedelta, timezone

import redis
from sqlalchemy import update

from .conftest import wait_until


def test_a_500_is_retried_and_sent_once(sending, due):
    [reminder_id] = due(1)
    sending.sandbox.set_faults(status_sequence=[500, 503])

    sending.settle()

    reminder = sending.reminder(reminder_id)
    assert reminder.status == "submitted" and reminder.attempts == 3
    assert sending.references() == [str(reminder_id)]
    kinds = [kind for kind, _ in sending.events(reminder_id) if kind != "delivery_report"]
    assert kinds == ["claimed", "send_retry", "claimed", "send_retry", "claimed", "submitted"]


def test_a_429_waits_at_least_the_providers_retry_after(sending, due):
    [reminder_id] = due(1)
    sending.sandbox.set_faults(status_sequence=[429], retry_after=30)

    sending.dispatch()
    sending.work()

    waiting = sending.reminder(reminder_id)
    assert waiting.status == "queued" and waiting.claim_token is None
    assert waiting.next_attempt_at >= datetime.now(timezone.utc) + timedelta(seconds=25)
    assert sending.dispatch() == 0  # not yet
    sending.settle(now=datetime.now(timezone.utc) + timedelta(seconds=31))
    assert sending.reminder(reminder_id).status == "submitted"
    assert sending.references() == [str(reminder_id)]


def test_retries_are_capped(sending, due):
    [reminder_id] = due(1)
    sending.sandbox.set_faults(error_rate=1.0)

    sending.settle()

    reminder = sending.reminder(reminder_id)
    assert (reminder.status, reminder.reason, reminder.provider_error_code) == (
        "failed", "provider_error", "retries_exhausted")
    assert reminder.attempts == 4
    assert sending.messages() == []


def test_a_422_fails_at_once_with_the_providers_code_and_text(sending, due):
    [reminder_id] = due(1, mobile="0170 7654321")
    sending.sandbox.set_faults(reject_recipients=["+491707654321"])

    sending.dispatch()
    sending.work()

    reminder = sending.reminder(reminder_id)
    assert (reminder.status, reminder.reason, reminder.provider_error_code) == ("failed", "provider_error", "9")
    assert "recipient" in reminder.provider_error_text
    assert reminder.attempts == 1
    assert ("failed", {"code": "9", "text": reminder.provider_error_text}) in sending.events(reminder_id)
    assert sending.dispatch() == 0


def test_a_refused_connection_is_retried_it_cannot_have_been_sent(sending, due, app, monkeypatch):
    [reminder_id] = due(1)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setitem(app.config, "MESSAGEBIRD_ENDPOINT", f"http://127.0.0.1:{port}")

    sending.dispatch()
    sending.work()

    reminder = sending.reminder(reminder_id)
    assert reminder.status == "queued" and reminder.next_attempt_at is not None
    assert reminder.submit_started_at is None
    monkeypatch.setitem(app.config, "MESSAGEBIRD_ENDPOINT", sending.sandbox.url)
    sending.settle()
    assert sending.references() == [str(reminder_id)]


def test_a_timeout_after_acceptance_is_not_resent_and_the_report_confirms_it(sending, due, app, monkeypatch):
    [reminder_id] = due(1)
    monkeypatch.setitem(app.config, "MESSAGEBIRD_TIMEOUT", (2, 0.3))
    # the reports come after our timeout
    sending.sandbox.set_faults(delay_seconds=1.0, accept_then_delay=True, report_delay=3.0)

    sending.dispatch()
    sending.work()

    # the outcome was unknown: marked, not retried
    kinds = [kind for kind, _ in sending.events(reminder_id)]
    assert kinds[:2] == ["claimed", "outcome_unknown"]
    sending.settle()
    assert sending.references() == [str(reminder_id)]
    # the provider's status report names our reference: the submission is confirmed
    confirmed = wait_until(lambda: sending.reminder(reminder_id).delivery_status is not None,
                           message="the report of the timed-out message")
    assert confirmed
    reminder = sending.reminder(reminder_id)
    assert reminder.status == "submitted" and reminder.provider_message_id == sending.messages()[0][
        "message"]["id"]
    assert "submission_confirmed" in [kind for kind, _ in sending.events(reminder_id)]


def test_a_report_that_beats_the_timeout_makes_it_submitted(sending, due, app, monkeypatch):
    [reminder_id] = due(1)
    monkeypatch.setitem(app.config, "MESSAGEBIRD_TIMEOUT", (2, 2.0))
    sending.sandbox.set_faults(delay_seconds=4.0, accept_then_delay=True, report_delay=0.0)

    sending.dispatch()
    sending.work()  # the reports arrive while the call waits, then it times out

    reminder = sending.reminder(reminder_id)
    assert reminder.status == "submitted" and reminder.provider_message_id
    kinds = [kind for kind, _ in sending.events(reminder_id)]
    assert "outcome_unknown" not in kinds and "submitted" in kinds
    assert len(sending.messages()) == 1


def test_a_timeout_without_any_report_stays_visible_as_outcome_unknown(sending, due, app, monkeypatch):
    [reminder_id] = due(1)
    monkeypatch.setitem(app.config, "MESSAGEBIRD_TIMEOUT", (2, 0.3))
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")  # reports cannot arrive
    sending.sandbox.set_faults(delay_seconds=1.0, accept_then_delay=True)

    sending.settle()

    reminder = sending.reminder(reminder_id)
    assert (reminder.status, reminder.reason, reminder.provider_error_code) == (
        "failed", "provider_error", "outcome_unknown")
    assert reminder.submit_started_at is not None and reminder.body
    assert "Not resent" in reminder.provider_error_text
    assert len(sending.messages()) == 1


def test_redis_flushed_between_claim_and_send(sending, due, app, monkeypatch):
    reminder_ids = due(7)
    assert sending.dispatch() == 7
    redis.Redis.from_url(sending.redis_url).flushdb()  # the send jobs are gone
    sending.work()
    assert set(sending.open_reminders()) == set(reminder_ids)

    monkeypatch.setitem(app.config, "CLAIM_STALE_SECONDS", 0)  # as if the stale period had passed
    sending.settle()

    assert sorted(sending.references()) == sorted(str(i) for i in reminder_ids)
    for reminder_id in reminder_ids:
        assert sending.reminder(reminder_id).status == "submitted"
        assert ("claimed", {"recovered": "stale_claim"}) in sending.events(reminder_id)


def test_lost_claims_and_retries_are_taken_before_a_burst_of_newly_due_reminders(due, app, ctx):
    """A dispatcher chunk smaller than the burst still picks up the older work first."""
    from portal import sending
    from portal.extensions import db
    from portal.models import Reminder

    lost, waiting, *burst = due(6)
    now = datetime.now(timezone.utc)
    db.session.execute(update(Reminder).where(Reminder.id == lost).values(
        status="queued", claim_token="gone", claimed_at=now - timedelta(hours=1), due_at=now))
    db.session.execute(update(Reminder).where(Reminder.id == waiting).values(
        status="queued", attempts=1, next_attempt_at=now - timedelta(seconds=1), due_at=now))
    db.session.commit()

    first = sending.claim_due(now, limit=2)
    rest = sending.claim_due(now, limit=10)

    assert sorted(first.reminder_ids) == sorted([lost, waiting])
    assert sorted(rest.reminder_ids) == sorted(burst)


def test_a_submission_begun_by_a_lost_worker_is_marked_not_resent(sending, due, app, monkeypatch, ctx):
    from portal.extensions import db
    from portal.models import Reminder

    [reminder_id] = due(1)
    sending.dispatch()
    # the worker committed submit_started_at, then died before recording the answer
    reminder = db.session.get(Reminder, reminder_id)
    reminder.submit_started_at = datetime.now(timezone.utc) - timedelta(minutes=10)
    db.session.commit()
    redis.Redis.from_url(sending.redis_url).flushdb()

    sending.settle()

    reminder = sending.reminder(reminder_id)
    assert (reminder.status, reminder.provider_error_code) == ("failed", "outcome_unknown")
    assert sending.messages() == []
    assert Counter(kind for kind, _ in sending.events(reminder_id))["outcome_unknown"] == 1
