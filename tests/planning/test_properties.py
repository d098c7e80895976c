"""Random sequences of changes: planning stays idempotent and never plans two sends.

Each example works on a practice of its own (fresh slug and IDs), so examples
do not see each other's rows; the tables are emptied after the test.
"""
from datetime import date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal import sync
from portal.domain.eligibility import skip_reason, status_for
from portal.domain.schedule import due_time, in_quiet_hours
from portal.extensions import db
from portal.models import AppointmentEvent, Licence, Reminder
from portal.planning import current_reminder, facts_for, plan_appointment, practice_facts, replan_practice
from portal.sending.submission import check_before_send

from .conftest import NOW, berlin

STARTS = [berlin(2026, 11, 24, 10, 0), berlin(2026, 11, 24, 16, 30), berlin(2026, 11, 26, 8, 15),
          berlin(2026, 11, 21, 11, 0)]
MOBILES = ["0170 1234567", "O170 1234567", None]
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

CHANGES = st.one_of(
    st.tuples(st.just("move"), st.integers(0, len(STARTS) - 1)),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("tick"), st.booleans()),
    st.tuples(st.just("consent"), st.booleans()),
    st.tuples(st.just("mobile"), st.sampled_from(MOBILES)),
    st.tuples(st.just("sms"), st.booleans()),
    st.tuples(st.just("licence"), st.sampled_from(["active", "suspended", "revoked"])),
    st.tuples(st.just("send_time"), st.sampled_from(["18:00", "07:30", "12:00", None])),
    st.tuples(st.just("later"), st.integers(1, 40)),
    st.tuples(st.just("dispatch")),
)


class World:
    """One practice, one patient, one appointment, changed the way the practice program and admins do."""

    def __init__(self, make):
        self.practice = make.practice(sms_enabled=True)
        make.licence(self.practice, valid_from=date(2026, 1, 1), valid_until=date(2027, 12, 31))
        self.now, self.start, self.sms_tick, self.revision = NOW, STARTS[0], True, 0
        self.patient = {"first_name": "Erika", "last_name": "Mustermann", "mobile": MOBILES[0], "sms_consent": True}
        sync.put_patient(self.practice, "p", self.patient, self.now)
        self.appointment = self.put_appointment().appointment
        db.session.commit()
        self.sent: set[int] = set()

    def put_appointment(self):
        self.revision += 1  # the program counts up, so an update after a cancellation restores
        data = {"patient": "p", "start": self.start, "sms_reminder": self.sms_tick, "revision": self.revision}
        return sync.put_appointment(self.practice, "t", data, self.now)

    def apply(self, change: tuple) -> None:
        kind, *args = change
        getattr(self, kind)(*args)
        db.session.commit()

    def move(self, index):
        self.start = STARTS[index]
        self.put_appointment()

    def cancel(self):
        sync.cancel_appointment(self.practice, "t", self.now, "dialog")

    def tick(self, value):
        self.sms_tick = value
        self.put_appointment()

    def consent(self, value):
        self.patient["sms_consent"] = value
        sync.put_patient(self.practice, "p", self.patient, self.now)

    def mobile(self, value):
        self.patient["mobile"] = value
        sync.put_patient(self.practice, "p", self.patient, self.now)

    def sms(self, value):
        self.practice.sms_enabled = value
        replan_practice(self.practice, self.now)

    def licence(self, status):
        db.session.add(Licence(practice=self.practice, status=status, valid_from=date(2026, 1, 1)))
        db.session.flush()
        db.session.refresh(self.practice, ["licences"])
        replan_practice(self.practice, self.now)

    def send_time(self, value):
        self.practice.send_time = value
        replan_practice(self.practice, self.now)

    def later(self, hours):
        self.now += timedelta(hours=hours)

    def dispatch(self):
        """What the send job does with due reminders: re-check, then submit or record why not."""
        for row in self.rows():
            if row.status == "planned" and row.due_at <= self.now:
                reason = check_before_send(row, self.now)
                if reason is None:
                    row.status, row.submitted_at = "submitted", self.now
                    self.sent.add(row.id)
                else:
                    row.status, row.reason = status_for(reason), reason

    def rows(self) -> list[Reminder]:
        return db.session.scalars(select(Reminder).where(Reminder.appointment_id == self.appointment.id)
                                  .order_by(Reminder.id)).all()

    def snapshot(self) -> tuple:
        db.session.expire_all()
        events = db.session.scalar(select(func.count(AppointmentEvent.id))
                                   .where(AppointmentEvent.appointment_id == self.appointment.id))
        return events, [(r.id, r.kind, r.start_at, r.status, r.reason, r.due_at) for r in self.rows()]


