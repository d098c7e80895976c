"""Several dispatchers and workers at once; a worker killed in the middle of a batch."""
import os
import time
import signal
import subprocess
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

from jobs.outcomes import check_unknown_outcomes

from .conftest import wait_until


def test_concurrent_dispatchers_and_workers_send_each_reminder_exactly_once(sending, due, app, monkeypatch):
    reminder_ids = due(40)
    # every claim is stale at once: dispatchers keep re-claiming what the workers
    # have not begun, so the same reminder sits in several jobs at a time
    monkeypatch.setitem(app.config, "CLAIM_STALE_SECONDS", 0)
    env = sending.env(SEND_BATCH_SIZE=3)
    errors = []

    def dispatch_loop():
        try:
            for _ in range(6):
                sending.dispatch()
        except Exception as exc:  # reported below
            errors.append(exc)

    workers = [sending.flask("worker", "--burst", "--queues", "send", "--no-schedule", env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    dispatchers = [threading.Thread(target=dispatch_loop) for _ in range(3)]
    for thread in dispatchers:
        thread.start()
    for thread in dispatchers:
        thread.join()
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()[-2000:]
    assert not errors, errors

    sending.settle()  # whatever the burst workers left (claims re-made after they stopped)

    sent = Counter(sending.references())
    assert sent == {str(i): 1 for i in reminder_ids}
    for reminder_id in reminder_ids:
        reminder = sending.reminder(reminder_id)
        assert reminder.status == "submitted"
        assert [kind for kind, _ in sending.events(reminder_id)].count("submitted") == 1


def test_a_worker_killed_mid_batch_is_recovered_and_nothing_known_is_sent_twice(sending, due, app, monkeypatch):
    reminder_ids = due(12)
    sending.sandbox.set_faults(delay_seconds=0.5)  # slow provider: the batch takes a while
    assert sending.dispatch() == 12
    env = sending.env(SEND_BATCH_SIZE=12)
    worker = sending.flask("worker", "--queues", "send", "--no-schedule", env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: len(sending.messages()) >= 3, timeout=60, message="a few submissions")
    finally:
        # the whole process group, as when a machine dies: the worker and its scheduler process
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    # Calls already at the provider still land within its 0.5 s delay. The outcome check's own delay
    # (OUTCOME_CHECK_DELAY_SECONDS, set to 0 below) is there for exactly that; here we wait it out.
    time.sleep(1.5)
    sending.sandbox.set_faults()
    before = Counter(sending.references())
    assert 3 <= sum(before.values()) < 12

    # the dispatcher finds the stale claims (and the submissions of the batch in flight) itself,
    # once SUBMIT_STALE_SECONDS have passed
    monkeypatch.setitem(app.config, "CLAIM_STALE_SECONDS", 0)
    sending.settle(now=datetime.now(timezone.utc) + timedelta(seconds=121))

    sent = Counter(sending.references())
    assert all(count == 1 for count in sent.values()), sent
    statuses = Counter()
    for reminder_id in reminder_ids:
        reminder = sending.reminder(reminder_id)
        statuses[reminder.status, reminder.provider_error_code] += 1
        if reminder.status == "submitted":
            assert sent[str(reminder_id)] == 1
        else:  # only the batch in flight when the worker died can be unknown
            assert (reminder.status, reminder.provider_error_code) == ("failed", "outcome_unknown")
    assert statuses[("failed", "outcome_unknown")] <= 5  # SEND_BATCH_SIZE of the dispatcher

    # the outcome check settles the rest: adopted if the provider holds it, else sent once
    monkeypatch.setitem(app.config, "OUTCOME_CHECK_DELAY_SECONDS", 0)
    with app.app_context():
        check_unknown_outcomes()
    sending.settle()
    assert Counter(sending.references()) == {str(i): 1 for i in reminder_ids}
    assert {sending.reminder(i).status for i in reminder_ids} == {"submitted"}
