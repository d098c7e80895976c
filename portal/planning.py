"""Planning: turns appointments, patients and practice settings into reminder rows.

Called by every change that touches a reminder (the practice API, the admin
API and portal, the send jobs). It works in the caller's transaction and
never commits. The rules:

- one reminder row per appointment and start time (uq_reminders_appointment_start);
  a move cancels the rows of other start times (appointment_moved) and plans the
  row of the new start, re-using it when the appointment comes back to a time;
- rows that are submitted or failed belong to the sender: never touched; a queued
  row too, once its submission has begun (submit_started_at). Before that, a
  claimed row may still be cancelled or skipped, through the sender's state
  machine, losing against a send job that began first (`_take_back`), so a
  cancellation is final at once; the send-time check and composing live with
  submission (`sending.submission`);
- the outcome follows `eligibility.skip_reason` and `schedule.due_time`;
- re-planning is idempotent: an unchanged outcome writes nothing, not even an event;
- change notices (`domain.notices`) are rows of their own kind beside the reminders, planned
  with them on every change: a moved or cancelled appointment whose SMS already went out
  gets one; a change undone takes a pending one back; a moved notice that goes out when the
  new start's reminder is due anyway is that reminder (no reminder row of its own).
"""
import functools
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import selectinload

from . import bulk
from .domain import notices
from .domain.eligibility import ReminderFacts, skip_reason, status_for
from .domain.schedule import SendPolicy, due_time, policy_from_settings
from .extensions import db
from .models import Appointment, AppointmentEvent, Patient, Practice, Reminder, utcnow
from .models.base import one_of
from .practices import effective_values, licence_active
from .sending import state

SENDER_OWNED = ("queued", "submitted", "failed")
EVENT_KINDS = {"planned": "planned", "skipped": "skipped", "cancelled": "reminder_cancelled"}


@dataclass(frozen=True)
class PracticeFacts:
    """What planning needs to know about a practice, read once per run."""

    licence_active: bool
    sms_enabled: bool
    policy: SendPolicy
    change_notice: bool = True


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str | None
    due_at: datetime | None
    note: str | None = None


@dataclass
class _Run:
    """One planning run: events are written after the new rows have IDs, in the order they happened."""

    now: datetime
    events: list[tuple[Appointment, Reminder | None, str, dict, str | None]] = field(default_factory=list)

    def event(self, appointment: Appointment, reminder: Reminder | None, kind: str, data: dict,
              source: str | None = None) -> None:
        self.events.append((appointment, reminder, kind, data, source))

    def finish(self) -> None:
        db.session.flush()
        # one INSERT of many rows (from arrays on PostgreSQL): nothing reads the events back in this transaction
        state.insert_events(self.now, [
            {"appointment_id": appointment.id, "practice_id": appointment.practice_id,
             "reminder_id": reminder.id if reminder else None, "kind": kind, "change_source": source, "data": data}
            for appointment, reminder, kind, data, source in self.events
        ])
        self.events.clear()


@dataclass
class Batch:
    """Many changes of one practice planned as one run (POST /sync), or one change (`change`).

    The practice's facts are read once, the reminder rows of the appointments
    the batch names are loaded in one query, and every event (the practice
    program's and planning's, in their order) is written when the batch ends,
    so the rows of the whole batch go to the database in a few statements.
    """

    run: _Run
    facts: PracticeFacts
    reminders: dict[Appointment, list[Reminder]]


_batch: ContextVar[Batch | None] = ContextVar("planning_batch", default=None)


@contextmanager
def batch(practice: Practice, appointments: list[Appointment], now: datetime):
    """Plan every change made inside the block as one run; the events are written at its end."""
    rows = _reminders(one_of(Reminder.appointment_id, [a.id for a in appointments])) if appointments else {}
    current = Batch(_Run(now), practice_facts(practice, now), {a: rows.get(a.id, []) for a in appointments})
    token = _batch.set(current)
    try:
        yield current
        bulk.insert_new(Reminder)  # one statement for the batch's new rows; the events written next need their IDs
        bulk.update_changed(Reminder)
        current.run.finish()
    finally:
        _batch.reset(token)


