"""Patients' replies: an inbound SMS recorded for the practice(s) it answers, and what follows from it.

The rules of understanding and matching are `domain.replies`; this module
reads what they need, writes the replies, the timeline events and the
effects, in the caller's transaction (it flushes, never commits):

- JA confirms the appointment, NEIN records a cancellation request: the
  practice program stays the master of appointments and reads both from the
  feed (`GET /api/v1/events`); nothing is cancelled here;
- STOP withdraws the consent of the practice's patients with that number and
  re-plans them (their planned reminders are cancelled: consent_withdrawn);
  a practice where consent was actually withdrawn gets its confirmation SMS
  marked `pending`, sent once by `jobs.replies`;
- anything else (and an ambiguous JA/NEIN) is kept as a reply to read.

The feed's cursor
-----------------
Each practice's replies are numbered 1, 2, 3... (`Reply.seq`). The number is
taken under a lock held until the transaction ends (PostgreSQL: a
transaction-level advisory lock per practice; SQLite: the database's single
writer), so a transaction can take number n+1 only after the one holding n
has committed or rolled back. A reader that has seen n+1 has therefore seen
n: paging by `seq > cursor` never skips a row committed late, which paging by
the primary key would (ids are handed out at insert, committed in any order).
Replies are few, so serialising their writes per practice costs nothing.
"""
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select, text, update

from .domain import replies as rules
from .extensions import db
from .models import Appointment, InboundMessage, Patient, Practice, Reminder, Reply
from .planning import replan_patient
from .practices import effective_values
from .providers import InboundSms, OutgoingSms
from .sending import setting, state

FEED_LOCK = 1_117  # the advisory lock space of the reply feed: (FEED_LOCK, practice id)
TimelineRow = namedtuple("TimelineRow", "id appointment_id practice_id")  # what state.events writes from


@dataclass
class Recorded:
    outcome: str  # "recorded", "ambiguous", "unmatched" or "duplicate"
    confirmations: list[int] = field(default_factory=list)  # replies whose STOP confirmation is pending


def record_inbound(sms: InboundSms, now: datetime) -> Recorded:
    """Record one inbound SMS once (by the provider's message ID) and apply what it says."""
    if db.session.scalar(select(InboundMessage.id).where(InboundMessage.provider_message_id == sms.message_id)):
        return Recorded("duplicate")
    intent = rules.understand(sms.body)
    found = rules.match(intent, sent_to(sms.originator, min(now, sms.sent_at)), sms.sent_at, sms.recipient)
    outcome = "unmatched" if not found.found else ("ambiguous" if found.ambiguous else "recorded")
    message = InboundMessage(provider_message_id=sms.message_id, originator=sms.originator, recipient=sms.recipient,
                             body=None if found.found else sms.body, sent_at=sms.sent_at, received_at=now,
                             intent=intent, match=outcome.replace("recorded", "matched"))
    db.session.add(message)
    db.session.flush()  # a concurrent copy of the same SMS fails here (unique provider message ID)
    confirmations = []
    for candidate in found.reminders:  # by practice ID: the feed locks are always taken in one order
        reply = _reply(message, candidate, intent, found, sms, now)
        if intent == rules.STOP and _withdraw_consent(reply.practice_id, sms.originator, now):
            reply.confirmation = "pending"
        db.session.flush()
        if reply.confirmation:
            confirmations.append(reply.id)
        state.events(now, [(TimelineRow(candidate.reminder_id, reply.appointment_id, reply.practice_id), "reply",
                            _event_data(reply))])
    return Recorded(outcome, confirmations)


def sent_to(number: str, replied_at: datetime) -> list[rules.SentReminder]:
    """The reminders submitted to `number` (E.164) within the reply window before `replied_at`, across practices."""
    rows = db.session.execute(
        select(Reminder.id, Reminder.practice_id, Reminder.submitted_at, Appointment.start_at, Reminder.sender)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .where(Reminder.recipient == number, Reminder.status == "submitted",
               Reminder.submitted_at >= replied_at - rules.REPLY_WINDOW - rules.CLOCK_SKEW)
    ).all()
    return [rules.SentReminder(row.id, row.practice_id, row.submitted_at, row.start_at, row.sender) for row in rows]


def _reply(message: InboundMessage, candidate: rules.SentReminder, intent: str, found: rules.Match,
           sms: InboundSms, now: datetime) -> Reply:
    appointment_id, patient_id = db.session.execute(
        select(Appointment.id, Appointment.patient_id).join(Reminder, Reminder.appointment_id == Appointment.id)
        .where(Reminder.id == candidate.reminder_id)
    ).one()
    reply = Reply(practice_id=candidate.practice_id, seq=next_seq(candidate.practice_id),
                  inbound_message_id=message.id, reminder_id=candidate.reminder_id, appointment_id=appointment_id,
                  patient_id=patient_id, kind=rules.feed_kind(intent, found), intent=intent,
                  ambiguous=found.ambiguous and intent != rules.STOP, text=sms.body, at=sms.sent_at,
                  recorded_at=now)
    db.session.add(reply)
    return reply


