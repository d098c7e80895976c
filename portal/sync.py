"""Applying the practice program's changes: patients and appointments.

Shared by the single endpoints and by POST /sync. Each function works in the
caller's transaction (it flushes, never commits), re-plans what it touched,
and raises SyncProblem for a change it refuses; nothing is changed then.
`data` is a mapping of already validated fields (see api/practice_schemas.py).
"""
import functools
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from . import bulk, planning, replies
from .access import scoped_to_a_practice, scoped_to_practice
from .domain.phones import MISSING, parse_mobile
from .domain.replies import consent_given_again
from .extensions import db
from .models import Appointment, AppointmentEvent, DeliveryReport, Patient, Practice, Reminder
from .models.base import one_of
from .planning import appointment_start, plan_appointment, replan_patient

SEEN_EVERY = timedelta(minutes=1)
# The patients and appointments a batch names, by (model, program ID); None for one that does not exist.
_loaded: ContextVar[dict | None] = ContextVar("sync_loaded", default=None)


class SyncProblem(Exception):
    """A refused change: HTTP-like status, a sentence, and the fields concerned."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []


@dataclass
class PatientResult:
    patient: Patient
    created: bool
    warnings: list[dict] = field(default_factory=list)


@dataclass
class AppointmentResult:
    appointment: Appointment
    created: bool
    reminder: Reminder | None
    warnings: list[dict] = field(default_factory=list)


def touch_practice(practice: Practice, now: datetime) -> None:
    """Record that the practice program was seen; at most one write a minute."""
    if practice.last_seen_at is None or now - practice.last_seen_at >= SEEN_EVERY:
        practice.last_seen_at = now


# --- patients ----------------------------------------------------------------

def put_patient(practice: Practice, external_id: str, data: Mapping[str, Any], now: datetime) -> PatientResult:
    """Create or update a patient; re-plan their reminders when consent or number changed.

    :raise SyncProblem 409: for a stale revision or an erased patient.
    """
    touch_practice(practice, now)
    patient = _find(Patient, practice, external_id)
    if patient is not None and patient.erased_at is not None:
        raise SyncProblem(409, "This patient's data were erased; send the patient under a new ID.")
    _check_revision(patient, data.get("revision"))
    created = patient is None
    if created:
        patient = _added(Patient(practice_id=practice.id, external_id=external_id, revision=0))
    before = _reminder_relevant(patient)
    _set_patient_fields(patient, data)
    if not created and _reminder_relevant(patient) != before:
        replan_patient(patient, now)
    return PatientResult(patient, created, patient_warnings(patient))


def _set_patient_fields(patient: Patient, data: Mapping[str, Any]) -> None:
    mobile = parse_mobile(data.get("mobile"))
    requested = bool(data.get("sms_consent"))
    consent = requested and consent_given_again(patient.opted_out_revision, data.get("revision"))
    _assign(patient, first_name=data.get("first_name"), last_name=data.get("last_name"),
            salutation=data.get("salutation"), sms_consent=consent)
    if consent or not requested:  # a STOP the program has taken over, or overruled with a newer record
        _assign(patient, opted_out_at=None, opted_out_revision=None)
    _assign(patient, mobile_raw=mobile.raw, mobile_e164=mobile.e164, mobile_problem=mobile.problem,
            mobile_problem_detail=mobile.detail, revision=max(patient.revision or 0, data.get("revision") or 0))


def _assign(row, **values) -> None:
    """Set the columns whose value differs: an unchanged row stays clean (no UPDATE, no search keys again)."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def _reminder_relevant(patient: Patient) -> tuple:
    return patient.sms_consent, patient.mobile_e164, patient.mobile_problem


def patient_warnings(patient: Patient) -> list[dict]:
    """What stops this patient's reminders and the practice can fix: the mobile number, or a STOP."""
    if patient.opted_out_at is not None:
        return [{"field": "sms_consent", "code": "opted_out",
                 "message": f"the patient replied STOP; consent counts again only with a revision above "
                            f"{patient.opted_out_revision}"}]
    if patient.mobile_problem is None or (patient.mobile_problem == MISSING and not patient.sms_consent):
        return []
    return [{"field": "mobile", "code": patient.mobile_problem,
             "message": patient.mobile_problem_detail or patient.mobile_problem}]


def erase_patient(practice: Practice, external_id: str, now: datetime) -> Patient:
    """Erase a patient's personal data and cancel their reminders; the row stays for counts.

    :raise SyncProblem 404: for an unknown patient.
    """
    touch_practice(practice, now)
    patient = _find(Patient, practice, external_id)
    if patient is None:
        raise SyncProblem(404, "No such patient.")
    if patient.erased_at is None:
        patient.erased_at = now
        patient.first_name = patient.last_name = patient.salutation = None
        patient.mobile_raw = patient.mobile_e164 = patient.mobile_problem_detail = None
        patient.mobile_problem, patient.sms_consent = None, False
        db.session.flush()
        replan_patient(patient, now)
        _purge_sent_texts(patient, now)
    return patient