def check_invariants(world: World) -> None:
    rows = world.rows()
    reminders = [r for r in rows if r.kind == "reminder"]
    pending = [r for r in reminders if r.status in ("planned", "queued")]
    assert len(pending) <= 1, "two reminders could be sent for one appointment"
    assert all(r.start_at == world.appointment.start_at for r in reminders if r.status == "planned")
    assert len({(r.start_at, r.kind) for r in rows}) == len(rows)
    # A change notice only after an SMS went out, and at most one pending: the one the appointment needs now.
    notices = [r for r in rows if r.kind != "reminder"]
    assert not notices or any(r.id in world.sent for r in rows)
    assert len([r for r in notices if r.status in ("planned", "queued")]) <= 1
    assert all(r.start_at == world.appointment.start_at and world.appointment.cancelled_at is None
               for r in notices if r.kind == "moved_notice" and r.status == "planned")
    assert all(world.appointment.cancelled_at is not None for r in notices
               if r.kind == "cancelled_notice" and r.status == "planned")
    assert all(r.status == "submitted" for r in rows if r.id in world.sent), "a sent reminder was re-planned"
    current = current_reminder(world.appointment, rows)
    facts = facts_for(world.appointment, world.now)
    if world.appointment.start_at > world.now and skip_reason(facts) is None:
        assert current is not None
        policy = practice_facts(world.practice, world.now).policy
        late = due_time(world.appointment.start_at, policy, world.now).too_late
        expected = {"submitted"} | ({"skipped"} if late else {"planned"})
        assert current.status in expected or (current.status == "planned" and current.due_at <= world.now) \
            or current.kind == "moved_notice"  # the notice is the reminder: its own checks decide
    if world.appointment.cancelled_at is not None and current is not None and current.kind == "reminder":
        assert current.status not in ("planned", "skipped")


@PROPERTY_SETTINGS
@given(changes=st.lists(CHANGES, max_size=12))
def test_random_changes_keep_at_most_one_current_reminder_and_replanning_is_idempotent(make, changes):
    world = World(make)
    for change in changes:
        world.apply(change)
        check_invariants(world)
        # A change re-plans what it touches at once; time passing or sending is caught up by the next run.
        if change[0] in ("later", "dispatch") or world.appointment.start_at <= world.now:
            replan(world)
        before = world.snapshot()
        replan(world)
        assert world.snapshot() == before, f"re-planning after {change} changed something"
        check_invariants(world)


def replan(world: World) -> None:
    plan_appointment(world.appointment, world.now)
    replan_practice(world.practice, world.now)
    db.session.commit()


@PROPERTY_SETTINGS
@given(
    policy=st.sampled_from(["day_before", "hours_before"]),
    send_time=st.sampled_from(["18:00", "06:00", "21:30", "00:00"]),
    hours_before=st.integers(1, 72),
    quiet=st.sampled_from([("21:00", "08:00"), ("22:00", "06:00"), ("12:00", "14:00"), ("08:00", "08:00")]),
    min_lead=st.integers(0, 600),
    start_offset=st.integers(0, 60 * 24 * 10),
    synced_before=st.integers(0, 60 * 24 * 4),
)
def test_a_planned_due_time_respects_lead_time_and_quiet_hours(make, policy, send_time, hours_before, quiet,
                                                               min_lead, start_offset, synced_before):
    world = World(make)
    practice = world.practice
    practice.send_policy, practice.send_time, practice.hours_before = policy, send_time, hours_before
    practice.quiet_start, practice.quiet_end, practice.min_lead_minutes = *quiet, min_lead
    start = datetime(2026, 3, 25, 6, 0, tzinfo=timezone.utc) + timedelta(minutes=start_offset)  # spans both DST days
    now = start - timedelta(minutes=synced_before)
    world.appointment.start_at = start
    reminder = plan_appointment(world.appointment, now)
    db.session.commit()
    events = world.snapshot()[0]
    assert plan_appointment(world.appointment, now) is reminder
    db.session.commit()
    assert world.snapshot()[0] == events
    policy_ = practice_facts(practice, now).policy
    if reminder.status == "planned":
        assert now <= reminder.due_at <= start - timedelta(minutes=min_lead)
        assert not in_quiet_hours(reminder.due_at, policy_)
    else:
        assert (reminder.status, reminder.reason) == ("skipped", "too_late")
        assert start - timedelta(minutes=min_lead) < now or in_quiet_hours(now, policy_)