@contextmanager
def change(practice: Practice, appointment: Appointment | None, now: datetime):
    """Plan one change of the practice program to `appointment` (None: one it creates) as a batch of one.

    The appointment's rows are loaded before the block changes it, so that query has nothing to flush;
    a new appointment has none to load. The program's events and planning's are written together when
    the block ends, after one flush of every row. Inside a batch, the batch's run plans it.
    """
    if _batch.get() is not None:
        yield
        return
    rows = _reminders_of(appointment) if appointment is not None else {}
    known = {appointment: rows.get(appointment.id, [])} if appointment is not None else {}
    current = Batch(_Run(now), practice_facts(practice, now), known)
    token = _batch.set(current)
    try:
        yield current
        current.run.finish()
    finally:
        _batch.reset(token)


def record_event(appointment: Appointment, now: datetime, kind: str, source: str | None, data: dict) -> None:
    """A timeline event of the practice program's change, in order with planning's events."""
    current = _batch.get()
    if current is not None:
        current.run.event(appointment, None, kind, data, source)
        return
    # by relationship: a new appointment gets its ID, and this event its place, at the next flush
    db.session.add(AppointmentEvent(appointment=appointment, practice_id=appointment.practice_id, at=now,
                                    kind=kind, change_source=source, data=data))


def appointment_start(appointment: Appointment) -> datetime:
    """The start time with the UTC offset the practice program sent."""
    offset = timezone(timedelta(minutes=appointment.start_offset_minutes or 0))
    return appointment.start_at.astimezone(offset)


def current_reminder(appointment: Appointment, reminders: list[Reminder] | None = None) -> Reminder | None:
    """The reminder for the appointment's current start time, or None.

    Where a moved notice is that reminder (see `domain.notices`), the notice.
    `reminders` are the appointment's rows when the caller has loaded them already.
    """
    if reminders is None:
        reminders = db.session.scalars(
            select(Reminder).where(Reminder.appointment_id == appointment.id).order_by(Reminder.id)
        ).all()
    rows = [row for row in reminders if row.start_at == appointment.start_at]
    own = next((row for row in rows if row.kind == notices.REMINDER), None)
    if own is None or own.reason == notices.NOTICE_IS_REMINDER:
        return next((row for row in rows if row.kind == notices.MOVED), own)
    return own


# --- facts -------------------------------------------------------------------

def practice_facts(practice: Practice, now: datetime) -> PracticeFacts:
    """Licence, SMS switch and send policy of a practice at `now`."""
    settings = effective_values(practice)
    return PracticeFacts(licence_active=licence_active(practice, now), sms_enabled=practice.sms_enabled,
                         policy=policy_from_settings(settings), change_notice=bool(settings["change_notice"]))


def facts_for(appointment: Appointment, now: datetime, practice: PracticeFacts | None = None) -> ReminderFacts:
    """The facts `eligibility.skip_reason` decides on, for one appointment."""
    practice = practice or practice_facts(appointment.practice, now)
    patient = appointment.patient
    return ReminderFacts(
        licence_active=practice.licence_active,
        sms_enabled=practice.sms_enabled,
        sms_consent=patient.sms_consent,
        mobile_problem=_mobile_problem(patient),
        sms_reminder=appointment.sms_reminder,
        appointment_cancelled=appointment.cancelled_at is not None,
        patient_erased=patient.erased_at is not None,
    )


def _mobile_problem(patient: Patient) -> str | None:
    if patient.mobile_e164:
        return None
    return patient.mobile_problem or "missing_mobile"


# --- planning ----------------------------------------------------------------

def plan_appointment(appointment: Appointment, now: datetime | None = None) -> Reminder | None:
    """Plan (or skip, or cancel) the reminder of one appointment; the row for its start time."""
    current_batch = _batch.get()
    if current_batch is not None:
        return _plan(current_batch.run, appointment, _batch_reminders(current_batch, appointment),
                     current_batch.facts)
    run = _Run(now or utcnow())
    if appointment.id is None:
        db.session.flush()  # a new appointment needs its ID for the reminder row
    facts = practice_facts(appointment.practice, run.now)
    reminders = _reminders_of(appointment)
    current = _plan(run, appointment, reminders.get(appointment.id, []), facts)
    run.finish()
    return current


