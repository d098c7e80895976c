"""The periodic jobs, as one declarative list with stable job IDs.

Each periodic job runs in a numbered time slot (`dispatch-<slot>`) and, when
it finishes, schedules the next slot with `enqueue_at`; the RQ scheduler
inside `flask worker` moves it to its queue when due. Every worker also
re-asserts the next slot of each job now and then (`Keeper`), so the chain
survives a flushed Redis or a crash. Because the slot number is in the job
ID, however many workers schedule a slot, it is pending once; should one ever
run twice, that is harmless (claims are made in the database).
"""
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import redis
from flask import current_app
from rq import Queue

from portal import queue as queues

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str  # dotted path, so scheduling needs no import of the job
    queue: str
    interval_setting: str | None  # app config key for the interval in seconds
    default_interval: int
    offset: int = 0  # seconds into each interval
    timeout: int = 600

    def interval(self, config) -> int:
        value = config.get(self.interval_setting) if self.interval_setting else None
        return max(1, int(float(value or self.default_interval)))


PERIODIC = (
    Periodic("dispatch", "jobs.dispatch.periodic_dispatch", "dispatch", "DISPATCH_INTERVAL_SECONDS", 5),
    # unknown outcomes, asked about with the provider; a queue of its own, so a slow provider holds up no dispatch
    Periodic("outcomes", "jobs.outcomes.periodic_outcome_check", "outcomes", None, 60),
    # the usage changes into the daily totals (the usage page reads both)
    Periodic("usage", "jobs.usage.periodic_usage_fold", "maintenance", None, 60, offset=30),
    # hourly at five past: the first run after local midnight re-plans licences that began or ended
    Periodic("licences", "jobs.licences.periodic_licence_replan", "maintenance", None, 3600, offset=300,
             timeout=1800),
    # daily at 03:00 UTC
    Periodic("retention", "jobs.retention.periodic_retention", "maintenance", None, 86400, offset=3 * 3600,
             timeout=3600),
)
BY_NAME = {periodic.name: periodic for periodic in PERIODIC}


def next_slot(periodic: Periodic, config, now: float | None = None) -> tuple[str, datetime]:
    """The job ID and run time of the next slot after `now`."""
    every = periodic.interval(config)
    now = time.time() if now is None else now
    slot = int((now - periodic.offset) // every) + 1
    return f"{periodic.name}-{slot}", datetime.fromtimestamp(slot * every + periodic.offset, timezone.utc)


def schedule_next(name: str, connection=None, config=None) -> str:
    """Schedule the next run of the periodic job `name`; idempotent per slot."""
    periodic = BY_NAME[name]
    config = config if config is not None else current_app.config
    connection = connection or queues.connection(config["REDIS_URL"])
    job_id, at = next_slot(periodic, config)
    every = periodic.interval(config)
    Queue(periodic.queue, connection=connection).enqueue_at(
        at, periodic.func, job_id=job_id, job_timeout=periodic.timeout,
        result_ttl=max(60, 3 * every), failure_ttl=86400, description=f"periodic {name}",
    )
    return job_id


def ensure_all(connection, config) -> None:
    for periodic in PERIODIC:
        schedule_next(periodic.name, connection, config)


class Keeper(threading.Thread):
    """Re-asserts the next slot of every periodic job, so the chain cannot break."""

    def __init__(self, config: dict, every: float | None = None):
        super().__init__(name="periodic-keeper", daemon=True)
        self.config = config
        self.every = every or 2 * BY_NAME["dispatch"].interval(config)
        self.stopped = threading.Event()

    def run(self) -> None:
        connection = queues.connection(self.config["REDIS_URL"])
        while not self.stopped.wait(self.every):
            try:
                ensure_all(connection, self.config)
            except (redis.RedisError, OSError) as error:  # Redis away for a moment: try again next round
                log.warning("could not schedule the periodic jobs (%s); trying again", type(error).__name__)

    def stop(self) -> None:
        self.stopped.set()
