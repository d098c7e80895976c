"""The worker loop behind `flask worker`: an RQ worker that rides out Redis outages.

RQ's own loop ends when Redis goes away ("found an unhandled exception,
quitting..."), and sending would stop until someone restarted the process.
Here the loop is started again: wait for Redis with a growing pause (each try
logged), schedule the periodic jobs again (a restarted Redis may be empty;
lost send jobs are found again by the dispatcher as stale claims), carry on.
Only a stop request (SIGTERM, Ctrl-C) or the end of a burst ends it.
"""
import logging
import signal
import time

import redis
from rq import SimpleWorker

from portal import queue as queues

from .schedule import ensure_all

log = logging.getLogger(__name__)
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0  # seconds between tries to reach Redis


class Worker(SimpleWorker):
    """Remembers a stop request, so that the loop can tell a shutdown from an outage.

    SimpleWorker: jobs run in this process and its app context (send jobs are
    batches, so a fork per job would buy nothing but cost).
    """

    stopping = False

    def request_stop(self, signum, frame):
        self.stopping = True
        super().request_stop(signum, frame)

    def heartbeat(self, *args, **kwargs):
        """End this worker's run when Redis is lost, rather than RQ's retrying in place.

        RQ retries the dequeue by itself, but its scheduler process dies with the
        connection and only RQ's maintenance (every ten minutes) starts it again:
        no periodic job, no dispatch, would run meanwhile. A new worker brings a
        new scheduler.
        """
        try:
            super().heartbeat(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise RedisLost(type(error).__name__) from error
        process = self.scheduler and self.scheduler._process
        if process and not process.is_alive():
            raise RedisLost("the scheduler stopped")


class RedisLost(Exception):
    """Not a redis error on purpose: RQ would catch that and retry with a dead scheduler."""


def run(connection: redis.Redis, queue_names: list[str], config, burst: bool, schedule: bool) -> None:
    """Work until asked to stop (or, with `burst`, until the queues are empty)."""
    wait_for_redis(connection)
    if schedule:
        ensure_all(connection, config)
    while True:
        worker = None
        try:
            worker = Worker([queues.queue(name, connection) for name in queue_names], connection=connection)
            # rq logs every job at INFO; ours (with the job ID) are enough
            worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
        except (redis.RedisError, OSError) as error:  # also raised by RQ's teardown when Redis is gone
            log.warning("worker stopped by a Redis error (%s)", type(error).__name__)
            _stop_listening(worker)
        if burst or (worker is not None and worker.stopping):
            return
        _exit_on_signals()  # RQ's handlers belong to the worker that ended
        time.sleep(FIRST_PAUSE)  # a worker that keeps failing must not spin
        wait_for_redis(connection)
        if schedule:
            ensure_all(connection, config)
            log.warning("worker restarted; periodic jobs scheduled again")


def wait_for_redis(connection: redis.Redis) -> None:
    """Return once Redis answers; pause longer after each failed try, up to LONGEST_PAUSE."""
    pause = FIRST_PAUSE
    while True:
        try:
            connection.ping()
            return
        except (redis.RedisError, OSError) as error:
            log.warning("Redis unreachable (%s); trying again in %.0f s", type(error).__name__, pause)
        time.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE)


def _stop_listening(worker: Worker | None) -> None:
    """The teardown that Redis cut short: stop the worker's pubsub thread, or it retries forever."""
    thread = worker and worker.pubsub_thread
    if thread:
        thread.stop()
        thread.join(timeout=1)


def _exit_on_signals() -> None:
    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
