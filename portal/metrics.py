"""`GET /metrics`: Prometheus text format (names in CONTRACT.md, "Operations").

Two kinds of numbers:

- Counters and histograms (HTTP requests, provider calls, delivery reports, inbound SMS)
  are counted where they happen. With `PROMETHEUS_MULTIPROC_DIR` set,
  prometheus-client keeps them in files there, so every gunicorn worker and
  every RQ worker on the host that shares the directory is added up on the
  scrape. Files of processes that are no longer running are removed when a
  server or worker starts (`forget_dead_processes`).
- Gauges that describe the work (reminders per status, dispatch lag,
  outcome unknown, RQ workers and queues) are computed from the database and
  Redis at scrape time, so they are right however many hosts do the work.
"""
import glob
import hmac
import logging
import os
from datetime import datetime
from time import perf_counter

import redis
from flask import Blueprint, Response, current_app, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest,
                               start_http_server)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from . import logs, sending
from .extensions import db
from .models import Reminder, UsageDelta, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

HTTP_REQUESTS = Counter("praxis_http_requests", "HTTP requests answered", ["method", "endpoint", "status"])
HTTP_DURATION = Histogram("praxis_http_request_duration_seconds", "Time to answer an HTTP request", ["endpoint"])
DELIVERY_REPORTS = Counter("praxis_delivery_reports", "Status reports received, by what became of them",
                           ["result"])
INBOUND_SMS = Counter("praxis_inbound_sms", "SMS patients sent to the reply number, by what became of them",
                      ["result"])
PROVIDER_CALLS = Counter("praxis_provider_calls", "Submissions to the SMS provider, by outcome", ["outcome"])
# Every metric has labels, so that importing this module writes nothing (multiprocess files
# appear with the first value, after the settings, PROMETHEUS_MULTIPROC_DIR among them, were checked).
PROVIDER_DURATION = Histogram("praxis_provider_call_duration_seconds", "Time the SMS provider took to answer",
                              ["outcome"])
COUNTED = (HTTP_REQUESTS, HTTP_DURATION, DELIVERY_REPORTS, INBOUND_SMS, PROVIDER_CALLS, PROVIDER_DURATION)


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.after_request(_count_request)


def provider_call(outcome: str, started: float) -> None:
    """One call to the SMS provider that began at `started` (perf_counter) ended with `outcome`."""
    PROVIDER_CALLS.labels(outcome).inc()
    PROVIDER_DURATION.labels(outcome).observe(perf_counter() - started)


def _count_request(response):
    endpoint = request.endpoint or "unmatched"  # not the path: unknown URLs must not make new series
    HTTP_REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    HTTP_DURATION.labels(endpoint).observe(logs.elapsed())
    return response


@bp.get("/metrics")
def metrics():
    """The metrics; with METRICS_TOKEN set, only for `Authorization: Bearer METRICS_TOKEN`.

    :raise 401: METRICS_TOKEN is set and not given.
    """
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("metrics need the METRICS_TOKEN\n", 401, {"WWW-Authenticate": "Bearer"},
                        mimetype="text/plain")
    return Response(generate_latest(scrape_registry()), mimetype=CONTENT_TYPE_LATEST)


def scrape_registry() -> CollectorRegistry:
    """The counters and the gauges."""
    registry = counters_registry()
    registry.register(WorkGauges())
    return registry


def counters_registry() -> CollectorRegistry:
    """This process's counters, or in multiprocess mode those of every process sharing the directory."""
    directory = multiprocess_directory()
    registry = CollectorRegistry()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        for metric in COUNTED:
            registry.register(metric)
    return registry


def serve_counters(port: int, address: str = "0.0.0.0") -> None:
    """A worker host's counters on http://ADDRESS:PORT/ (the portal's /metrics has the gauges).

    Counters only, nothing about patients: it needs no token, like most exporters.
    """
    start_http_server(port, address, registry=counters_registry())


class WorkGauges:
    """The gauges computed at scrape time from the database and RQ."""

    def collect(self):
        try:
            yield from _database_gauges(utcnow())
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("metrics: the database is unreachable; its gauges are left out")
        try:
            yield from _rq_gauges()
        except (redis.RedisError, OSError) as error:
            log.warning("metrics: Redis is unreachable (%s); its gauges are left out", type(error).__name__)
        finally:
            db.session.remove()


def _database_gauges(now: datetime):
    reminders = GaugeMetricFamily("praxis_reminders", "Reminders per status", labels=["status"])
    for status, count in db.session.execute(select(Reminder.status, func.count()).group_by(Reminder.status)):
        reminders.add_metric([status], count)
    yield reminders
    oldest = db.session.scalar(select(func.min(Reminder.due_at))
                               .where(Reminder.status == "planned", Reminder.due_at <= now))
    yield GaugeMetricFamily("praxis_dispatch_lag_seconds", "Age of the oldest due reminder not yet claimed",
                            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    unknown = db.session.scalar(select(func.count()).select_from(Reminder).where(
        Reminder.status == "failed", Reminder.provider_error_code == sending.OUTCOME_UNKNOWN))
    yield GaugeMetricFamily("praxis_outcome_unknown", "Reminders that may have been sent (not resent)",
                            value=unknown)
    # Grows when the scheduler's usage job stops: the usage page then reads ever more changes.
    yield GaugeMetricFamily("praxis_usage_changes_unfolded", "Usage changes not yet folded into the daily totals",
                            value=db.session.scalar(select(func.count()).select_from(UsageDelta)))


def _rq_gauges():
    from rq import Worker

    from . import queue as queues

    connection = queues.connection()
    yield GaugeMetricFamily("praxis_rq_workers", "RQ workers registered in Redis",
                            value=len(Worker.all(connection=connection)))
    jobs = GaugeMetricFamily("praxis_rq_queue_jobs", "Jobs waiting in each RQ queue", labels=["queue"])
    failed = GaugeMetricFamily("praxis_rq_failed_jobs", "Failed jobs kept in each RQ queue", labels=["queue"])
    for name in queues.QUEUE_NAMES:
        queue = queues.queue(name, connection)
        jobs.add_metric([name], queue.count)
        failed.add_metric([name], queue.failed_job_registry.count)
    yield jobs
    yield failed


def multiprocess_directory() -> str | None:
    """prometheus-client reads the variable itself, when it is imported."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def forget_dead_processes(directory: str | None = None) -> None:
    """Empty the multiprocess directory of files whose process is gone (live ones keep counting)."""
    directory = directory or multiprocess_directory()
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for path in glob.glob(os.path.join(directory, "*.db")):
        pid = os.path.basename(path)[:-3].rsplit("_", 1)[-1]
        if not pid.isdigit() or not _running(int(pid)):
            os.remove(path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
