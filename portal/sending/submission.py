"""Submitting reminders: the send-time check, composing, and recording what the provider said.

The send job works a batch at a time. `prepare` loads the owned reminders of
the batch, re-checks and composes each, and commits `submit_started_at` and
the texts (counting the quota) in one transaction; the job then calls the
provider for every reminder that began, and `record_answers` records the
answers a chunk at a time, one transaction per chunk. A worker that dies
between the two leaves begun submissions without an outcome: the sweep marks
them unknown and the outcome check settles them (see `state`). Every status
change goes through `state`.
"""
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..domain import notices
from ..domain.eligibility import skip_reason, status_for
from ..domain.messages import outgoing, reminder_values, render, sms_info
from ..domain.verdict import RETRIES_EXHAUSTED
from ..extensions import db
from ..models import Appointment, Practice, Reminder
from ..planning import PracticeFacts, facts_for, notice_check, practice_facts
from ..practices import effective_values
from ..providers import Accepted, PermanentProviderError, ProviderError
from . import state
from .quota import over_quota
from .reports import adopt_orphans
from .settings import setting

log = logging.getLogger(__name__)

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
    """A reminder whose submission has begun: the caller must call the provider now.

    Plain values, read before the begin was committed: nothing is loaded again.
    """

    id: int
    appointment_id: int
    practice_id: int
    practice_slug: str
    start_at: datetime
    composed: Composed


# --- the rules ----------------------------------------------------------------------

def check_before_send(reminder: Reminder, now: datetime, practice: PracticeFacts | None = None) -> str | None:
    """Re-check a reminder just before submission: the reason not to send it, or None.

    The quota is not checked here: `prepare` counts it. A change notice has its own rules.
    `practice` is the practice's facts when the caller has read them already.
    """
    if reminder.kind in notices.NOTICE_KINDS:
        return notice_check(reminder, now)
    appointment = reminder.appointment
    reason = skip_reason(facts_for(appointment, now, practice))
    if reason in ("patient_erased", "appointment_cancelled"):
        return reason
    if appointment.start_at != reminder.start_at:
        return "appointment_moved"
    # The reminder was planned with consent: missing consent now means it was withdrawn.
    if reason:
        return "consent_withdrawn" if reason == "no_consent" else reason
    # Workers that were down for hours must not remind of an appointment that has begun.
    return "too_late" if reminder.start_at - now < LAST_MOMENT else None


def compose(reminder: Reminder, now: datetime, settings: dict | None = None) -> Composed:
    """The text, recipient and sender of `reminder`, rendered in the practice's time zone.

    `settings` is the practice's effective settings when the caller has read them already.
    """
    appointment, practice = reminder.appointment, reminder.practice
    patient = appointment.patient
    settings = settings or effective_values(practice)
    values = reminder_values(
        salutation=patient.salutation, first_name=patient.first_name, last_name=patient.last_name,
        start_local=reminder.start_at.astimezone(ZoneInfo(settings["timezone"])),
        practice_name=practice.name, practice_phone=practice.phone, therapist=appointment.therapist,
    )
    sent_as = outgoing(settings, setting("MESSAGEBIRD_REPLY_NUMBER"))
    text = render(notices.template(reminder.kind, settings), values)
    body = sent_as.text(text) if notices.takes_reply_line(reminder.kind) else text
    info = sms_info(body)
    return Composed(body=body, recipient=patient.mobile_e164, sender=sent_as.sender,
                    encoding=info.encoding, segments=info.segments)


# --- before the calls -----------------------------------------------------------------

def prepare(reminder_ids: list[int], token: str, now: datetime) -> tuple[list[Ready], Counter]:
    """Check, compose and begin the owned reminders of a batch, in one transaction.

    Returns the reminders whose submission began (the caller must call the
    provider for each now) and a count of what happened to the others:
    "not_owned" when another caller has it, a skip or cancel reason when the
    check refused it, "lost" when the begin did not hold, "quota_exceeded".
    """
    owned = load_owned(reminder_ids, token)
    others = Counter(not_owned=len(set(reminder_ids)) - len(owned))
    rules = _PracticeRules(now)
    composed = []
    for reminder in owned:
        reason = check_before_send(reminder, now, rules.facts(reminder.practice))
        if reason:
            state.take_back(reminder, status_for(reason), reason, now, token=token,
                            data={"reason": reason, "at_send": True})
            others[reason] += 1
        else:
            composed.append((reminder, compose(reminder, now, rules.settings(reminder.practice))))
    began = state.begin_many(composed, token, now)
    others["lost"] += len(composed) - len(began)
    begun = [(reminder, text) for reminder, text in composed if reminder.id in began]
    skipped = skip_over_quota([reminder for reminder, _ in begun], token, now)
    others["quota_exceeded"] += len(skipped)
    ready = [Ready(reminder.id, reminder.appointment_id, reminder.practice_id, reminder.practice.slug,
                   reminder.start_at, text) for reminder, text in begun if reminder.id not in skipped]
    db.session.commit()
    return ready, +others


