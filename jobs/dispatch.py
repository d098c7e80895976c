"""The dispatcher: claim due reminders in the database and enqueue send jobs in batches.

Run by the periodic job every few seconds and by `flask reminders dispatch`.
Running it twice at once, or skipping a run, is harmless: the claims in the
database decide who sends what (see `portal.sending`).
"""
import logging
from datetime import datetime

from flask import current_app
from rq import Queue

from portal import providers
from portal import queue as queues
from portal import sending

from portal.models import utcnow

from .context import app_context
from .replies import enqueue_pending
from .send import JOB_TIMEOUT, send_batch

log = logging.getLogger(__name__)


def dispatch(now: datetime | None = None, connection=None) -> int:
    """One cycle: mark lost submissions, claim every due reminder, enqueue them; how many."""
    disabled = providers.sending_disabled(current_app.config)
    if disabled:
        log.warning("sending disabled: %s; due reminders stay planned", disabled)
        return 0
    connection = connection or queues.connection()
    swept = sending.sweep_unknown_outcomes(now)
    enqueue_pending(Queue("send", connection=connection), now or utcnow())
    chunk = sending.setting("DISPATCH_CHUNK")
    total = 0
    while True:
        claim = sending.claim_due(now, chunk)
        if claim.reminder_ids:
            enqueue(claim, connection)
            total += len(claim.reminder_ids)
        if len(claim.reminder_ids) < chunk:
            log.info("dispatch cycle: %d reminders claimed and enqueued, %d lost submissions marked",
                     total, swept)
            return total


def enqueue(claim: sending.Claim, connection) -> None:
    """Send jobs of SEND_BATCH_SIZE reminders, in one pipeline.

    If Redis fails here the claims simply go stale and are claimed again.
    """
    size = sending.setting("SEND_BATCH_SIZE")
    ids = claim.reminder_ids
    jobs = [
        Queue.prepare_data(send_batch, args=(claim.token, ids[n:n + size]), timeout=JOB_TIMEOUT,
                           job_id=f"send-{claim.token}-{n // size}", result_ttl=3600,
                           failure_ttl=7 * 86400, description=f"send {len(ids[n:n + size])} reminders")
        for n in range(0, len(ids), size)
    ]
    queue = Queue("send", connection=connection)
    with connection.pipeline() as pipe:
        queue.enqueue_many(jobs, pipeline=pipe)
        pipe.execute()


def periodic_dispatch() -> int:
    """RQ job (every DISPATCH_INTERVAL_SECONDS): one cycle, then schedule the next."""
    from .schedule import schedule_next

    with app_context():
        try:
            return dispatch()
        finally:
            schedule_next("dispatch")
