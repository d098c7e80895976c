"""Fixtures for the sandbox and provider tests: real HTTP servers on 127.0.0.1, port 0.

Nothing here uses tests/conftest.py: no database, no Redis.
"""

import threading
import time

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from sandbox import create_app
from sandbox.server import KeepAliveRequestHandler

ACCESS_KEY = "sandbox-test-access-key"
SIGNING_KEY = "sandbox-test-signing-key-0123456789abcdef"  # >= 32 bytes for HS256
REPORT_PATH = "/webhooks/messagebird/status"


class Server:
    """A werkzeug threaded server running ``wsgi_app`` in a background thread."""

    def __init__(self, wsgi_app, request_handler=None):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=request_handler)
        # do not wait at close for kept-alive or deliberately slow request threads
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SandboxServer(Server):
    def __init__(self, app):
        super().__init__(app, request_handler=KeepAliveRequestHandler)
        self.app = app
        self.state = app.extensions["sandbox"]
        self.access_key = ACCESS_KEY
        self.signing_key = self.state.reports.signing_key
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"AccessKey {ACCESS_KEY}"

    def set_faults(self, **faults):
        response = self.http.post(f"{self.url}/_sandbox/faults", json=faults)
        assert response.status_code == 200, response.text
        return response.json()

    def messages(self):
        response = self.http.get(f"{self.url}/_sandbox/messages")
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def close(self):
        self.http.close()
        self.state.close()
        super().close()


class ReportReceiver(Server):
    """Records every status report it gets; answers 500 to the first ``fail_first`` of them."""

    def __init__(self, fail_first=0):
        self.reports = []
        self.fail_first = fail_first
        self._lock = threading.Lock()
        app = Flask("report_receiver")
        app.add_url_rule(REPORT_PATH, "status", self._receive, methods=["GET", "POST"])
        super().__init__(app)
        self.report_url = self.url + REPORT_PATH

    def _receive(self):
        with self._lock:
            self.reports.append({
                # the URL exactly as requested: host plus the raw path and query
                "url": f"http://{request.host}{request.environ['REQUEST_URI']}",
                "args": request.args.to_dict(),
                "jwt": request.headers.get("MessageBird-Signature-JWT"),
                "body": request.get_data(),
            })
            failing = len(self.reports) <= self.fail_first
        return ("no", 500) if failing else ("", 200)

    def received(self, count):
        """The first ``count`` reports, once that many arrived (else an empty list)."""
        with self._lock:
            return list(self.reports) if len(self.reports) >= count else []


def wait_until(predicate, timeout=5.0, interval=0.02):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture
def wait_for():
    return wait_until


@pytest.fixture
def make_sandbox():
    """``make_sandbox(**create_app_kwargs)`` starts a sandbox server (fast reports by default)."""
    servers = []

    def start(signing_key=SIGNING_KEY, report_delay=0.05, **kwargs):
        kwargs.setdefault("report_backoff", (0.05, 0.1))
        server = SandboxServer(create_app(ACCESS_KEY, signing_key, report_delay, **kwargs))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def sandbox_server(make_sandbox):
    return make_sandbox()


@pytest.fixture
def make_receiver():
    receivers = []

    def start(**kwargs):
        receiver = ReportReceiver(**kwargs)
        receivers.append(receiver)
        return receiver

    yield start
    for receiver in receivers:
        receiver.close()


@pytest.fixture
def receiver(make_receiver):
    return make_receiver()
