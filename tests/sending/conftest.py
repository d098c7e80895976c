"""Sending end to end: a real Redis, real RQ workers, the real SDK over HTTP to the
sandbox, and the portal served over HTTP so that status reports come back."""
import os
import random
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis
import requests
from rq import Queue, SimpleWorker
from sqlalchemy import select
from werkzeug.serving import make_server

import sandbox
from portal.extensions import db
from portal.models import AppointmentEvent, Patient, Reminder
from sandbox.server import KeepAliveRequestHandler

from ..conftest import SIGNING_KEY

ACCESS_KEY = "sending-test-access-key"
ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout=20.0, interval=0.05, message="condition"):
    """Poll `predicate` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


class Server:
    """A WSGI app on a werkzeug threaded server on 127.0.0.1, in a thread."""

    def __init__(self, wsgi_app, handler=None):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=handler)
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Sandbox(Server):
    def __init__(self):
        self.app = sandbox.create_app(ACCESS_KEY, SIGNING_KEY, report_delay=0.02, report_backoff=(0.1, 0.3, 1.0))
        super().__init__(self.app, KeepAliveRequestHandler)
        # a fresh connection per call: tests must not depend on the sandbox's keep-alive handling
        self.http = requests
        self.headers = {"Authorization": f"AccessKey {ACCESS_KEY}", "Connection": "close"}

    def set_faults(self, **faults):
        response = self.http.post(f"{self.url}/_sandbox/faults", json=faults, headers=self.headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def messages(self):
        return self.http.get(f"{self.url}/_sandbox/messages", headers=self.headers, timeout=10).json()["items"]

    def reset(self):
        self.set_faults()
        self.http.delete(f"{self.url}/_sandbox/messages", headers=self.headers, timeout=10)

    def close(self):
        super().close()
        self.app.extensions["sandbox"].close()


@pytest.fixture(scope="session")
def sandbox_server():
    server = Sandbox()
    yield server
    server.close()


class Gate:
    """Lets requests through only while a test runs, so that status reports of an
    earlier test's messages cannot write into the next test's database."""

    def __init__(self, app):
        self.app, self.open, self.in_flight = app, False, 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            if not self.open:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"between tests"]
            self.in_flight += 1
        try:
            return list(self.app(environ, start_response))
        finally:
            with self.lock:
                self.in_flight -= 1

    def close(self):
        with self.lock:
            self.open = False
        wait_until(lambda: self.in_flight == 0, message="webhook requests to finish")


@pytest.fixture(scope="session")
def portal_server(app):
    """The portal itself over HTTP: the sandbox sends its status reports here."""
    server = Server(Gate(app))
    yield server
    server.close()


class Sending:
    """Drives the pipeline as operators do: dispatch cycles and RQ workers."""

    def __init__(self, app, sandbox, portal_url, redis_url, database_url):
        self.app, self.sandbox, self.portal_url = app, sandbox, portal_url
        self.redis_url, self.database_url = redis_url, database_url
        self.connection = redis.Redis.from_url(redis_url)

    def dispatch(self, now=None) -> int:
        from jobs.dispatch import dispatch

        with self.app.app_context():
            return dispatch(now, self.connection)

    def work(self) -> None:
        """An RQ SimpleWorker in burst mode, in this process, inside an app context."""
        with self.app.app_context():
            queues = [Queue(name, connection=self.connection) for name in ("send",)]
            SimpleWorker(queues, connection=self.connection).work(burst=True)

    def settle(self, timeout=20.0, now=None) -> None:
        """Dispatch and work until no reminder is due or being sent."""
        def settled():
            self.dispatch(now)
            self.work()
            return not self.open_reminders()
        try:
            wait_until(settled, timeout, message="all reminders sent")
        except AssertionError:
            raise AssertionError(f"not settled: {[vars(self.reminder(i)) for i in self.open_reminders()]}")

    def messages(self) -> list[dict]:
        """What the sandbox accepted for this test's patients.

        Reminder IDs restart with every test, and a request an earlier test left
        in flight can land later; each test's patients have numbers of their own.
        """
        with self.app.app_context():
            numbers = {number.lstrip("+") for number in db.session.scalars(select(Patient.mobile_e164)) if number}
        return [item for item in self.sandbox.messages()
                if {str(r["recipient"]) for r in item["message"]["recipients"]["items"]} & numbers]

    def references(self) -> list[str]:
        """The `reference` of every message accepted for this test (our reminder IDs)."""
        return [item["message"]["reference"] for item in self.messages()]

    def open_reminders(self) -> list[int]:
        with self.app.app_context():
            return list(db.session.scalars(select(Reminder.id).where(Reminder.status.in_(("planned", "queued")))))

    def reminder(self, reminder_id: int) -> Reminder:
        with self.app.app_context():
            reminder = db.session.get(Reminder, reminder_id)
            db.session.expunge(reminder)
            return reminder

    def events(self, reminder_id: int) -> list[tuple[str, dict]]:
        with self.app.app_context():
            rows = db.session.scalars(select(AppointmentEvent).where(AppointmentEvent.reminder_id == reminder_id)
                                      .order_by(AppointmentEvent.id)).all()
            return [(row.kind, row.data or {}) for row in rows]

    def env(self, **extra) -> dict:
        """The environment of a `flask --app wsgi ...` subprocess on the same database, Redis and sandbox."""
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url, "SECRET_KEY": "test-secret",
            "MESSAGEBIRD_ACCESS_KEY": ACCESS_KEY, "MESSAGEBIRD_ENDPOINT": self.sandbox.url,
            "MESSAGEBIRD_SIGNING_KEY": SIGNING_KEY, "PUBLIC_BASE_URL": self.portal_url,
            **{key: str(value) for key, value in self.app.config.items() if key in KNOBS},
        })
        env.update({key: str(value) for key, value in extra.items()})
        return env

    def flask(self, *args, env=None, **popen) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                                env=env or self.env(), **popen)


KNOBS = ("SEND_BATCH_SIZE", "CLAIM_STALE_SECONDS", "SUBMIT_STALE_SECONDS", "SEND_RETRY_BASE_SECONDS",
         "SEND_MAX_ATTEMPTS", "DISPATCH_INTERVAL_SECONDS")


@pytest.fixture
def sending(app, database_url, redis_url, sandbox_server, portal_server, monkeypatch):
    sandbox_server.reset()
    redis.Redis.from_url(redis_url).flushdb()
    for key, value in {
        "MESSAGEBIRD_ACCESS_KEY": ACCESS_KEY, "MESSAGEBIRD_ENDPOINT": sandbox_server.url,
        "PUBLIC_BASE_URL": portal_server.url, "MESSAGEBIRD_TIMEOUT": (2, 5),
        "SEND_BATCH_SIZE": 5, "SEND_RETRY_BASE_SECONDS": 0.01, "CLAIM_STALE_SECONDS": 300,
        "SUBMIT_STALE_SECONDS": 120, "SEND_MAX_ATTEMPTS": 4,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    gate = portal_server.server.app
    gate.open = True
    yield Sending(app, sandbox_server, portal_server.url, redis_url, database_url)
    gate.close()
    sandbox_server.reset()


@pytest.fixture
def due(make):
    """`due(n)`: n due reminders (planned, due a second ago) of one licensed practice, 3 hours ahead."""
    def create(count=1, practice=None, mobile=None, start=None):
        # a number of its own per test: late reports of an earlier test cannot match
        mobile = mobile or f"0170 {random.randrange(10**6, 10**7)}"
        practice = practice or make.licensed_practice()
        start = start or datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
        reminders = []
        for n in range(count):
            patient = make.patient(practice, mobile=mobile)
            appointment = make.appointment(patient, start + timedelta(minutes=n))
            reminders.append(make.reminder(appointment).id)
        return reminders
    return create