def next_seq(practice_id: int) -> int:
    """The practice's next feed number, under a lock held until the commit (see the module docstring)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                           {"space": FEED_LOCK, "key": practice_id})
    last = db.session.scalar(select(func.max(Reply.seq)).where(Reply.practice_id == practice_id))
    return (last or 0) + 1


def _withdraw_consent(practice_id: int, number: str, now: datetime) -> bool:
    """STOP at one practice: every patient of it with this number; True when one still had consent."""
    patients = db.session.scalars(
        select(Patient).where(Patient.practice_id == practice_id, Patient.mobile_e164 == number,
                              Patient.erased_at.is_(None))
        .order_by(Patient.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    withdrawn = [patient for patient in patients if patient.sms_consent]
    for patient in patients:
        patient.opted_out_at, patient.opted_out_revision = now, patient.revision or 0
    for patient in withdrawn:
        patient.sms_consent = False  # sets consent_withdrawn_at (models.Patient)
        db.session.flush()
        replan_patient(patient, now)
    return bool(withdrawn)


def _event_data(reply: Reply) -> dict:
    return {"reply": reply.kind, "intent": reply.intent, "ambiguous": reply.ambiguous, "text": reply.text,
            "reply_id": reply.id}


def feed_page(replies: Select, after: int, limit: int) -> list[tuple[Reply, str, str]]:
    """(reply, appointment ID, patient ID) of the practice program after cursor `after`, oldest first.

    `replies` is `select(Reply)` scoped to the caller (`access.scoped`).
    """
    return [tuple(row) for row in db.session.execute(
        replies.add_columns(Appointment.external_id, Patient.external_id)
        .join(Appointment, Appointment.id == Reply.appointment_id).join(Patient, Patient.id == Reply.patient_id)
        .where(Reply.seq > after).order_by(Reply.seq).limit(limit)
    )]


# --- privacy ---------------------------------------------------------------------------

def erase_patient_replies(patient_id: int, now: datetime) -> None:
    """A patient erased: their replies' texts go, and the number their SMS came from; the rows stay for counts."""
    replies = db.session.scalars(select(Reply).where(Reply.patient_id == patient_id)).all()
    for reply in replies:
        reply.text, reply.purged_at = None, now
    message_ids = {reply.inbound_message_id for reply in replies}
    if message_ids:
        db.session.execute(update(InboundMessage).where(InboundMessage.id.in_(message_ids))
                           .values(originator=None, recipient=None, body=None, purged_at=now)
                           .execution_options(synchronize_session=False))


def purge_texts(cutoff: datetime, now: datetime) -> dict:
    """Retention: replies' texts and inbound SMS (text and numbers) older than `cutoff`; counts per kind."""
    replies = db.session.execute(
        update(Reply).where(Reply.at < cutoff, Reply.purged_at.is_(None)).values(text=None, purged_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    messages = db.session.execute(
        update(InboundMessage).where(InboundMessage.received_at < cutoff, InboundMessage.purged_at.is_(None))
        .values(originator=None, recipient=None, body=None, purged_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"replies": replies, "inbound_messages": messages}


# --- the confirmation of a STOP -------------------------------------------------------

def begin_confirmation(reply_id: int) -> OutgoingSms | None:
    """pending -> sending, once: the SMS to submit now, or None when another run has (or had) it.

    Committed before the provider is called: a crash after it never sends a second confirmation.
    """
    taken = db.session.execute(
        update(Reply).where(Reply.id == reply_id, Reply.confirmation == "pending").values(confirmation="sending")
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not taken:
        db.session.rollback()
        return None
    reply = db.session.get(Reply, reply_id)
    sms = OutgoingSms(originator=reply_originator(reply.practice), recipient=reply.inbound_message.originator,
                      body=rules.stop_confirmation(reply.practice.name), reference=f"stop-{reply.id}",
                      report_url=None, validity_seconds=None)
    db.session.commit()
    return sms


def reply_originator(practice: Practice) -> str:
    """Who the answer comes from: the reply number where there is one, else the practice's sender."""
    return setting("MESSAGEBIRD_REPLY_NUMBER") or effective_values(practice)["sender"]


def end_confirmation(reply_id: int, sms: OutgoingSms, message_id: str | None, error: str | None,
                     now: datetime) -> None:
    """Record the provider's answer to the confirmation, and a `reply_answered` event."""
    reply = db.session.get(Reply, reply_id)
    reply.confirmation = "sent" if message_id else "failed"
    reply.confirmation_message_id = message_id
    data = {"text": sms.body, "sender": sms.originator, "message_id": message_id, "error": error}
    state.events(now, [(TimelineRow(reply.reminder_id, reply.appointment_id, reply.practice_id), "reply_answered",
                        data)])
    db.session.commit()
