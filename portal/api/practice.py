"""Practice-program API: patients, appointments, bulk sync and settings.

Only a practice API key may call these, and only for its own practice: every
lookup is scoped to the key's practice, so another practice's IDs are 404.
Changes are applied by portal.sync, which also re-plans the reminders.
"""
import logging
import re
from typing import Any, Callable

from sqlalchemy.exc import IntegrityError

from .. import sync
from ..access import get_or_404
from ..domain.reasons import reason_text
from ..extensions import db
from ..models import Appointment, Patient, Practice, Reminder, utcnow
from ..planning import appointment_start, current_reminder
from . import practice_schemas as ps
from . import schemas as s
from .admin import practice_settings_out
from .core import Problem, current_principal, field_error, operation, validated

TAG = "practice program"
ID_MESSAGE = "must be 1 to 64 letters, digits, '-', '_' or '.'"
CONCURRENT = "Changed at the same time by another request; send it again."
FAILED = "This operation could not be applied; nothing of it was kept. The others are unaffected."
log = logging.getLogger(__name__)


def own_practice() -> Practice:
    """The practice of the calling API key, with its group and licences (loaded with the key): planning and
    the answers read them."""
    return current_principal().practice


def external_id(value: str) -> str:
    """:raise Problem 422: for an ID the practice program cannot have sent."""
    if not re.fullmatch(ps.EXTERNAL_ID_PATTERN, value):
        raise field_error(422, "id", ID_MESSAGE)
    return value


def applied(change: Callable[[Practice, Any], Any]) -> Any:
    """Run one change for the key's practice in this request's transaction and commit it.

    The change returns what the endpoint answers, built before the commit from the objects it loaded:
    after the commit they would be loaded again.

    :raise Problem: with the status of a refused change; nothing but last-seen is kept then.
    """
    now, practice = utcnow(), own_practice()
    try:
        result = change(practice, now)
        db.session.commit()
    except sync.SyncProblem as problem:
        db.session.rollback()
        sync.touch_practice(practice, now)
        db.session.commit()
        raise Problem(problem.status, problem.detail, problem.errors) from None
    except IntegrityError:
        db.session.rollback()
        raise Problem(409, CONCURRENT) from None
    return result


def seen() -> Practice:
    """The key's practice, recorded as seen now (for reads)."""
    practice = own_practice()
    sync.touch_practice(practice, utcnow())
    db.session.commit()
    return practice


# --- patients ------------------------------------------------------------------

@operation("PUT", "/patients/{patient_id}", summary="Create or update a patient", permission="practice_sync",
           tag=TAG, body=ps.PatientIn, response=ps.PatientOut, errors=(409,))
def put_patient(patient_id: str, body: ps.PatientIn):
    """Create or replace the patient with the program's ID; their reminders are re-planned. A missing or
    invalid mobile number is kept as typed and answered in `warnings` (no SMS then), not refused.

    :raise 409: `revision` lower than the stored one.
    :raise 422: a malformed ID or invalid fields."""
    key = external_id(patient_id)
    return applied(lambda practice, now: _patient_answer(sync.put_patient(practice, key, body.model_dump(), now)))


@operation("DELETE", "/patients/{patient_id}", summary="Erase a patient's personal data and cancel their reminders",
           permission="practice_sync", tag=TAG, status=204)
def delete_patient(patient_id: str):
    """Erase the patient's personal data, and the texts and numbers already sent to them, and cancel their
    reminders; what stays is kept for counts only.

    :raise 404: no such patient.
    :raise 422: a malformed ID."""
    key = external_id(patient_id)
    applied(lambda practice, now: sync.erase_patient(practice, key, now))


# --- appointments ----------------------------------------------------------------

@operation("PUT", "/appointments/{appointment_id}", summary="Create, update, move or restore an appointment",
           permission="practice_sync", tag=TAG, body=ps.AppointmentIn, response=ps.AppointmentOut, errors=(409,))
def put_appointment(appointment_id: str, body: ps.AppointmentIn):
    """Create, update, move or restore the appointment with the program's ID; its reminder is re-planned
    in the same request and answered in `reminder`.

    :raise 409: `revision` lower than the stored one.
    :raise 422: a malformed ID, invalid fields, or an unknown `patient`."""
    key = external_id(appointment_id)
    return applied(lambda practice, now: _appointment_answer(
        sync.put_appointment(practice, key, body.model_dump(), now)))


@operation("DELETE", "/appointments/{appointment_id}",
           summary="Cancel an appointment; optional body {change_source}", permission="practice_sync", tag=TAG,
           status=204, body=ps.CancelIn, body_required=False)
