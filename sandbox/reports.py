"""Status reports: signed like MessageBird's, delivered by a small pool of worker threads."""

import hashlib
import heapq
import itertools
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlencode

import jwt
import requests

log = logging.getLogger(__name__)


def sign(signing_key, url, body=b"", now=None):
    """A ``MessageBird-Signature-JWT`` value for a request to ``url`` with ``body``."""
    now = int(time.time() if now is None else now)
    claims = {
        "iss": "MessageBird",
        "nbf": now - 1,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "url_hash": hashlib.sha256(url.encode("utf-8")).hexdigest(),
    }
    if body:
        claims["payload_hash"] = hashlib.sha256(body).hexdigest()
    return jwt.encode(claims, signing_key, algorithm="HS256")


def with_query(url, params):
    """``url`` with ``params`` appended as a query string (price[amount] becomes %5B...%5D)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{url}{'&' if '?' in url else '?'}{query}"


@dataclass
class ReportJob:
    """The reports for one recipient of one message, delivered in order."""

    message_id: str
    report_url: str
    pending: deque  # of query-parameter dicts
    gap: float = 0.0  # seconds between two reports
    attempt: int = 0
    entry: dict = field(default_factory=dict)  # inspection record of the current report


class ReportWorker:
    """Delivers report jobs when they are due; a failed report is retried with backoff.

    One heap of due jobs, a bounded number of pending jobs, ``threads`` workers.
    A job is held by one worker at a time, so one recipient's reports keep their order.
    """

    def __init__(self, signing_key, backoff, on_attempt, capacity=10_000, threads=2):
        self.signing_key = signing_key
        self.backoff = tuple(backoff)
        self.on_attempt = on_attempt  # (job, params, url, status_code|None, error|None)
        self.capacity = capacity
        self.threads = threads
        self._heap = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._workers = []
        self._closed = False

    def schedule(self, job, delay):
        """Queue ``job`` to run in ``delay`` seconds; False (and a log line) when full."""
        with self._cond:
            if self._closed:
                return False
            if len(self._heap) >= self.capacity:
                log.warning("report queue full, dropping reports for message %s", job.message_id)
                return False
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job))
            if not self._workers:
                self._start()
            self._cond.notify()
            return True

    def close(self):
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()

    def _start(self):
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, name=f"sandbox-reports-{n}", daemon=True)
            thread.start()
            self._workers.append(thread)

    def _next_job(self):
        with self._cond:
            while not self._closed:
                if self._heap:
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self._heap)[2]
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _run(self):
        session = requests.Session()
        while (job := self._next_job()) is not None:
            try:
                self._deliver(session, job)
            except Exception:  # a worker must survive anything one report does
                log.exception("report worker failed on message %s", job.message_id)

    def _deliver(self, session, job):
        params = job.pending[0]
        url = with_query(job.report_url, params)
        prepared = session.prepare_request(requests.Request("GET", url))
        if self.signing_key:
            # sign the URL exactly as it goes on the wire
            prepared.headers["MessageBird-Signature-JWT"] = sign(self.signing_key, prepared.url)
        status, error = None, None
        try:
            response = session.send(prepared, timeout=(2, 5), allow_redirects=False)
            status = response.status_code
            response.close()
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        job.attempt += 1
        self.on_attempt(job, params, prepared.url, status, error)
        if status is not None and 200 <= status < 300:
            self._advance(job)
        elif job.attempt <= len(self.backoff):
            self.schedule(job, self.backoff[job.attempt - 1])
        else:
            log.warning(
                "giving up on %s report for message %s after %d attempts: %s",
                params["status"], job.message_id, job.attempt, error or f"HTTP {status}",
            )
            self._advance(job)

    def _advance(self, job):
        job.pending.popleft()
        job.attempt = 0
        job.entry = {}
        if job.pending:
            self.schedule(job, job.gap)
