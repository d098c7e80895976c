"""One send job, one batch: begun in one transaction, called concurrently, recorded in chunks."""
import os
import random
import signal
import subprocess
from collections import Counter
from datetime import datetime, timedelta, timezone

from rq import Queue
from sqlalchemy import func, select

from jobs.outcomes import check_unknown_outcomes
from portal.extensions import db
from portal.models import Reminder

from .conftest import wait_until

NO_REPORTS = "http://127.0.0.1:9"  # status reports cannot arrive: only our own records count


def mobile():
    """A number of its own: (as the practice program sends it, as the provider keeps it)."""
    digits = f"{random.randrange(10**6, 10**7)}"
    return f"0170 {digits}", f"49170{digits}"


def kinds(sending, reminder_id):
    return [kind for kind, _ in sending.events(reminder_id) if kind != "delivery_report"]


def test_a_batch_of_accepted_refused_timed_out_unavailable_and_over_quota_reminders(
        sending, due, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "SEND_BATCH_SIZE", 20)
    monkeypatch.setitem(app.config, "MESSAGEBIRD_TIMEOUT", (2, 0.5))
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", NO_REPORTS)
    (refused_raw, refused), (slow_raw, slow), (busy_raw, busy) = mobile(), mobile(), mobile()
    accepted = due(3)
    [refused_id] = due(1, mobile=refused_raw)
    [timed_out_id] = due(1, mobile=slow_raw)
    [unavailable_id] = due(1, mobile=busy_raw)
    practice = make.practice(sms_enabled=True)
    make.licence(practice, monthly_quota=2)
    quota = due(3, practice=practice)
    sending.sandbox.set_faults(reject_recipients=[refused], slow_recipients={slow: 1.5},
                               recipient_statuses={busy: 503})

    assert sending.dispatch() == 9
    assert Queue("send", connection=sending.connection).count == 1  # one job, one batch
    sending.work()

    sent = Counter(sending.references())
    assert sent == {str(i): 1 for i in [*accepted, timed_out_id, *quota[:2]]}
    for reminder_id in [*accepted, *quota[:2]]:
        reminder = sending.reminder(reminder_id)
        assert reminder.status == "submitted" and reminder.provider_message_id
        assert kinds(sending, reminder_id) == ["claimed", "submitted"]
    refused_reminder = sending.reminder(refused_id)
    assert (refused_reminder.status, refused_reminder.provider_error_code) == ("failed", "9")
    assert kinds(sending, refused_id) == ["claimed", "failed"]
    unknown = sending.reminder(timed_out_id)
    assert (unknown.status, unknown.provider_error_code) == ("failed", "outcome_unknown")
    assert kinds(sending, timed_out_id) == ["claimed", "outcome_unknown"]
    waiting = sending.reminder(unavailable_id)
    assert (waiting.status, waiting.claim_token, waiting.submit_started_at) == ("queued", None, None)
    assert waiting.next_attempt_at is not None
    assert kinds(sending, unavailable_id) == ["claimed", "send_retry"]
    skipped = sending.reminder(quota[2])
    assert (skipped.status, skipped.reason, skipped.submit_started_at, skipped.body) == (
        "skipped", "quota_exceeded", None, None)
    assert sending.events(quota[2])[-1] == ("skipped", {"reason": "quota_exceeded", "at_send": True,
                                                        "used": 2, "quota": 2})


def test_a_worker_killed_between_the_batch_begin_and_its_record(sending, due, app, monkeypatch):
    """The whole batch began; eight calls were at the provider, four not yet made. Then SIGKILL.

    The sweep marks the twelve unknown; the outcome check finds the eight the
    provider holds and sends the four it never got: each SMS exactly once.
    """
    reminder_ids = due(12)
    monkeypatch.setitem(app.config, "SEND_BATCH_SIZE", 12)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", NO_REPORTS)
    # the provider accepts at once but answers two seconds later: eight calls wait for their answers
    sending.sandbox.set_faults(delay_seconds=2.0, accept_then_delay=True)
    assert sending.dispatch() == 12
    worker = sending.flask("worker", "--queues", "send", "--no-schedule",
                           env=sending.env(SEND_BATCH_SIZE=12, SEND_CONCURRENCY=8, PUBLIC_BASE_URL=NO_REPORTS),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def begun():
        with app.app_context():
            return db.session.scalar(select(func.count()).where(Reminder.submit_started_at.is_not(None))) == 12
    try:
        wait_until(lambda: len(sending.messages()) >= 8 and begun(), timeout=60, message="eight calls in flight")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    sending.sandbox.set_faults()
    assert len(sending.messages()) == 8
    assert {sending.reminder(i).submitted_at for i in reminder_ids} == {None}  # nothing recorded

    monkeypatch.setitem(app.config, "OUTCOME_CHECK_DELAY_SECONDS", 0)
    sending.dispatch(datetime.now(timezone.utc) + timedelta(seconds=121))  # the sweep: twelve without an outcome
    assert {sending.reminder(i).provider_error_code for i in reminder_ids} == {"outcome_unknown"}
    with app.app_context():
        assert check_unknown_outcomes() == {"found": 8, "resent": 4}
    sending.settle()

    assert Counter(sending.references()) == {str(i): 1 for i in reminder_ids}
    results = Counter()
    for reminder_id in reminder_ids:
        reminder = sending.reminder(reminder_id)
        assert reminder.status == "submitted"
        steps = kinds(sending, reminder_id)
        results[tuple(steps)] += 1
    assert results == {
        ("claimed", "outcome_unknown", "submission_confirmed"): 8,
        ("claimed", "outcome_unknown", "outcome_resent", "claimed", "submitted"): 4,
    }


def test_two_workers_sending_batches_of_one_practice_stop_exactly_at_its_quota(sending, due, make, app, monkeypatch):
    practice = make.practice(sms_enabled=True)
    make.licence(practice, monthly_quota=10)
    reminder_ids = due(30, practice=practice)
    monkeypatch.setitem(app.config, "SEND_BATCH_SIZE", 3)
    assert sending.dispatch() == 30  # ten jobs of three
    env = sending.env(SEND_BATCH_SIZE=3)
    workers = [sending.flask("worker", "--burst", "--queues", "send", "--no-schedule", env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()[-2000:]

    assert len(sending.messages()) == 10
    statuses = Counter((sending.reminder(i).status, sending.reminder(i).reason) for i in reminder_ids)
    assert statuses == {("submitted", None): 10, ("skipped", "quota_exceeded"): 20}
