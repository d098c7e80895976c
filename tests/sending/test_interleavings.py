"""Random interleavings of two send workers' batches, cancellations, status reports, lost
workers, the sweep and the outcome check: no reminder is submitted twice, none is left
unsettled, the quota holds.

Each worker steps through what a send job does (claim, begin the batch, call the provider
for one reminder, record the answers so far) in its own app context and session, so any
order of the two workers' steps can be tried; a crash drops a worker's unrecorded answers.
The provider is the sandbox over HTTP, through the real SDK. The clock is the model's: it
starts a little in the past and moves in steps of seconds, so that it stays within the
outcome check's margin of the sandbox's own clock (which dates the messages it lists).
"""
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from jobs.send import call, outgoing
from portal import providers, sync
from portal.extensions import db
from portal.models import Practice, Reminder
from portal.sending import claim_due, sweep_unknown_outcomes
from portal.sending.outcomes import settle_unknown_outcomes
from portal.sending.submission import prepare, record_answers
from sandbox.reports import sign

from ..conftest import SIGNING_KEY

NO_REPORTS = "http://127.0.0.1:9"  # the sandbox's own reports cannot arrive: the model sends them
REMINDERS, QUOTA, BATCH = 5, 4, 3
STALE, LATER = 20, timedelta(seconds=10)  # SUBMIT_STALE_SECONDS; a step of the clock
KNOBS = {"PUBLIC_BASE_URL": NO_REPORTS, "MESSAGEBIRD_TIMEOUT": (2, 0.25), "MESSAGEBIRD_SIGNING_KEY": SIGNING_KEY,
         "CLAIM_STALE_SECONDS": 10, "SUBMIT_STALE_SECONDS": STALE, "OUTCOME_CHECK_DELAY_SECONDS": 10}
KINDS = ["accepted", "accepted", "accepted", "refused", "unavailable", "slow"]
STEPS = st.lists(st.sampled_from([
    *[(kind, w) for w in (0, 1) for kind in ("claim", "begin", "call", "call", "record", "crash")],
    *[(kind, n) for n in range(REMINDERS) for kind in ("cancel", "report")],
    ("later",), ("sweep",), ("check",),
]), min_size=10, max_size=30)


@dataclass
class Worker:
    token: str | None = None
    ids: list = field(default_factory=list)
    began_at: datetime | None = None
    ready: list = field(default_factory=list)  # begun, not called yet
    answers: list = field(default_factory=list)  # called, not recorded yet