def _batch_reminders(current_batch: Batch, appointment: Appointment) -> list[Reminder]:
    """The appointment's rows as the batch knows them: none for one it created, loaded for one it did not name."""
    if appointment not in current_batch.reminders:
        if appointment.id is None:
            current_batch.reminders[appointment] = []
        else:
            rows = _reminders_of(appointment)
            current_batch.reminders[appointment] = rows.get(appointment.id, [])
    return current_batch.reminders[appointment]


def replan_patient(patient: Patient, now: datetime | None = None) -> None:
    """Re-plan the future appointments of one patient."""
    now = now or utcnow()
    _replan(patient.practice, now, Appointment.patient_id == patient.id, patient)


def replan_practice(practice: Practice, now: datetime | None = None) -> None:
    """Re-plan all future appointments of a practice, in a fixed number of queries."""
    now = now or utcnow()
    _replan(practice, now, Appointment.practice_id == practice.id)


def _replan(practice: Practice, now: datetime, condition, patient: Patient | None = None) -> None:
    """Re-plan the future appointments matching `condition`; all of `patient`'s, when given (then they refer
    to that object in the session, with no query for it)."""
    current_batch = _batch.get()
    run = current_batch.run if current_batch else _Run(now)
    facts = current_batch.facts if current_batch else practice_facts(practice, now)
    future = (Appointment.practice_id == practice.id, condition, Appointment.start_at > now)
    patients = () if patient is not None else (selectinload(Appointment.patient),)
    appointments = db.session.scalars(
        select(Appointment).where(*future).options(*patients).order_by(Appointment.id)
    ).all()
    reminders = _reminders(Reminder.appointment_id.in_(select(Appointment.id).where(*future)))
    for appointment in appointments:
        _plan(run, appointment, reminders.get(appointment.id, []), facts)
    if current_batch:
        current_batch.reminders.clear()  # rows may have been added: the next plan loads them again
    else:
        run.finish()


def _reminders(condition) -> dict[int, list[Reminder]]:
    """Reminder rows by appointment, locked (`_locked_rows`)."""
    return _by_appointment(db.session.scalars(_locked_rows(condition)).all())


def _reminders_of(appointment: Appointment) -> dict[int, list[Reminder]]:
    """`_reminders` of one appointment: every single change runs this statement, so it is built once."""
    return _by_appointment(db.session.scalars(_rows_of_one(), {"appointment_id": appointment.id}).all())


def _locked_rows(condition) -> Select:
    """Locked so a dispatcher's claim cannot be overwritten, and read again if already loaded.

    FOR NO KEY UPDATE: events that refer to them (foreign keys) may still be written meanwhile.
    """
    return (select(Reminder).where(condition).order_by(Reminder.id).with_for_update(key_share=True)
            .execution_options(populate_existing=True))


@functools.cache
def _rows_of_one() -> Select:
    return _locked_rows(Reminder.appointment_id == bindparam("appointment_id"))


def _by_appointment(rows: list[Reminder]) -> dict[int, list[Reminder]]:
    by_appointment: dict[int, list[Reminder]] = defaultdict(list)
    for row in rows:
        by_appointment[row.appointment_id].append(row)
    return by_appointment


