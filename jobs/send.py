"""The send job: submit a batch of claimed reminders through the configured SMS provider.

`portal.sending.submission.prepare` re-checks the batch's reminders just
before submission, composes them, and commits their texts and
`submit_started_at` (and counts the monthly quota) in one transaction before
the provider is called. The calls then run SEND_CONCURRENCY at a time, each
thread with its own pooled connection, while this thread records the answers
with `record_answers`, RECORD_CHUNK at a time, as they come: a worker killed
mid-batch leaves at most a chunk and the calls in flight without a recorded
outcome. What happens to those: see `portal.sending.state`.
"""
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime

from flask import current_app
from rq import get_current_job

from portal import metrics, providers
from portal.extensions import db
from portal.models import utcnow
from portal.sending import setting
from portal.sending import submission as sending

from .context import app_context

log = logging.getLogger(__name__)

JOB_TIMEOUT = 600  # seconds; a batch of 50 with every call timing out still fits
RECORD_CHUNK = 10  # answers recorded per transaction
_pools: dict = {}


def send_batch(token: str, reminder_ids: list[int]) -> dict:
    """RQ job: submit the reminders claimed with `token`; returns a count per outcome."""
    job = get_current_job()
    with app_context():
        provider = providers.for_config(current_app.config)
        outcomes = send_reminders(provider, token, reminder_ids)
        db.session.remove()
    log.info("job %s: %d reminders: %s", job.id if job else "-", len(reminder_ids), outcomes)
    return outcomes


def send_reminders(provider, token: str, reminder_ids: list[int]) -> dict:
    """Begin the batch, call the provider for each reminder that began, record the answers."""
    try:
        now = utcnow()
        ready, outcomes = sending.prepare(reminder_ids, token, now)
        messages = [(item, outgoing(provider, item, now)) for item in ready]
        for chunk in answers(provider, messages, call_deadline(time.monotonic())):
            outcomes.update(sending.record_answers(chunk, token, utcnow()))
    except BaseException:
        # begun submissions without a recorded answer are found by the sweep; claims not begun go stale
        db.session.rollback()
        raise
    return dict(outcomes)


def outgoing(provider, ready: sending.Ready, now: datetime) -> providers.OutgoingSms:
    composed = ready.composed
    return providers.OutgoingSms(
        originator=composed.sender, recipient=composed.recipient, body=composed.body,
        reference=str(ready.id), report_url=report_url(provider),
        validity_seconds=validity_seconds(ready.start_at, now), unicode=composed.encoding == "UCS-2",
    )


def call_deadline(began: float) -> float:
    """The latest moment (monotonic) a call may start after its submission began at `began`.

    Half of SUBMIT_STALE_SECONDS: a call started then ends (within the
    provider's timeout) before the sweep may take its submission as lost and
    the outcome check has it sent again.
    """
    return began + setting("SUBMIT_STALE_SECONDS") / 2


def answers(provider, messages, deadline: float):
    """Call the provider for every (ready, sms), SEND_CONCURRENCY at a time; yield the answers in chunks.

    An answer is `providers.Accepted` or the `ProviderError` raised; any other
    error stops the job. Calls not started when the job stops are never made;
    the submissions begun without a recorded answer are found by the sweep.
    """
    pool = _pool(setting("SEND_CONCURRENCY"))
    calls = {pool.submit(call, provider, sms, deadline): ready for ready, sms in messages}
    chunk = []
    try:
        for future in as_completed(calls):
            chunk.append((calls[future], future.result()))
            if len(chunk) == RECORD_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    finally:
        for future in calls:
            future.cancel()


def call(provider, sms: providers.OutgoingSms, deadline: float):
    """One provider call (in a pool thread): Accepted, or the provider's error.

    Not made after `deadline`: it cannot have been sent, so it is tried again later.
    """
    if time.monotonic() > deadline:
        return providers.TransientProviderError("not called: the batch's calls took too long")
    started = time.perf_counter()
    try:
        accepted = provider.submit(sms)
    except providers.PermanentProviderError as exc:
        metrics.provider_call("refused", started)
        return exc
    except providers.TransientProviderError as exc:
        metrics.provider_call("unknown" if exc.ambiguous else "unavailable", started)
        return exc
    metrics.provider_call("accepted", started)
    return accepted


def _pool(size: int) -> ThreadPoolExecutor:
    """The process's call threads; they live as long as the worker, and so do their connections."""
    key = (os.getpid(), size)
    if key not in _pools:
        _pools[key] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="provider-call")
    return _pools[key]


def validity_seconds(start_at: datetime, now: datetime) -> int:
    """The SMS is worthless once the appointment has begun."""
    return int((start_at - now).total_seconds())


def report_url(provider) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + provider.status_path