def delete_appointment(appointment_id: str, body: ps.CancelIn):
    """Cancel the appointment and its reminder; `change_source` says how it was done, for support.

    :raise 404: no such appointment.
    :raise 422: a malformed ID."""
    key = external_id(appointment_id)
    applied(lambda practice, now: sync.cancel_appointment(practice, key, now, body.change_source))


@operation("GET", "/appointments/{appointment_id}", summary="An appointment and its current reminder",
           permission="practice_sync", tag=TAG, response=ps.AppointmentOut)
def get_appointment(appointment_id: str):
    """The appointment and its current reminder: status, reason, due time, text, recipient and delivery.

    :raise 404: no such appointment.
    :raise 422: a malformed ID."""
    key = external_id(appointment_id)
    seen()
    appointment = get_or_404(current_principal(), Appointment, Appointment.external_id == key,
                             description="No such appointment.")
    return appointment_out(appointment, current_reminder(appointment))


# --- bulk sync -------------------------------------------------------------------

@operation("POST", "/sync", summary="Apply up to 1,000 operations in order, each on its own",
           permission="practice_sync", tag=TAG, body=ps.SyncIn, response=ps.SyncOut)
def post_sync(body: ps.SyncIn):
    """Apply up to 1,000 operations in order, each in a transaction of its own, as the single endpoints would.
    Each gets a result with the status the single endpoint would have answered; an invalid or refused one
    changes nothing and the others still apply. The request as a whole is refused only when it is not an
    object with 1 to 1,000 operations."""
    now = utcnow()
    try:
        results = _sync_batch(body.operations, now)
    except Exception:
        # A conflict or failure showed only when the batch was written: apply it again one by one, so that
        # every operation gets the result it would get on its own.
        db.session.rollback()
        log.warning("sync batch of %d operations applied one by one", len(body.operations), exc_info=True)
        results = [sync_one(index, raw, now) for index, raw in enumerate(body.operations)]
    failed = sum(1 for result in results if result.status >= 400)
    return ps.SyncOut(applied=len(results) - failed, failed=failed, results=results)


def _sync_batch(operations: list[Any], now) -> list[ps.SyncResult]:
    """Apply the operations as one `sync.batch` in one transaction; a refused one changes nothing.

    :raise Exception: for anything but a refused operation; nothing is kept then.
    """
    practice = own_practice()
    patients, appointments = _named(operations)
    results = []
    with sync.batch(practice, patients, appointments, now):
        for index, raw in enumerate(operations):
            try:
                results.append(_sync_operation(index, raw, practice, now))
            except (sync.SyncProblem, Problem) as problem:
                results.append(_refused(index, raw, problem))
    db.session.commit()
    return results


def _named(operations: list[Any]) -> tuple[list[str], list[str]]:
    """The program IDs of the patients and of the appointments the operations name."""
    patients, appointments = [], []
    for raw in operations:
        op, key = _label(raw)
        data = raw.get("data") if isinstance(raw, dict) else None
        if key and not re.fullmatch(ps.EXTERNAL_ID_PATTERN, key):
            continue  # refused on its own; the batch loads only IDs the program can have sent
        if op in ("put_patient", "delete_patient") and key:
            patients.append(key)
        elif op in ("put_appointment", "delete_appointment") and key:
            appointments.append(key)
            if isinstance(data, dict) and re.fullmatch(ps.EXTERNAL_ID_PATTERN, str(data.get("patient"))):
                patients.append(data["patient"])
    return patients, appointments


def sync_one(index: int, raw: Any, now) -> ps.SyncResult:
    """Apply one operation in its own transaction; a refused one is rolled back alone."""
    op, key = _label(raw)
    try:
        result = _sync_operation(index, raw, own_practice(), now)
        db.session.commit()
        return result
    except (sync.SyncProblem, Problem) as problem:
        db.session.rollback()
        return _refused(index, raw, problem)
    except IntegrityError:
        db.session.rollback()
        return ps.SyncResult(index=index, op=op, id=key, status=409, detail=CONCURRENT)
    except Exception:
        # Operations before this one are committed: the program must get a result for each, never a bare 500.
        db.session.rollback()
        log.exception("sync operation %d failed", index)
        return ps.SyncResult(index=index, op=op, id=key, status=500, detail=FAILED)


def _sync_operation(index: int, raw: Any, practice: Practice, now) -> ps.SyncResult:
    op, key = _label(raw)
    operation_ = _envelope(raw)
    status, result, warnings = SYNC_OPERATIONS[operation_.op](practice, operation_.id, operation_.data or {}, now)
    return ps.SyncResult(index=index, op=op, id=key, status=status, result=result, warnings=warnings)


