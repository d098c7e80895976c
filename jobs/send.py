"""The send job: submit a batch of claimed reminders through the configured SMS provider.

`portal.sending.submission.prepare` re-checks each reminder just before
submission, composes it, and commits its text and `submit_started_at` (and
counts the monthly quota) before the provider is called; its `record_*`
functions record the answer. What happens when the outcome is not known: see
`portal.sending.state`.
"""
import logging
import time
from datetime import datetime

from flask import current_app
from rq import get_current_job

from portal import metrics, providers
from portal.extensions import db
from portal.models import utcnow
from portal.sending import submission as sending

from .context import app_context

log = logging.getLogger(__name__)

JOB_TIMEOUT = 600  # seconds; a batch of 50 with every call timing out still fits


def send_batch(token: str, reminder_ids: list[int]) -> dict:
    """RQ job: submit the reminders claimed with `token`; returns a count per outcome."""
    job = get_current_job()
    outcomes: dict[str, int] = {}
    with app_context():
        provider = providers.for_config(current_app.config)
        for reminder_id in reminder_ids:
            outcome = send_reminder(provider, reminder_id, token)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        db.session.remove()
    log.info("job %s: %d reminders: %s", job.id if job else "-", len(reminder_ids), outcomes)
    return outcomes


def send_reminder(provider, reminder_id: int, token: str) -> str:
    """Check, render, submit and record one reminder; returns what happened to it."""
    try:
        return _send(provider, reminder_id, token)
    except BaseException:
        # the claim stays; the dispatcher takes it again when it is stale
        db.session.rollback()
        raise


def _send(provider, reminder_id: int, token: str) -> str:
    now = utcnow()
    ready = sending.prepare(reminder_id, token, now)
    if isinstance(ready, str):
        return ready
    reminder, composed = ready.reminder, ready.composed
    sms = providers.OutgoingSms(
        originator=composed.sender, recipient=composed.recipient, body=composed.body,
        reference=str(reminder.id), report_url=report_url(provider),
        validity_seconds=validity_seconds(reminder.start_at, now), unicode=composed.encoding == "UCS-2",
    )
    practice = reminder.practice.slug
    started = time.perf_counter()
    try:
        accepted = provider.submit(sms)
    except providers.PermanentProviderError as exc:
        metrics.provider_call("refused", started)
        sending.record_failed(reminder, token, exc.code, exc.description or str(exc), utcnow())
        log.warning("reminder %s of practice %s: refused by the provider (code %s); not resent",
                    reminder_id, practice, exc.code)
        return "failed"
    except providers.TransientProviderError as exc:
        code = exc.status or ("no_answer" if exc.ambiguous else "no_connection")
        if exc.ambiguous:
            metrics.provider_call("unknown", started)
            outcome = sending.record_unknown(reminder, token, exc.text, utcnow())
            log.warning("reminder %s of practice %s: provider call without an answer (code %s): %s",
                        reminder_id, practice, code, outcome)
            return outcome
        metrics.provider_call("unavailable", started)
        outcome = sending.schedule_retry(reminder, token, exc.text, exc.retry_after, utcnow())
        log.warning("reminder %s of practice %s: provider unavailable (code %s): %s",
                    reminder_id, practice, code, "retry later" if outcome == "retry" else "retries exhausted")
        return outcome
    metrics.provider_call("accepted", started)
    sending.record_submitted(reminder, token, accepted.message_id, utcnow())
    return "submitted"


def validity_seconds(start_at: datetime, now: datetime) -> int:
    """The SMS is worthless once the appointment has begun."""
    return int((start_at - now).total_seconds())


def report_url(provider) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + provider.status_path
