"""Unknown outcomes settled by asking the provider whether it holds a message with our reference.

The provider's message list has no filter by reference: we list the
recipient's messages from shortly before the submission began until now and
look for our reminder ID among them. Once the list can show the submission
(OUTCOME_CHECK_DELAY_SECONDS after it began):

- found: the provider accepted it; its message ID is adopted (`state.confirm`);
- provably absent: it never arrived; the reminder goes back to the dispatcher
  once (`state.resend`), so the patient is reminded after all; absent again
  after that resend, it is asked about no more;
- provider unreachable: asked again with backoff, until the appointment starts.

Each step is a timeline event support sees. No transaction is open while
the provider is asked; every step is a conditional UPDATE, so two checkers
at once are harmless.
"""
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import AppointmentEvent, Reminder, utcnow
from ..providers import TransientProviderError
from . import state
from .settings import setting

CLOCK_MARGIN = timedelta(minutes=5)  # our clock and the provider's may differ
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(minutes=30)
CHECKS_PER_RUN = 100


def settle_unknown_outcomes(provider, now: datetime | None = None) -> Counter:
    """Ask the provider about every unknown outcome due for a check; a count per result."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Reminder.id, Reminder.appointment_id, Reminder.practice_id, Reminder.recipient,
               Reminder.submit_started_at, Reminder.start_at).where(
            *state.UNKNOWN, Reminder.provider_message_id.is_(None), Reminder.recipient.is_not(None),
            Reminder.submit_started_at <= now - timedelta(seconds=setting("OUTCOME_CHECK_DELAY_SECONDS")),
            Reminder.start_at > now, or_(Reminder.next_attempt_at.is_(None), Reminder.next_attempt_at <= now),
        ).order_by(Reminder.submit_started_at).limit(CHECKS_PER_RUN)
    ).all()
    db.session.commit()  # no transaction stays open while the provider is asked
    return Counter(_settle(provider, row, now) for row in rows)


def _settle(provider, row, now: datetime) -> str:
    try:
        listed = provider.list_messages(row.recipient, row.submit_started_at - CLOCK_MARGIN, now + CLOCK_MARGIN)
    except TransientProviderError as exc:
        next_at = min(row.start_at, now + _backoff(row.submit_started_at, now))
        state.ask_again(row, next_at, now, {"result": "unreachable", "error": str(exc)[:200]})
        return _done("unreachable")
    found = next((message for message in listed if message.reference == str(row.id)), None)
    if found is not None:
        state.confirm(row.id, found.message_id, now, note=state.LIST_PROVES)
        return _done("found")
    if _resent_before(row.id):
        state.ask_again(row, row.start_at, now, {"result": "absent", "resent": False})
        return _done("absent")
    state.resend(row, now)
    return _done("resent")


def _backoff(began: datetime, now: datetime) -> timedelta:
    """Half the time the outcome has been unknown: the intervals double, between the bounds."""
    return min(LAST_RETRY, max(FIRST_RETRY, (now - began) / 2))


def _resent_before(reminder_id: int) -> bool:
    return db.session.scalar(select(func.count(AppointmentEvent.id)).where(
        AppointmentEvent.reminder_id == reminder_id, AppointmentEvent.kind == "outcome_resent")) > 0


def _done(result: str) -> str:
    db.session.commit()
    return result