def _plan(run: _Run, appointment: Appointment, reminders: list[Reminder], practice: PracticeFacts) -> Reminder | None:
    start = appointment.start_at.astimezone(timezone.utc)
    current = next((row for row in reminders if row.start_at == start and row.kind == notices.REMINDER), None)
    for row in reminders:
        moved = Outcome("cancelled", "appointment_moved", row.due_at)
        if row is current or row.kind != notices.REMINDER:
            continue
        if row.status in ("planned", "skipped"):
            _apply(run, appointment, row, moved)
        elif _claimed_unsent(row):
            _take_back(run, appointment, row, moved)
    facts = facts_for(appointment, run.now, practice)
    _plan_notice(run, appointment, reminders, facts, practice)
    # the moved notice for this start, planned now or sent before (then the patient has been told of it)
    notice = next((row for row in reminders if row.kind == notices.MOVED and row.start_at == start), None)
    if current is not None and current.status in SENDER_OWNED:
        reason = skip_reason(facts)
        if reason is not None and _claimed_unsent(current):
            reason = "consent_withdrawn" if reason == "no_consent" else reason  # it was planned with consent
            _take_back(run, appointment, current, Outcome(status_for(reason), reason, current.due_at))
        return current
    if _notice_is_reminder(notice, start, practice.policy):
        if current is not None:
            _apply(run, appointment, current, Outcome("skipped", notices.NOTICE_IS_REMINDER, None))
        return notice
    outcome = outcome_for(facts, current, start, practice.policy, run.now)
    if current is None:
        if outcome.status == "cancelled":
            return None  # nothing was ever planned for this start: nothing to cancel
        current = Reminder(practice_id=appointment.practice_id, appointment=appointment, start_at=start,
                           kind=notices.REMINDER)
        db.session.add(current)
        reminders.append(current)
    _apply(run, appointment, current, outcome)
    return current


def outcome_for(facts: ReminderFacts, current: Reminder | None, start: datetime, policy: SendPolicy,
                now: datetime) -> Outcome:
    """What the reminder for `start` should be, given the facts and the row as it is."""
    reason = skip_reason(facts)
    was_planned = current is not None and (current.status == "planned" or current.reason == "consent_withdrawn")
    if reason == "no_consent" and was_planned:
        reason = "consent_withdrawn"
    if reason is not None:
        status = status_for(reason)
        kept_due = current.due_at if current is not None and status == "cancelled" else None
        return Outcome(status, reason, kept_due)
    due = due_time(start, policy, now)
    if due.too_late:
        return Outcome("skipped", "too_late", None, due.note)
    if current is not None and current.status == "planned" and current.due_at is not None and current.due_at <= now:
        return Outcome("planned", None, current.due_at)  # already due: the dispatcher has it
    return Outcome("planned", None, due.due_at, due.note)


# --- change notices ---------------------------------------------------------------

def _plan_notice(run: _Run, appointment: Appointment, reminders: list[Reminder], facts: ReminderFacts,
                 practice: PracticeFacts) -> None:
    """Plan the change notice the appointment needs now, and take back the ones it no longer needs."""
    start = appointment.start_at.astimezone(timezone.utc)
    last = notices.told(reminders)
    want = notices.wanted(last, start, appointment.cancelled_at is not None, run.now)
    key = (want.kind, want.start_at) if want else None
    wanted_row = None
    for row in (row for row in reminders if row.kind in notices.NOTICE_KINDS):
        if (row.kind, row.start_at) == key:
            wanted_row = row
        elif row.status in ("planned", "skipped") or _claimed_unsent(row):
            _withdraw_notice(run, appointment, row, want, last)
    if want is None:
        return
    if wanted_row is not None and wanted_row.status in SENDER_OWNED:
        reason = notices.notice_skip_reason(facts, practice.change_notice)
        if reason is not None and _claimed_unsent(wanted_row):
            _take_back(run, appointment, wanted_row, Outcome(status_for(reason), reason, wanted_row.due_at))
        return
    outcome = notice_outcome(want, facts, wanted_row, practice, run.now)
    if wanted_row is None:
        if outcome.status == "cancelled":
            return  # e.g. the patient was erased: nothing to plan, nothing to cancel
        wanted_row = Reminder(practice_id=appointment.practice_id, appointment=appointment, start_at=want.start_at,
                              kind=want.kind)
        db.session.add(wanted_row)
        reminders.append(wanted_row)
    _apply(run, appointment, wanted_row, outcome)


def notice_outcome(want: notices.Notice, facts: ReminderFacts, row: Reminder | None, practice: PracticeFacts,
                   now: datetime) -> Outcome:
    """What the wanted notice's row should be: the reminder's checks and the switch, then its due time."""
    reason = notices.notice_skip_reason(facts, practice.change_notice)
    if reason is not None:
        status = status_for(reason)
        return Outcome(status, reason, row.due_at if row is not None and status == "cancelled" else None)
    due = notices.notice_due(want, practice.policy, now)
    if due.too_late:
        return Outcome("skipped", notices.NOTICE_TOO_LATE, None, due.note)
    if row is not None and row.status == "planned" and row.due_at is not None and row.due_at <= now:
        return Outcome("planned", None, row.due_at)  # already due: the dispatcher has it
    return Outcome("planned", None, due.due_at, due.note)