def _envelope(raw: Any) -> ps.SyncOperation:
    """The operation's op, id and data: taken as they are when plainly well-formed, else checked by the
    schema, which names what is wrong. The operations come from a body already validated (and marked)."""
    if (isinstance(raw, dict) and raw.keys() <= {"op", "id", "data"} and raw.get("op") in SYNC_OPERATIONS
            and isinstance(raw.get("id"), str) and re.fullmatch(ps.EXTERNAL_ID_PATTERN, raw["id"])
            and isinstance(raw.get("data"), (dict, type(None)))):
        return ps.SyncOperation.model_construct(op=raw["op"], id=raw["id"], data=raw.get("data"))
    return validated(ps.SyncOperation, raw, marked=True)


def _refused(index: int, raw: Any, problem: sync.SyncProblem | Problem) -> ps.SyncResult:
    op, key = _label(raw)
    return ps.SyncResult(index=index, op=op, id=key, status=problem.status, detail=problem.detail,
                         errors=problem.errors)


def _label(raw: Any) -> tuple[str | None, str | None]:
    if not isinstance(raw, dict):
        return None, None
    op, key = raw.get("op"), raw.get("id")
    return (op if isinstance(op, str) else None), (key if isinstance(key, str) else None)


def _sync_put_patient(practice: Practice, key: str, data: dict, now) -> tuple[int, ps.PatientOut, list]:
    body = validated(ps.PatientIn, data, "data.", marked=True)
    result = sync.put_patient(practice, key, body.model_dump(), now)
    return 200, _patient_answer(result), result.warnings


def _sync_delete_patient(practice: Practice, key: str, data: dict, now) -> tuple[int, None, list]:
    if data:
        raise field_error(422, "data", "delete_patient takes no data")
    sync.erase_patient(practice, key, now)
    return 204, None, []


def _sync_put_appointment(practice: Practice, key: str, data: dict, now) -> tuple[int, ps.AppointmentOut, list]:
    body = validated(ps.AppointmentIn, data, "data.", marked=True)
    result = sync.put_appointment(practice, key, body.model_dump(), now)
    return 200, _appointment_answer(result), result.warnings


def _sync_delete_appointment(practice: Practice, key: str, data: dict, now) -> tuple[int, None, list]:
    body = validated(ps.CancelIn, data, "data.", marked=True)
    sync.cancel_appointment(practice, key, now, body.change_source)
    return 204, None, []


SYNC_OPERATIONS = {
    "put_patient": _sync_put_patient,
    "delete_patient": _sync_delete_patient,
    "put_appointment": _sync_put_appointment,
    "delete_appointment": _sync_delete_appointment,
}


# --- settings ----------------------------------------------------------------------

@operation("GET", "/settings", summary="The practice's effective settings and where each comes from",
           permission="practice_sync", tag=TAG, response=s.SettingsOut)
def get_settings():
    """The practice's effective settings and where each comes from, as the vendor sees them."""
    return practice_settings_out(seen())


# --- shapes ----------------------------------------------------------------------

def patient_out(patient: Patient, created: bool = False, warnings: list | None = None) -> ps.PatientOut:
    return ps.PatientOut(
        id=patient.external_id, first_name=patient.first_name, last_name=patient.last_name,
        salutation=patient.salutation, mobile=patient.mobile_e164, mobile_as_typed=patient.mobile_raw,
        mobile_problem=patient.mobile_problem, mobile_problem_detail=patient.mobile_problem_detail,
        sms_consent=patient.sms_consent, revision=patient.revision, erased=patient.erased_at is not None,
        created=created, warnings=warnings or [],
    )


def _patient_answer(result: sync.PatientResult) -> ps.PatientOut:
    return patient_out(result.patient, result.created, result.warnings)


def _appointment_answer(result: sync.AppointmentResult) -> ps.AppointmentOut:
    return appointment_out(result.appointment, result.reminder, result.created, result.warnings)


def appointment_out(appointment: Appointment, reminder: Reminder | None, created: bool = False,
                    warnings: list | None = None) -> ps.AppointmentOut:
    return ps.AppointmentOut(
        id=appointment.external_id, patient=appointment.patient.external_id,
        start=appointment_start(appointment), duration_minutes=appointment.duration_minutes,
        therapist=appointment.therapist, sms_reminder=appointment.sms_reminder,
        cancelled=appointment.cancelled_at is not None, cancelled_at=appointment.cancelled_at,
        revision=appointment.revision, created=created, warnings=warnings or [],
        reminder=reminder_out(reminder) if reminder else None,
    )


def reminder_out(reminder: Reminder) -> ps.ReminderOut:
    return ps.ReminderOut(
        kind=reminder.kind or "reminder", status=reminder.status, reason=reminder.reason,
        reason_text=reason_text(reminder.reason, "de") if reminder.reason else None,
        start_at=reminder.start_at, due_at=reminder.due_at, submitted_at=reminder.submitted_at,
        body=reminder.body, recipient=reminder.recipient, delivery_status=reminder.delivery_status,
        delivered_at=reminder.delivered_at,
    )
