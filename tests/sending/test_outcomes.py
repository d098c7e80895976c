"""Unknown outcomes settled by asking the provider (the sandbox's GET /messages): found, absent, unreachable."""
import socket
from collections import Counter
from datetime import datetime, timedelta, timezone

import redis

from jobs.outcomes import check_unknown_outcomes


def unknown_after_a_lost_worker(sending, due, ctx):
    """A reminder whose worker died after committing submit_started_at: the provider never got it."""
    from portal.extensions import db
    from portal.models import Reminder

    [reminder_id] = due(1)
    sending.dispatch()
    lose_the_worker(db.session.get(Reminder, reminder_id), sending)
    assert sending.reminder(reminder_id).provider_error_code == "outcome_unknown"
    return reminder_id


def lose_the_worker(reminder, sending):
    """As the send job begins a submission (text, number, submit_started_at), then its worker dies."""
    from portal.extensions import db

    reminder.submit_started_at = datetime.now(timezone.utc) - timedelta(minutes=10)
    reminder.recipient, reminder.body = reminder.appointment.patient.mobile_e164, "Erinnerung"
    db.session.commit()
    redis.Redis.from_url(sending.redis_url).flushdb()
    sending.settle()


def check(sending, now=None):
    with sending.app.app_context():
        if now is None:
            return check_unknown_outcomes()
        from portal import providers
        from portal.sending.outcomes import settle_unknown_outcomes

        return dict(settle_unknown_outcomes(providers.for_config(sending.app.config), now))


def kinds(sending, reminder_id):
    return [kind for kind, _ in sending.events(reminder_id)]


def test_a_message_the_provider_holds_is_adopted_not_resent(sending, due, app, monkeypatch):
    [reminder_id] = due(1)
    monkeypatch.setitem(app.config, "MESSAGEBIRD_TIMEOUT", (2, 0.3))
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")  # no report can confirm it
    sending.sandbox.set_faults(delay_seconds=1.0, accept_then_delay=True)
    sending.settle()
    assert sending.reminder(reminder_id).provider_error_code == "outcome_unknown"
    monkeypatch.setitem(app.config, "OUTCOME_CHECK_DELAY_SECONDS", 0)

    assert check(sending) == {"found": 1}

    reminder = sending.reminder(reminder_id)
    [message] = sending.messages()
    assert (reminder.status, reminder.provider_message_id) == ("submitted", message["message"]["id"])
    confirmed = dict(sending.events(reminder_id))["submission_confirmed"]
    assert "message list" in confirmed["note"]
    assert check(sending) == {}  # settled: nothing left to ask


def test_a_message_the_provider_never_got_is_resent_once(sending, due, app, monkeypatch, ctx):
    reminder_id = unknown_after_a_lost_worker(sending, due, ctx)
    assert sending.messages() == []

    assert check(sending) == {"resent": 1}
    sending.settle()

    reminder = sending.reminder(reminder_id)
    assert reminder.status == "submitted"
    assert sending.references() == [str(reminder_id)]
    assert kinds(sending, reminder_id).count("outcome_resent") == 1
    assert check(sending) == {}


def test_absent_again_after_the_resend_it_is_not_resent_twice(sending, due, app, monkeypatch, ctx):
    from portal.extensions import db
    from portal.models import Reminder

    reminder_id = unknown_after_a_lost_worker(sending, due, ctx)
    assert check(sending) == {"resent": 1}
    sending.dispatch()  # claimed again; the worker dies once more before the call
    lose_the_worker(db.session.get(Reminder, reminder_id), sending)

    assert check(sending) == {"absent": 1}
    assert check(sending) == {}
    assert sending.messages() == []
    assert sending.reminder(reminder_id).provider_error_code == "outcome_unknown"
    assert Counter(kinds(sending, reminder_id))["outcome_resent"] == 1


def test_an_unreachable_provider_is_asked_again_with_backoff_until_the_appointment(sending, due, app, monkeypatch,
                                                                                    ctx):
    reminder_id = unknown_after_a_lost_worker(sending, due, ctx)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setitem(app.config, "MESSAGEBIRD_ENDPOINT", f"http://127.0.0.1:{port}")
    now = datetime.now(timezone.utc)

    assert check(sending, now) == {"unreachable": 1}
    first = sending.reminder(reminder_id).next_attempt_at
    assert check(sending, now + timedelta(seconds=1)) == {}  # not yet
    assert check(sending, first + timedelta(seconds=1)) == {"unreachable": 1}
    second = sending.reminder(reminder_id).next_attempt_at
    assert second - first > first - now  # the pauses grow
    checks = [data for kind, data in sending.events(reminder_id) if kind == "outcome_check"]
    assert [data["result"] for data in checks] == ["unreachable", "unreachable"]
    start = sending.reminder(reminder_id).start_at
    assert check(sending, start + timedelta(seconds=1)) == {}  # the appointment has begun: no more asking

    monkeypatch.setitem(app.config, "MESSAGEBIRD_ENDPOINT", sending.sandbox.url)
    assert check(sending, second + timedelta(seconds=1)) == {"resent": 1}
    sending.settle(now=second + timedelta(seconds=1))
    assert sending.references() == [str(reminder_id)]