def _withdraw_notice(run: _Run, appointment: Appointment, row: Reminder, want: notices.Notice | None, last) -> None:
    """A notice that is no longer the one wanted: the change was undone, or another change replaced it."""
    reason = notices.unwanted_reason(want, last, run.now)
    outcome = Outcome(status_for(reason), reason, row.due_at)
    if row.status == "queued":
        _take_back(run, appointment, row, outcome)
    else:
        _apply(run, appointment, row, outcome)


def _notice_is_reminder(notice: Reminder | None, start: datetime, policy: SendPolicy) -> bool:
    return (notice is not None and notice.kind == notices.MOVED and notice.start_at == start
            and notice.status not in ("skipped", "cancelled") and notice.due_at is not None
            and notices.is_the_reminder(start, notice.due_at, policy))


def notice_check(row: Reminder, now: datetime) -> str | None:
    """The send-time check of a change notice: why it may not go out now, or None.

    The same rules as planning's, on the appointment as it is now: still the notice
    wanted, the reminder's checks and the switch, and not too late.
    """
    appointment = row.appointment
    rows = db.session.scalars(select(Reminder).where(Reminder.appointment_id == appointment.id)).all()
    last = notices.told(rows)
    want = notices.wanted(last, appointment.start_at, appointment.cancelled_at is not None, now)
    if last is None and _stands_for_the_reminder(row, appointment, rows):
        # the earlier SMS never went out after all (its retry was taken back), but this notice is the reminder
        want = notices.Notice(row.kind, row.start_at, row.start_at)
    if want is None or (want.kind, want.start_at) != (row.kind, row.start_at):
        return notices.unwanted_reason(want, last, now)
    practice = practice_facts(appointment.practice, now)
    reason = notices.notice_skip_reason(facts_for(appointment, now, practice), practice.change_notice)
    return reason or (notices.NOTICE_TOO_LATE if notices.too_late(want, now) else None)


def _stands_for_the_reminder(row: Reminder, appointment: Appointment, rows: list[Reminder]) -> bool:
    """A moved notice for the current start that was planned as its reminder (no reminder row of its own)."""
    still_on = appointment.cancelled_at is None and row.start_at == appointment.start_at
    return row.kind == notices.MOVED and still_on and not any(
        other.kind == notices.REMINDER and other.start_at == row.start_at and other.reason != notices.NOTICE_IS_REMINDER
        for other in rows)


def _claimed_unsent(row: Reminder) -> bool:
    """Claimed by a dispatcher (or waiting for a retry), but its submission has not begun."""
    return row.status == "queued" and row.submit_started_at is None


def _take_back(run: _Run, appointment: Appointment, row: Reminder, outcome: Outcome) -> None:
    """Cancel or skip a claimed row, unless a send job began its submission first.

    The sender's state machine decides (`sending.state.take_back`): exactly one of the two wins.
    """
    taken = state.take_back(row, outcome.status, outcome.reason, run.now)
    db.session.refresh(row)
    if taken:
        _event(run, appointment, row, outcome, note="taken back from the sender before submission")


def _apply(run: _Run, appointment: Appointment, row: Reminder, outcome: Outcome) -> None:
    """Give `row` the outcome; an event only when something changed."""
    if (row.status, row.reason, row.due_at) == (outcome.status, outcome.reason, outcome.due_at):
        return
    row.status, row.reason, row.due_at = outcome.status, outcome.reason, outcome.due_at
    _event(run, appointment, row, outcome)


def _event(run: _Run, appointment: Appointment, row: Reminder, outcome: Outcome, note: str | None = None) -> None:
    data = {"reason": outcome.reason, "due_at": outcome.due_at.isoformat() if outcome.due_at else None,
            "start_at": row.start_at.isoformat()}
    if outcome.note or note:
        data["note"] = outcome.note or note
    run.event(appointment, row, EVENT_KINDS[outcome.status], data)
