"""The job that answers a STOP: one confirmation SMS per practice, sent at most once.

`portal.replies.begin_confirmation` commits "sending" before the provider is
called, so a retried or duplicated job, or a second STOP, sends nothing more.
A confirmation whose job was lost (Redis flushed) is still pending: the
dispatcher enqueues it again (`enqueue_pending`).
"""
import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from portal import metrics, providers, replies
from portal.extensions import db
from portal.models import Reply, utcnow

from .context import app_context

log = logging.getLogger(__name__)
LOST_AFTER = timedelta(minutes=1)  # a pending confirmation older than this lost its job


def send_stop_confirmation(reply_id: int) -> str:
    """RQ job: submit the confirmation of one STOP; "sent", "failed" or "not_pending"."""
    with app_context():
        try:
            return _send(reply_id)
        finally:
            db.session.remove()


def _send(reply_id: int) -> str:
    sms = replies.begin_confirmation(reply_id)
    if sms is None:
        return "not_pending"
    provider = providers.for_config(current_app.config)
    started = time.perf_counter()
    try:
        accepted = provider.submit(sms)
    except providers.ProviderError as exc:
        # not retried: a second try could send the confirmation twice, and the opt-out holds without it
        metrics.provider_call("refused" if isinstance(exc, providers.PermanentProviderError) else "unavailable",
                              started)
        replies.end_confirmation(reply_id, sms, None, str(exc)[:200], utcnow())
        log.warning("STOP confirmation of reply %s not sent: %s", reply_id, type(exc).__name__)
        return "failed"
    metrics.provider_call("accepted", started)
    replies.end_confirmation(reply_id, sms, accepted.message_id, None, utcnow())
    return "sent"


def enqueue_pending(queue, now: datetime) -> int:
    """Enqueue again the confirmations still pending a while after their STOP; how many."""
    reply_ids = list(db.session.scalars(
        select(Reply.id).where(Reply.confirmation == "pending", Reply.recorded_at < now - LOST_AFTER)
    ))
    db.session.rollback()
    for reply_id in reply_ids:
        queue.enqueue(send_stop_confirmation, reply_id, job_id=f"stop-confirmation-{reply_id}")
    return len(reply_ids)
