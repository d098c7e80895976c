"""A worker keeps sending through a Redis outage: Redis stops, comes back empty,
and a reminder that became due meanwhile is sent without anyone restarting the worker."""
import subprocess
import time

import pytest
import redis
import requests

from ..sending.conftest import wait_until
from . import free_port


class PrivateRedis:
    """A redis-server of this test's own, without persistence: a restart brings it back empty."""

    def __init__(self, tmp_path):
        self.port, self.dir = free_port(), tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, message="the private redis-server")

    def answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def test_the_worker_rides_out_a_redis_outage(sending, due, private_redis, make, tmp_path):
    log = tmp_path / "worker.log"
    metrics_port = free_port()
    with log.open("w") as sink:
        worker = sending.flask("worker", "--metrics-port", str(metrics_port),
                               env=sending.env(REDIS_URL=private_redis.url, DISPATCH_INTERVAL_SECONDS=1),
                               stdout=sink, stderr=subprocess.STDOUT)
    try:
        [first] = due(1)
        wait_until(lambda: sending.reminder(first).status == "submitted", timeout=60, message="the first reminder")

        private_redis.stop()
        [second] = due(1)  # due while Redis is away
        time.sleep(8)  # longer than the outages that used to end both workers
        assert worker.poll() is None, log.read_text()
        private_redis.start()  # empty: no periodic jobs, no queues

        wait_until(lambda: sending.reminder(second).status == "submitted", timeout=90,
                   message="the reminder that became due during the outage")
        assert worker.poll() is None
        assert sorted(sending.references()) == sorted([str(first), str(second)])
        assert "could not connect to Redis" in log.read_text() or "Redis unreachable" in log.read_text()
        # the worker host's own counters, for Prometheus
        counters = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        assert 'praxis_provider_calls_total{outcome="accepted"} 2.0' in counters
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert worker.returncode == 0, log.read_text()
