"""Claims: which reminders a dispatcher takes now, and the lost submissions it finds again.

The database is the source of truth; Redis only carries the IDs of claimed
reminders to the send jobs. On PostgreSQL the dispatcher selects with
`FOR UPDATE SKIP LOCKED` so that concurrent dispatchers take different rows
instead of waiting for each other; SQLite serialises writers, and the
conditional UPDATE of `state.claim` alone is correct there.

Lost work is found again by the dispatcher, never by Redis:

- a claim whose job never started the submission (worker killed, Redis
  flushed, enqueue failed) is *stale* after CLAIM_STALE_SECONDS and claimed
  again: the provider was never called for it, so nothing can be sent twice;
- a transient provider failure (timeout before the request was sent, 5xx,
  429) gives the claim back with `next_attempt_at` until SEND_MAX_ATTEMPTS;
- a submission begun long ago without an outcome (the worker died mid-call)
  is swept: confirmed if a status report named it, else outcome unknown.
"""
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, literal, or_, select

from ..extensions import db
from ..models import Practice, Reminder, utcnow
from . import state
from .settings import setting

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """Reminders claimed by one dispatcher run: the token proves ownership."""

    token: str
    reminder_ids: list[int]


def claimable(now: datetime):
    """SQL condition: the reminders a dispatcher may claim now."""
    return or_(*_claimable_kinds(now))


def _claimable_kinds(now: datetime) -> tuple:
    """The three kinds of claimable reminder, the older work first; each has its own index.

    The status is written into the statement (not bound) so that PostgreSQL
    can prove the partial indexes apply even to a prepared statement's plan.
    """
    stale = now - timedelta(seconds=setting("CLAIM_STALE_SECONDS"))
    queued = Reminder.status == literal("queued", literal_execute=True)
    return (
        # waiting for a retry after a transient provider failure
        and_(queued, Reminder.claim_token.is_(None), Reminder.next_attempt_at <= now),
        # claimed, but the job never began the submission: lost with a worker or with Redis
        and_(queued, Reminder.submit_started_at.is_(None), Reminder.claimed_at <= stale,
             Reminder.claim_token.is_not(None)),
        and_(Reminder.status == literal("planned", literal_execute=True), Reminder.due_at <= now),
    )


def claim_due(now: datetime | None = None, limit: int | None = None) -> Claim:
    """Claim up to `limit` due reminders for this caller and commit; writes `claimed` events."""
    now = now or utcnow()
    limit = limit or setting("DISPATCH_CHUNK")
    token = uuid.uuid4().hex
    candidates = _candidates(now, limit)
    if not candidates:
        db.session.commit()
        return Claim(token, [])
    state.claim([row.id for row in candidates], claimable(now), token, now)
    claimed = db.session.execute(
        select(Reminder.id, Reminder.appointment_id, Reminder.practice_id)
        .where(Reminder.claim_token == token).order_by(Reminder.id)
    ).all()
    before = {row.id: row for row in candidates}
    state.events(now, [(row, "claimed", _claim_data(before.get(row.id))) for row in claimed])
    db.session.commit()
    return Claim(token, [row.id for row in claimed])


def _candidates(now: datetime, limit: int) -> list:
    """Up to `limit` claimable rows, locked, each kind read in index order until the limit is reached."""
    rows = []
    for kind in _claimable_kinds(now):
        rows += db.session.execute(
            select(Reminder.id, Reminder.claim_token, Reminder.attempts).where(kind)
            .order_by(Reminder.due_at, Reminder.id).limit(limit - len(rows)).with_for_update(skip_locked=True)
        ).all()
        if len(rows) == limit:
            break
    return rows


def _claim_data(before) -> dict:
    if before is None:
        return {}
    if before.claim_token:
        return {"recovered": "stale_claim"}
    return {"attempt": before.attempts + 1} if before.attempts else {}


def sweep_unknown_outcomes(now: datetime | None = None) -> int:
    """Settle submissions begun long ago without an outcome (the worker died mid-call)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=setting("SUBMIT_STALE_SECONDS"))
    stuck = (*state.IN_FLIGHT, Reminder.submit_started_at <= cutoff)
    rows = db.session.execute(
        select(Reminder.id, Reminder.appointment_id, Reminder.practice_id, Reminder.claim_token,
               Reminder.provider_message_id).where(*stuck).limit(1000).with_for_update(skip_locked=True)
    ).all()
    lost, settled = [], 0
    for row in rows:
        if row.provider_message_id:  # a status report proved the provider accepted it
            settled += state.confirm(row.id, row.provider_message_id, now, *stuck)
        elif state.mark_lost(row, now, stuck):
            lost.append(row)
    db.session.commit()
    _log_lost(lost)
    return settled + len(lost)


def _log_lost(lost) -> None:
    slugs = dict(db.session.execute(select(Practice.id, Practice.slug).where(
        Practice.id.in_({row.practice_id for row in lost}))).all()) if lost else {}
    for row in lost:
        log.warning("reminder %s of practice %s: worker lost during the provider call (code %s); not resent",
                    row.id, slugs.get(row.practice_id), state.OUTCOME_UNKNOWN)
