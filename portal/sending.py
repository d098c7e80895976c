"""Sending reminders: claims in the database, one submission per reminder, the quota.

The database is the source of truth; Redis only carries the IDs of claimed
reminders to the send jobs. A reminder moves

    planned --claim--> queued --submit--> submitted | failed | skipped | cancelled

and every step is a conditional UPDATE (`WHERE status = ... AND claim_token =
...`) whose row count says whether this caller still owns the reminder, so
any number of dispatchers and workers can run at once. On PostgreSQL the
dispatcher also selects with `FOR UPDATE SKIP LOCKED` so that concurrent
dispatchers take different rows instead of waiting for each other; SQLite
serialises writers, and the conditional UPDATE alone is correct there.

Lost work is found again by the dispatcher, never by Redis:

- a claim whose job never started the submission (worker killed, Redis
  flushed, enqueue failed) is *stale* after CLAIM_STALE_SECONDS and claimed
  again: the provider was never called for it, so nothing can be sent twice;
- a transient provider failure (timeout before the request was sent, 5xx,
  429) gives the claim back with `next_attempt_at` (exponential backoff with
  a cap, at least the provider's Retry-After) until SEND_MAX_ATTEMPTS.

When the outcome is not known
-----------------------------
`submit_started_at` is committed before the provider is called. If the call
ends without a known outcome (a read timeout after the request was sent, a
504, a dropped connection, or the worker dying between that commit and
recording the answer) the provider may have accepted the SMS. We do **not**
send it again: a second SMS for one appointment is exactly the incumbent's
"reminders sent twice" complaint, and in practice a read timeout usually
means the provider did accept. Instead the reminder is marked

    status failed, reason provider_error, provider_error_code "outcome_unknown"

with an `outcome_unknown` event in the appointment's timeline (support sees
"no answer from the provider; may have been sent; not resent"). The provider
sends status reports for every accepted message with our reminder ID as
`reference`; when such a report arrives, the webhook attaches it: the
reminder gets the provider's message ID, becomes `submitted`, and the
timeline shows `submission_confirmed`. A reminder that stays
`outcome_unknown` was most likely never accepted; support can see that and
ask the practice to remind the patient by phone. These reminders count
against the monthly quota (they may have cost an SMS).
"""
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, false, func, insert, or_, select, update
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Appointment, AppointmentEvent, AuditEntry, DeliveryReport, Practice, Reminder, utcnow
from .practices import licence_in_force, local_now

log = logging.getLogger(__name__)

OUTCOME_UNKNOWN = "outcome_unknown"
QUOTA_WARNING_SHARE = 0.8


def setting(name: str):
    """A sending knob (SEND_BATCH_SIZE, ...), parsed and checked in `portal.config`."""
    return current_app.config[name]


@dataclass(frozen=True)
class Claim:
    """Reminders claimed by one dispatcher run: the token proves ownership."""

    token: str
    reminder_ids: list[int]


# --- claiming ------------------------------------------------------------------

def claimable(now: datetime):
    """SQL condition: the reminders a dispatcher may claim now."""
    stale = now - timedelta(seconds=setting("CLAIM_STALE_SECONDS"))
    return or_(
        and_(Reminder.status == "planned", Reminder.due_at <= now),
        # waiting for a retry after a transient provider failure
        and_(Reminder.status == "queued", Reminder.claim_token.is_(None), Reminder.next_attempt_at <= now),
        # claimed, but the job never began the submission: lost with a worker or with Redis
        and_(Reminder.status == "queued", Reminder.claim_token.is_not(None),
             Reminder.submit_started_at.is_(None), Reminder.claimed_at <= stale),
    )