class World:
    def __init__(self, app, sending, make, kinds):
        self.app, self.sending = app, sending
        self.now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=150)
        practice = make.practice(sms_enabled=True)
        make.licence(practice, monthly_quota=QUOTA)
        self.practice_id = practice.id
        numbers = random.sample(range(10**6, 10**7), REMINDERS)
        appointments = [make.appointment(make.patient(practice, mobile=f"0170 {n}"), self.now + timedelta(hours=3))
                        for n in numbers]
        self.ids = [make.reminder(appointment, due_at=self.now - timedelta(seconds=1)).id
                    for appointment in appointments]
        self.appointments = {reminder_id: appointment.external_id
                             for reminder_id, appointment in zip(self.ids, appointments)}
        recipients = [f"49170{n}" for n in numbers]
        sending.sandbox.reset()
        sending.sandbox.set_faults(
            reject_recipients=[r for r, kind in zip(recipients, kinds) if kind == "refused"],
            recipient_statuses={r: 503 for r, kind in zip(recipients, kinds) if kind == "unavailable"},
            slow_recipients={r: 0.5 for r, kind in zip(recipients, kinds) if kind == "slow"},
        )
        self.workers = [Worker(), Worker()]

    def step(self, kind, *args):
        with self.app.app_context():
            getattr(self, kind)(*args)
            db.session.commit()

    # --- a send job, a step at a time ---

    def claim(self, w):
        if self.workers[w].token is None:
            claim = claim_due(self.now, BATCH)
            if claim.reminder_ids:
                self.workers[w] = Worker(claim.token, claim.reminder_ids)

    def begin(self, w):
        worker = self.workers[w]
        if worker.token and worker.began_at is None:
            worker.ready, _ = prepare(worker.ids, worker.token, self.now)
            worker.began_at = self.now

    def call(self, w):
        worker = self.workers[w]
        if worker.ready:
            ready = worker.ready.pop(0)
            # the job's rule: no call once half of SUBMIT_STALE_SECONDS has passed since the begin
            in_time = (self.now - worker.began_at).total_seconds() < STALE / 2
            provider = providers.for_config(self.app.config)
            answer = call(provider, outgoing(provider, ready, self.now), float("inf") if in_time else float("-inf"))
            worker.answers.append((ready, answer))

    def record(self, w):
        worker = self.workers[w]
        if worker.answers:
            record_answers(worker.answers, worker.token, self.now)
            worker.answers = []
        if worker.began_at is not None and not worker.ready:
            self.workers[w] = Worker()

    def crash(self, w):
        self.workers[w] = Worker()

    # --- everything else ---

    def cancel(self, n):
        sync.cancel_appointment(db.session.get(Practice, self.practice_id), self.appointments[self.ids[n]], self.now)

    def report(self, n):
        reference = str(self.ids[n])
        message = next((m for m in self.held() if m["reference"] == reference), None)
        if message is None:
            return
        query = urlencode({"id": message["id"], "reference": reference,
                           "recipient": message["recipients"]["items"][0]["recipient"], "status": "delivered",
                           "statusDatetime": self.now.isoformat().replace("+00:00", "Z")})
        path = f"/webhooks/messagebird/status?{query}"
        headers = {"MessageBird-Signature-JWT": sign(SIGNING_KEY, NO_REPORTS + path)}
        assert self.app.test_client().get(path, headers=headers).status_code == 200

    def later(self):
        self.now += LATER

    def sweep(self):
        sweep_unknown_outcomes(self.now)

    def check(self):
        settle_unknown_outcomes(providers.for_config(self.app.config), self.now)

    # --- the end: the workers finish, then time passes until everything has settled ---

    def finish(self):
        # the workers stall past SUBMIT_STALE_SECONDS: their submissions are swept and checked first
        self.now += timedelta(seconds=STALE + 2)
        self.step("sweep")
        self.step("check")
        for w in (0, 1):
            self.finish_worker(w)
        for _ in range(8):
            self.now += timedelta(seconds=STALE + 2)
            self.step("sweep")
            self.step("check")
            self.step("claim", 0)
            self.step("begin", 0)
            self.finish_worker(0)

    def finish_worker(self, w):
        """Its calls made and recorded; a claim not begun is left to go stale."""
        while self.workers[w].ready:
            self.step("call", w)
        self.step("record", w)
        self.workers[w] = Worker()

    def held(self) -> list[dict]:
        """The messages the provider holds for this example's reminders."""
        references = {str(i) for i in self.ids}
        return [item["message"] for item in self.sending.sandbox.messages()
                if item["message"]["reference"] in references]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=REMINDERS, max_size=REMINDERS), steps=STEPS)
def test_two_workers_cancellations_and_reports_in_any_order(sending, make, app, monkeypatch, kinds, steps):
    for key, value in KNOBS.items():
        monkeypatch.setitem(app.config, key, value)
    world = World(app, sending, make, kinds)
    for step in steps:
        world.step(*step)
    world.finish()

    held = world.held()
    sent = Counter(message["reference"] for message in held)
    assert all(count == 1 for count in sent.values()), sent  # nothing submitted twice
    assert len(held) <= QUOTA
    by_reference = {message["reference"]: message["id"] for message in held}
    with app.app_context():
        for reminder in db.session.scalars(select(Reminder).where(Reminder.id.in_(world.ids))):
            assert reminder.status not in ("planned", "queued"), vars(reminder)  # nothing left unsettled
            if str(reminder.id) in by_reference:  # what the provider holds is recorded as submitted
                assert (reminder.status, reminder.provider_message_id) == ("submitted", by_reference[str(reminder.id)])
            else:
                assert reminder.status != "submitted", vars(reminder)