class _PracticeRules:
    """The facts and effective settings of each practice of a batch, worked out once per practice.

    A burst brings hundreds of reminders of the same practice in one batch;
    merging the group's settings into the practice's for each of them was
    most of the time `prepare` took.
    """

    def __init__(self, now: datetime):
        self.now = now
        self._facts: dict[int, PracticeFacts] = {}
        self._settings: dict[int, dict] = {}

    def facts(self, practice: Practice) -> PracticeFacts:
        if practice.id not in self._facts:
            self._facts[practice.id] = practice_facts(practice, self.now)
        return self._facts[practice.id]

    def settings(self, practice: Practice) -> dict:
        if practice.id not in self._settings:
            self._settings[practice.id] = effective_values(practice)
        return self._settings[practice.id]


def load_owned(reminder_ids: list[int], token: str) -> list[Reminder]:
    """The reminders, fresh from the database, that `token` owns and whose submission has not begun.

    Their appointments, patients, practices, groups and licences come in two
    round trips: the checks before sending read all of them. A reminder begun
    by another run is not returned: only the sweep may decide on it now.
    """
    return list(db.session.scalars(
        select(Reminder).where(Reminder.id.in_(reminder_ids), *state.NOT_BEGUN, Reminder.claim_token == token)
        .options(
            joinedload(Reminder.appointment).joinedload(Appointment.patient),
            joinedload(Reminder.practice).joinedload(Practice.group),
            joinedload(Reminder.practice).selectinload(Practice.licences),
        ).order_by(Reminder.id).execution_options(populate_existing=True)
    ).unique())


def skip_over_quota(reminders: list[Reminder], token: str, now: datetime) -> set[int]:
    """Undo the begun submissions that their practices' quotas do not allow; their IDs."""
    begun = defaultdict(list)
    for reminder in reminders:
        begun[reminder.practice].append(reminder)
    skipped = set()
    for reminders, used, quota in over_quota(begun, now).values():
        for reminder in reminders:
            state.skip_over_quota(reminder, token, now, used, quota)
            skipped.add(reminder.id)
    return skipped


# --- after the calls ---------------------------------------------------------------------

def record_answers(answers: list[tuple[Ready, Accepted | ProviderError]], token: str, now: datetime) -> list[str]:
    """What the provider said to a chunk of submissions, recorded in one transaction; an outcome each."""
    accepted = [(ready.id, answer.message_id) for ready, answer in answers if isinstance(answer, Accepted)]
    stored = record_accepted(accepted, token, now)
    outcomes = [
        ("submitted" if ready.id in stored else "lost") if isinstance(answer, Accepted)
        else record_error(ready, token, answer, now)
        for ready, answer in answers
    ]
    db.session.commit()
    return outcomes


def record_submitted(reminder: Reminder, token: str, message_id: str, now: datetime) -> bool:
    """The provider accepted the SMS: store its message ID (and commit)."""
    done = bool(record_accepted([(reminder.id, message_id)], token, now))
    db.session.commit()
    return done


def record_accepted(accepted: list[tuple[int, str]], token: str, now: datetime) -> set[int]:
    """Store the message IDs of accepted SMS; adopt reports that came first. The IDs recorded."""
    stored = state.submitted_many(accepted, token, now)
    adopt_orphans(stored, now)  # the status reports may have been faster than our commit
    return {row.id for row in stored}


def record_error(reminder: Ready, token: str, error: ProviderError, now: datetime) -> str:
    """A failed call: refused for good, outcome unknown, or to be tried again later."""
    practice = reminder.practice_slug
    if isinstance(error, PermanentProviderError):
        state.failed(reminder, token, error.code, error.description or str(error), now)
        log.warning("reminder %s of practice %s: refused by the provider (code %s); not resent",
                    reminder.id, practice, error.code)
        return "failed"
    code = error.status or ("no_answer" if error.ambiguous else "no_connection")
    if error.ambiguous:
        outcome = record_unknown(reminder, token, error.text, now)
        log.warning("reminder %s of practice %s: provider call without an answer (code %s): %s",
                    reminder.id, practice, code, outcome)
        return outcome
    outcome = schedule_retry(reminder, token, error.text, error.retry_after, now)
    log.warning("reminder %s of practice %s: provider unavailable (code %s): %s",
                reminder.id, practice, code, "retry later" if outcome == "retry" else "retries exhausted")
    return outcome


def record_unknown(reminder: Ready, token: str, error: str, now: datetime) -> str:
    """The call may have reached the provider: mark it, do not resend (see `state`).

    If a status report already named this reminder (it can beat the timeout),
    the provider did accept it and the reminder is recorded as submitted.
    """
    if state.unknown(reminder, token, error, now):
        return state.OUTCOME_UNKNOWN
    message_id = db.session.scalar(select(Reminder.provider_message_id).where(Reminder.id == reminder.id))
    if message_id and record_accepted([(reminder.id, message_id)], token, now):
        return "submitted"
    return "lost"


def schedule_retry(reminder: Ready, token: str, error: str, retry_after: float | None,
                   now: datetime) -> str:
    """A transient failure before the provider took the SMS: try again later, or give up."""
    attempts = db.session.scalar(select(Reminder.attempts).where(Reminder.id == reminder.id)) or 0
    if attempts >= setting("SEND_MAX_ATTEMPTS"):
        state.failed(reminder, token, RETRIES_EXHAUSTED, f"{error} (after {attempts} attempts)", now)
        return "failed"
    delay = min(setting("SEND_RETRY_MAX_SECONDS"), setting("SEND_RETRY_BASE_SECONDS") * 2 ** (attempts - 1))
    delay = max(delay, retry_after or 0)
    state.retry_later(reminder, token, error, attempts, now + timedelta(seconds=delay), now)
    return "retry"