def claim_due(now: datetime | None = None, limit: int | None = None) -> Claim:
    """Claim up to `limit` due reminders for this caller and commit; writes `claimed` events."""
    now = now or utcnow()
    limit = limit or setting("DISPATCH_CHUNK")
    token = uuid.uuid4().hex
    candidates = db.session.execute(
        select(Reminder.id, Reminder.claim_token, Reminder.attempts).where(claimable(now))
        .order_by(Reminder.due_at, Reminder.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        db.session.commit()
        return Claim(token, [])
    db.session.execute(
        update(Reminder).where(Reminder.id.in_([row.id for row in candidates]), claimable(now))
        .values(status="queued", claim_token=token, claimed_at=now, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    claimed = db.session.execute(
        select(Reminder.id, Reminder.appointment_id, Reminder.practice_id)
        .where(Reminder.claim_token == token).order_by(Reminder.id)
    ).all()
    before = {row.id: row for row in candidates}
    events(now, [
        (row, "claimed", _claim_data(before.get(row.id))) for row in claimed
    ])
    db.session.commit()
    return Claim(token, [row.id for row in claimed])


def _claim_data(before) -> dict:
    if before is None:
        return {}
    if before.claim_token:
        return {"recovered": "stale_claim"}
    return {"attempt": before.attempts + 1} if before.attempts else {}


def sweep_unknown_outcomes(now: datetime | None = None) -> int:
    """Mark submissions begun long ago without an outcome (the worker died mid-call)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=setting("SUBMIT_STALE_SECONDS"))
    stuck = and_(Reminder.status == "queued", Reminder.submit_started_at.is_not(None),
                 Reminder.submit_started_at <= cutoff, Reminder.submitted_at.is_(None))
    rows = db.session.execute(
        select(Reminder.id, Reminder.appointment_id, Reminder.practice_id, Reminder.claim_token,
               Reminder.provider_message_id).where(stuck).limit(1000).with_for_update(skip_locked=True)
    ).all()
    marked = []
    for row in rows:
        if row.provider_message_id:  # a status report proved the provider accepted it
            if _set(row.id, row.claim_token, [stuck], status="submitted", submitted_at=now, reason=None):
                marked.append((row, "submission_confirmed", {"message_id": row.provider_message_id}))
        elif _set(row.id, row.claim_token, [stuck, Reminder.provider_message_id.is_(None)], **_unknown_values(
                "the worker stopped after the submission began; it may have been sent")):
            marked.append((row, OUTCOME_UNKNOWN, {"error": "worker stopped during the provider call",
                                                  "resent": False}))
    events(now, marked)
    db.session.commit()
    lost = [row for row, kind, _ in marked if kind == OUTCOME_UNKNOWN]
    slugs = dict(db.session.execute(select(Practice.id, Practice.slug).where(
        Practice.id.in_({row.practice_id for row in lost}))).all()) if lost else {}
    for row in lost:
        log.warning("reminder %s of practice %s: worker lost during the provider call (code %s); not resent",
                    row.id, slugs.get(row.practice_id), OUTCOME_UNKNOWN)
    return len(marked)


# --- one reminder ----------------------------------------------------------------

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


def finish_unsent(reminder: Reminder, token: str, reason: str, status: str, now: datetime) -> bool:
    """Skip or cancel an owned reminder at send time, with its reason and an event."""
    done = _set(reminder.id, token, [Reminder.status == "queued", Reminder.submit_started_at.is_(None)],
                status=status, reason=reason, claim_token=None, next_attempt_at=None)
    if done:
        kind = "reminder_cancelled" if status == "cancelled" else "skipped"
        events(now, [(reminder, kind, {"reason": reason, "at_send": True})])
    db.session.commit()
    return done


def begin_submission(reminder: Reminder, token: str, composed, now: datetime) -> str | None:
    """Commit `submit_started_at` and the text before calling the provider.

    Counts the monthly quota under a lock of the practice row, so concurrent
    workers cannot overshoot it. Returns None when the caller may submit, else
    why not ("lost" when another caller owns the reminder, "quota_exceeded").
    """
    began = _set(reminder.id, token, [Reminder.status == "queued", Reminder.submit_started_at.is_(None)],
                 submit_started_at=now, attempts=Reminder.attempts + 1, body=composed.body,
                 recipient=composed.recipient, sender=composed.sender, encoding=composed.encoding,
                 segments=composed.segments, provider_error_code=None, provider_error_text=None)
    if not began:
        db.session.rollback()
        return "lost"
    practice = reminder.practice
    licence = licence_in_force(practice, now)
    if licence is None or licence.monthly_quota is None:
        db.session.commit()  # no quota: nothing to count
        return None
    # one practice at a time past this point: concurrent workers cannot overshoot the quota
    db.session.execute(select(Practice.id).where(Practice.id == practice.id).with_for_update())
    used, quota = quota_usage(practice, now)  # includes this reminder
    if used > quota:
        _set(reminder.id, token, [], status="skipped", reason="quota_exceeded", claim_token=None,
             submit_started_at=None, body=None, recipient=None, sender=None, encoding=None, segments=None)
        events(now, [(reminder, "skipped", {"reason": "quota_exceeded", "at_send": True,
                                            "used": used - 1, "quota": quota})])
        db.session.commit()
        return "quota_exceeded"
    if quota_warning(used, quota):
        warn_quota(practice, used, quota, now)
    db.session.commit()
    return None


def record_submitted(reminder: Reminder, token: str, message_id: str, now: datetime) -> bool:
    """The provider accepted the SMS: store its message ID; adopt reports that came first.

    The text, recipient and sender were stored by `begin_submission`.
    """
    done = _set(reminder.id, token,
                [or_(Reminder.provider_message_id.is_(None), Reminder.provider_message_id == message_id)],
                status="submitted", reason=None, submitted_at=now, provider_message_id=message_id,
                provider_error_code=None, provider_error_text=None, next_attempt_at=None)
    if done:
        reminder = db.session.execute(
            select(Reminder.id, Reminder.appointment_id, Reminder.practice_id, Reminder.body, Reminder.recipient,
                   Reminder.sender, Reminder.encoding, Reminder.segments, Reminder.provider_message_id)
            .where(Reminder.id == reminder.id)
        ).one()
        events(now, [(reminder, "submitted", {
            "text": reminder.body, "recipient": _masked(reminder.recipient), "sender": reminder.sender,
            "encoding": reminder.encoding, "segments": reminder.segments, "message_id": message_id,
        })])
        adopt_orphans(reminder, now)  # the status reports may have been faster than our commit
    db.session.commit()
    return done


def record_failed(reminder: Reminder, token: str, code: str, text: str, now: datetime) -> bool:
    """The provider refused the SMS for good: failed with its error code and text."""
    done = _set(reminder.id, token, [Reminder.status == "queued"], status="failed", reason="provider_error",
                provider_error_code=str(code)[:20], provider_error_text=(text or "")[:500],
                claim_token=None, next_attempt_at=None)
    if done:
        events(now, [(reminder, "failed", {"code": str(code), "text": text})])
    db.session.commit()
    return done


def record_unknown(reminder: Reminder, token: str, error: str, now: datetime) -> str:
    """The call may have reached the provider: mark it, do not resend (see the module docstring).

    If a status report already named this reminder (it can beat the timeout),
    the provider did accept it and the reminder is recorded as submitted.
    """
    done = _set(reminder.id, token, [Reminder.status == "queued", Reminder.submitted_at.is_(None),
                                     Reminder.provider_message_id.is_(None)], **_unknown_values(error))
    if done:
        events(now, [(reminder, OUTCOME_UNKNOWN, {"error": error, "resent": False})])
        db.session.commit()
        return OUTCOME_UNKNOWN
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
        record_failed(reminder, token, "retries_exhausted", f"{error} (after {attempts} attempts)", now)
        return "failed"
    delay = min(setting("SEND_RETRY_MAX_SECONDS"), setting("SEND_RETRY_BASE_SECONDS") * 2 ** (attempts - 1))
    delay = max(delay, retry_after or 0)
    next_at = now + timedelta(seconds=delay)
    done = _set(reminder.id, token, [Reminder.status == "queued"], claim_token=None, claimed_at=None,
                submit_started_at=None, next_attempt_at=next_at, provider_error_code="transient",
                provider_error_text=error[:500])
    if done:
        events(now, [(reminder, "send_retry", {"error": error, "attempt": attempts,
                                                "next_attempt_at": next_at.isoformat()})])
    db.session.commit()
    return "retry"


# --- delivery reports ----------------------------------------------------------------

DELIVERY_RANK = {"scheduled": 0, "buffered": 1, "sent": 2, "delivered": 3, "delivery_failed": 3, "expired": 3}
FINAL_RANK = 3


def _rank(column):
    return case(DELIVERY_RANK, value=column, else_=-1)


def apply_delivery_status(reminder_id: int, status: str, status_at: datetime) -> bool:
    """Advance the reminder's delivery status by the provider's order, never back.

    One conditional UPDATE, so reports arriving in any order and concurrently
    end in the same state: a higher rank wins; among the final statuses the
    later report wins. Returns True when the status changed.
    """
    if status not in DELIVERY_RANK:
        return False
    rank = DELIVERY_RANK[status]
    later_final = and_(_rank(Reminder.delivery_status) == rank,
                       Reminder.delivery_status_at < status_at) if rank == FINAL_RANK else false()
    values = {"delivery_status": status, "delivery_status_at": status_at}
    if status == "delivered":
        values["delivered_at"] = status_at
    result = db.session.execute(
        update(Reminder).where(
            Reminder.id == reminder_id,
            or_(Reminder.delivery_status.is_(None), _rank(Reminder.delivery_status) < rank, later_final),
        ).values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def adopt_orphans(reminder: Reminder, now: datetime) -> int:
    """Attach reports recorded before the reminder had its message ID; apply their statuses."""
    orphans = db.session.execute(
        select(DeliveryReport.id, DeliveryReport.status, DeliveryReport.status_at,
               DeliveryReport.status_reason, DeliveryReport.status_error_code).where(
            DeliveryReport.provider_message_id == reminder.provider_message_id,
            DeliveryReport.reminder_id.is_(None),
        ).order_by(DeliveryReport.id)
    ).all()
    if not orphans:
        return 0
    db.session.execute(
        update(DeliveryReport).where(DeliveryReport.id.in_([row.id for row in orphans]))
        .values(reminder_id=reminder.id, practice_id=reminder.practice_id)
        .execution_options(synchronize_session=False)
    )
    for row in orphans:
        apply_delivery_status(reminder.id, row.status, row.status_at)
    events(now, [(reminder, "delivery_report", report_event_data(row, reminder.provider_message_id))
                  for row in orphans])
    return len(orphans)


def report_event_data(report, message_id: str) -> dict:
    """What the timeline shows of one delivery report."""
    return {"status": report.status, "status_at": report.status_at.isoformat(),
            "reason": report.status_reason, "error_code": report.status_error_code, "message_id": message_id}


# --- quota -----------------------------------------------------------------------

def month_start(practice: Practice, now: datetime) -> datetime:
    """The start of the practice's current calendar month (local time), as an aware datetime."""
    local = local_now(practice, now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def quota_usage(practice: Practice, now: datetime | None = None) -> tuple[int, int | None]:
    """(SMS used this month, monthly quota or None for unlimited) for the practice's licence.

    Counts reminders submitted, being submitted, or whose submission outcome is
    unknown, from the first of the practice's local month.
    """
    now = now or utcnow()
    licence = licence_in_force(practice, now)
    quota = licence.monthly_quota if licence is not None else None
    used = db.session.scalar(
        select(func.count(Reminder.id)).where(
            Reminder.practice_id == practice.id,
            Reminder.submit_started_at >= month_start(practice, now),
            or_(Reminder.status.in_(("submitted", "queued")), Reminder.provider_error_code == OUTCOME_UNKNOWN),
        )
    ) or 0
    return used, quota


def quota_warning(used: int, quota: int | None) -> bool:
    """Whether admins are warned: from 80 % of the quota; a quota of 0 sends nothing, so always."""
    if quota is None:
        return False
    return quota <= 0 or used >= math.ceil(quota * QUOTA_WARNING_SHARE)


def quota_warned(practice: Practice, now: datetime) -> bool:
    return db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.practice_id == practice.id, AuditEntry.action == "quota.warning",
                                    AuditEntry.at >= month_start(practice, now)).limit(1)
    ) is not None


def warn_quota(practice: Practice, used: int, quota: int, now: datetime) -> None:
    """Once a month from 80 %: a log line and an audit entry the portal shows to admins."""
    if quota_warned(practice, now):
        return
    log.warning("practice %s has used %d of its %d SMS this month", practice.slug, used, quota)
    db.session.add(AuditEntry(
        at=now, actor="system", action="quota.warning", object_type="Practice", object_key=practice.slug,
        group_id=practice.group_id, practice_id=practice.id,
        after={"used": used, "quota": quota, "month": local_now(practice, now).strftime("%Y-%m")},
    ))


# --- helpers -----------------------------------------------------------------------

def _set(reminder_id: int, token: str | None, conditions: list, **values) -> bool:
    """Conditional UPDATE of one reminder still claimed with `token`; True if it applied."""
    ownership = Reminder.claim_token == token if token else Reminder.claim_token.is_(None)
    result = db.session.execute(
        update(Reminder).where(Reminder.id == reminder_id, ownership, *conditions)
        .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _unknown_values(error: str) -> dict:
    return dict(status="failed", reason="provider_error", provider_error_code=OUTCOME_UNKNOWN,
                provider_error_text=(f"No answer from the provider ({error}); it may have been sent. "
                                     "Not resent automatically.")[:500],
                next_attempt_at=None)


def events(now: datetime, items) -> None:
    """Timeline entries for (reminder-like row, kind, data) triples, in one INSERT."""
    rows = [
        {"appointment_id": row.appointment_id, "practice_id": row.practice_id, "reminder_id": row.id,
         "at": now, "kind": kind, "data": data}
        for row, kind, data in items
    ]
    if rows:
        db.session.execute(insert(AppointmentEvent), rows)


def _masked(number: str | None) -> str | None:
    from .domain.phones import mask_phone

    return mask_phone(number) if number else None