def _purge_sent_texts(patient: Patient, now: datetime) -> None:
    """Texts and numbers already sent to the patient go too; statuses and segments stay for counts."""
    appointment_ids = select(Appointment.id).where(Appointment.patient_id == patient.id)
    reminders = db.session.scalars(select(Reminder).where(Reminder.appointment_id.in_(appointment_ids))).all()
    for reminder in reminders:
        if reminder.body is not None or reminder.recipient is not None:
            reminder.body = reminder.recipient = None
            reminder.purged_at = now
    reports = db.session.scalars(
        select(DeliveryReport).where(DeliveryReport.reminder_id.in_([r.id for r in reminders]))
    ).all() if reminders else []
    for report in reports:
        report.recipient, report.details = None, None
    replies.erase_patient_replies(patient.id, now)
    events = db.session.scalars(select(AppointmentEvent).where(AppointmentEvent.appointment_id.in_(appointment_ids)))
    for event in events:
        if event.data and {"body", "text", "recipient"} & set(event.data):
            event.data = {k: v for k, v in event.data.items() if k not in ("body", "text", "recipient")}


# --- appointments --------------------------------------------------------------

def put_appointment(practice: Practice, external_id: str, data: Mapping[str, Any], now: datetime) -> AppointmentResult:
    """Create, update, move or restore an appointment, record its history and re-plan it.

    A cancelled appointment is restored only by a higher revision: a re-sent
    older update must not bring it back.

    :raise SyncProblem 409: for a stale revision.
    :raise SyncProblem 422: for an unknown or erased patient or a start without offset.
    """
    touch_practice(practice, now)
    appointment = _find(Appointment, practice, external_id, with_patient=True)
    _check_revision(appointment, data.get("revision"))
    patient = _named_patient(practice, appointment, data["patient"])
    if patient is None or patient.erased_at is not None:
        raise SyncProblem(422, "patient: no such patient", [{"field": "patient", "message": "no such patient"}])
    start = _aware(data["start"])
    _check_restore(appointment, data.get("revision"))
    created = appointment is None
    with planning.change(practice, appointment, now):
        if created:
            appointment = _create_appointment(practice, external_id, patient, start, data, now)
        else:
            _update_appointment(appointment, patient, start, data, now)
        _assign(appointment, start_offset_minutes=int(data["start"].utcoffset().total_seconds() // 60),
                duration_minutes=data.get("duration_minutes"), therapist=data.get("therapist"),
                revision=max(appointment.revision or 0, data.get("revision") or 0))
        reminder = plan_appointment(appointment, now)
    return AppointmentResult(appointment, created, reminder, patient_warnings(patient))


def _named_patient(practice: Practice, appointment: Appointment | None, external_id: str) -> Patient | None:
    """The patient an appointment change names: the appointment's own, loaded and locked with it, when it
    keeps them (a move), else found as any patient."""
    own = appointment.patient if appointment is not None else None
    if own is not None and own.external_id == external_id and own.practice_id == practice.id:
        return own
    return _find(Patient, practice, external_id)


def _create_appointment(practice: Practice, external_id: str, patient: Patient, start: datetime,
                        data: Mapping[str, Any], now: datetime) -> Appointment:
    appointment = _added(Appointment(practice_id=practice.id, external_id=external_id, patient=patient,
                                     start_at=start, sms_reminder=data.get("sms_reminder", True), revision=0))
    _event(appointment, now, "created", data.get("change_source"), {"start": data["start"].isoformat()})
    return appointment


def _update_appointment(appointment: Appointment, patient: Patient, start: datetime, data: Mapping[str, Any],
                        now: datetime) -> None:
    source = data.get("change_source")
    if appointment.cancelled_at is not None:  # a higher revision, see `_check_restore`
        appointment.cancelled_at = None
        _event(appointment, now, "restored", source, {"start": data["start"].isoformat()})
    if appointment.start_at != start:
        previous = appointment_start(appointment)
        appointment.start_at = start
        _event(appointment, now, "moved", source, {"from": previous.isoformat(), "to": data["start"].isoformat()})
    tick = data.get("sms_reminder", True)
    if appointment.sms_reminder != tick:
        appointment.sms_reminder = tick
        _event(appointment, now, "tick_changed", source, {"from": not tick, "to": tick})
    if appointment.patient_id != patient.id:
        appointment.patient = patient
        _event(appointment, now, "patient_changed", source, {"patient": patient.external_id})


def cancel_appointment(practice: Practice, external_id: str, now: datetime,
                       change_source: str | None = None) -> AppointmentResult:
    """Cancel an appointment and its reminder; cancelling twice changes nothing.

    :raise SyncProblem 404: for an unknown appointment.
    """
    touch_practice(practice, now)
    appointment = _find(Appointment, practice, external_id, with_patient=True)
    if appointment is None:
        raise SyncProblem(404, "No such appointment.")
    with planning.change(practice, appointment, now):
        if appointment.cancelled_at is None:
            appointment.cancelled_at = now
            _event(appointment, now, "cancelled", change_source, {"start": appointment_start(appointment).isoformat()})
        reminder = plan_appointment(appointment, now)
    return AppointmentResult(appointment, False, reminder)


# --- batches ---------------------------------------------------------------------

@contextmanager
def batch(practice: Practice, patient_ids: Iterable[str], appointment_ids: Iterable[str], now: datetime):
    """Apply many changes of one practice with what they touch loaded up front, written at the end.

    The named patients and appointments (and their reminder rows) are loaded and
    locked in one query each; inside the block the functions above find them
    there and add new rows without flushing, and planning runs as one
    `planning.batch`, so the batch is written in a few statements when the block
    ends (the new rows by `bulk.insert_new`, one statement per table, the changed ones by
    `bulk.update_changed`, one per table and set of changed columns).
    A refused change (SyncProblem) changes nothing, as outside a batch.
    """
    patients = _locked(Patient, practice, set(patient_ids))
    appointments = _locked(Appointment, practice, set(appointment_ids))
    _load_other_patients(practice, appointments, {patient.id for patient in patients})
    loaded = {(Patient, key): None for key in patient_ids} | {(Appointment, key): None for key in appointment_ids}
    loaded |= {(type(row), row.external_id): row for row in patients + appointments}
    token = _loaded.set(loaded)
    try:
        with planning.batch(practice, appointments, now):
            yield
            bulk.insert_new(Patient, Appointment)  # before planning writes the reminders, which refer to them
            bulk.update_changed(Patient, Appointment)
    finally:
        _loaded.reset(token)


def _locked(model, practice: Practice, external_ids: set[str]) -> list:
    if not external_ids:
        return []
    return list(db.session.scalars(
        scoped_to_practice(practice, model).where(one_of(model.external_id, external_ids))
        .order_by(model.id).with_for_update(key_share=True)
    ))


def _load_other_patients(practice: Practice, appointments: list[Appointment], loaded: set[int]) -> None:
    """The patients of the appointments that the batch does not name, in one query: `appointment.patient`
    then comes from the session, with no query of its own."""
    others = {appointment.patient_id for appointment in appointments} - loaded
    if others:
        db.session.scalars(scoped_to_practice(practice, Patient).where(one_of(Patient.id, others))).all()


# --- helpers -------------------------------------------------------------------

def _find(model, practice: Practice, external_id: str, with_patient: bool = False):
    """The practice's own patient or appointment with this program ID, locked for the update; an
    appointment `with_patient` joined, and locked too.

    FOR NO KEY UPDATE (PostgreSQL): a webhook or send job inserting a timeline event for it
    (a foreign key check) is not blocked, so it cannot deadlock against the reminder rows we lock next.
    """
    loaded = _loaded.get()
    if loaded is not None and (model, external_id) in loaded:
        return loaded[(model, external_id)]
    return db.session.scalars(_finding(model, with_patient),
                              {"practice_id": practice.id, "external_id": external_id}).first()


@functools.cache
def _finding(model, with_patient: bool):
    """`_find`'s statement, built once: every single change runs it (building it costs about 0.15 ms)."""
    statement = scoped_to_a_practice(model).where(model.external_id == bindparam("external_id"))
    if with_patient:
        statement = statement.options(joinedload(Appointment.patient, innerjoin=True))
    return statement.with_for_update(key_share=True)


def _added(row):
    """A new patient or appointment, known to the batch (if any) under its program ID."""
    db.session.add(row)
    loaded = _loaded.get()
    if loaded is not None:
        loaded[(type(row), row.external_id)] = row
    return row


def _check_revision(stored, revision: int | None) -> None:
    if stored is not None and revision is not None and revision < stored.revision:
        raise SyncProblem(409, f"Stale revision {revision}: revision {stored.revision} is stored already.",
                          [{"field": "revision", "message": f"lower than the stored revision {stored.revision}"}])


def _check_restore(stored: Appointment | None, revision: int | None) -> None:
    """A cancelled appointment is restored only by a higher revision: a re-sent older update must not bring it back."""
    if stored is not None and stored.cancelled_at is not None and (revision or 0) <= stored.revision:
        raise SyncProblem(409, "The appointment is cancelled; restore it with a higher revision.",
                          [{"field": "revision", "message": f"must be above {stored.revision} to restore"}])


def _aware(start: datetime) -> datetime:
    if start.tzinfo is None or start.utcoffset() is None:
        raise SyncProblem(422, "start: needs a UTC offset", [{"field": "start", "message": "needs a UTC offset"}])
    return start.astimezone(timezone.utc)


def _event(appointment: Appointment, now: datetime, kind: str, source: str | None, data: dict) -> None:
    planning.record_event(appointment, now, kind, source, data)
