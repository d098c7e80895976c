"""Submitting one reminder: the send-time check, composing, and recording what the provider said.

The send job asks `prepare` (load the owned reminder, re-check it, compose
it, commit `submit_started_at` and the text, count the quota), calls the
provider, and records its answer with one of the `record_*` functions. Every
status change goes through `state`.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..domain import notices
from ..domain.eligibility import skip_reason, status_for
from ..domain.messages import reminder_values, render, sms_info
from ..domain.verdict import RETRIES_EXHAUSTED
from ..extensions import db
from ..models import Appointment, Practice, Reminder
from ..planning import facts_for, notice_check
from ..practices import effective_values
from . import state
from .quota import over_quota
from .reports import adopt_orphans
from .settings import setting

# The latest a reminder may still go out before its appointment starts.
LAST_MOMENT = notices.LAST_MOMENT


@dataclass(frozen=True)
class Composed:
    """An SMS as it will be submitted."""

    body: str
    recipient: str | None
    sender: str
    encoding: str
    segments: int


@dataclass(frozen=True)
class Ready:
    """A reminder whose submission has begun: the caller must call the provider now."""

    reminder: Reminder
    composed: Composed


# --- the rules ----------------------------------------------------------------------

def check_before_send(reminder: Reminder, now: datetime) -> str | None:
    """Re-check a reminder just before submission: the reason not to send it, or None.

    The quota is not checked here: `prepare` counts it. A change notice has its own rules.
    """
    if reminder.kind in notices.NOTICE_KINDS:
        return notice_check(reminder, now)
    appointment = reminder.appointment
    reason = skip_reason(facts_for(appointment, now))
    if reason in ("patient_erased", "appointment_cancelled"):
        return reason
    if appointment.start_at != reminder.start_at:
        return "appointment_moved"
    # The reminder was planned with consent: missing consent now means it was withdrawn.
    if reason:
        return "consent_withdrawn" if reason == "no_consent" else reason
    # Workers that were down for hours must not remind of an appointment that has begun.
    return "too_late" if reminder.start_at - now < LAST_MOMENT else None


def compose(reminder: Reminder, now: datetime) -> Composed:
    """The text, recipient and sender of `reminder`, rendered in the practice's time zone."""
    appointment, practice = reminder.appointment, reminder.practice
    patient = appointment.patient
    settings = effective_values(practice)
    values = reminder_values(
        salutation=patient.salutation, first_name=patient.first_name, last_name=patient.last_name,
        start_local=reminder.start_at.astimezone(ZoneInfo(settings["timezone"])),
        practice_name=practice.name, practice_phone=practice.phone, therapist=appointment.therapist,
    )
    body = render(notices.template(reminder.kind, settings), values)
    info = sms_info(body)
    return Composed(body=body, recipient=patient.mobile_e164, sender=settings["sender"],
                    encoding=info.encoding, segments=info.segments)


# --- before the call ------------------------------------------------------------------

def prepare(reminder_id: int, token: str, now: datetime) -> Ready | str:
    """Check, compose and begin one owned reminder; Ready, or what happened to it instead.

    "not_owned" when another caller has it, a skip or cancel reason when the
    check refused it, "lost" or "quota_exceeded" when the begin did not hold.
    """
    reminder = load_owned(reminder_id, token)
    if reminder is None:
        db.session.rollback()
        return "not_owned"
    reason = check_before_send(reminder, now)
    if reason:
        state.take_back(reminder, status_for(reason), reason, now, token=token,
                        data={"reason": reason, "at_send": True})
        db.session.commit()
        return reason
    composed = compose(reminder, now)
    return begin_submission(reminder, token, composed, now) or Ready(reminder, composed)


def load_owned(reminder_id: int, token: str) -> Reminder | None:
    """The reminder, fresh from the database, if `token` still owns its claim.

    Its appointment, patient, practice, group and licences come in the same
    round trip: the checks before sending read all of them.
    """
    reminder = db.session.scalars(
        select(Reminder).where(Reminder.id == reminder_id).options(
            joinedload(Reminder.appointment).joinedload(Appointment.patient),
            joinedload(Reminder.practice).joinedload(Practice.group),
            joinedload(Reminder.practice).selectinload(Practice.licences),
        ).execution_options(populate_existing=True)
    ).first()
    if reminder is None or reminder.status != "queued" or reminder.claim_token != token:
        return None
    if reminder.submit_started_at is not None:
        return None  # another run began it; only the sweep may decide now
    return reminder


def begin_submission(reminder: Reminder, token: str, composed: Composed, now: datetime) -> str | None:
    """Commit `submit_started_at` and the text before calling the provider.

    Returns None when the caller may submit, else why not ("lost" when
    another caller owns the reminder, "quota_exceeded").
    """
    if not state.begin(reminder, token, composed, now):
        db.session.rollback()
        return "lost"
    exceeded = over_quota(reminder.practice, now)
    if exceeded:
        state.skip_over_quota(reminder, token, now, *exceeded)
    db.session.commit()
    return "quota_exceeded" if exceeded else None


# --- after the call ---------------------------------------------------------------------

def record_submitted(reminder: Reminder, token: str, message_id: str, now: datetime) -> bool:
    """The provider accepted the SMS: store its message ID; adopt reports that came first."""
    submitted = state.submitted(reminder, token, message_id, now)
    if submitted:
        adopt_orphans(submitted, now)  # the status reports may have been faster than our commit
    db.session.commit()
    return submitted is not None


def record_failed(reminder: Reminder, token: str, code: str, text: str, now: datetime) -> bool:
    """The provider refused the SMS for good: failed with its error code and text."""
    done = state.failed(reminder, token, code, text, now)
    db.session.commit()
    return done


def record_unknown(reminder: Reminder, token: str, error: str, now: datetime) -> str:
    """The call may have reached the provider: mark it, do not resend (see `state`).

    If a status report already named this reminder (it can beat the timeout),
    the provider did accept it and the reminder is recorded as submitted.
    """
    if state.unknown(reminder, token, error, now):
        db.session.commit()
        return state.OUTCOME_UNKNOWN
    db.session.rollback()
    message_id = db.session.scalar(select(Reminder.provider_message_id).where(Reminder.id == reminder.id))
    if message_id and record_submitted(reminder, token, message_id, now):
        return "submitted"
    return "lost"


def schedule_retry(reminder: Reminder, token: str, error: str, retry_after: float | None,
                   now: datetime) -> str:
    """A transient failure before the provider took the SMS: try again later, or give up."""
    attempts = db.session.scalar(select(Reminder.attempts).where(Reminder.id == reminder.id)) or 0
    if attempts >= setting("SEND_MAX_ATTEMPTS"):
        record_failed(reminder, token, RETRIES_EXHAUSTED, f"{error} (after {attempts} attempts)", now)
        return "failed"
    delay = min(setting("SEND_RETRY_MAX_SECONDS"), setting("SEND_RETRY_BASE_SECONDS") * 2 ** (attempts - 1))
    delay = max(delay, retry_after or 0)
    state.retry_later(reminder, token, error, attempts, now + timedelta(seconds=delay), now)
    db.session.commit()
    return "retry"
