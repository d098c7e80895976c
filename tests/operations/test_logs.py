"""Logs as an operator's collector reads them: one JSON object per line from the
portal (under gunicorn), a worker and a CLI command; request and job IDs; and
never a patient's name or number, not even when the database fails."""
import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from rq import Queue
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db
from portal.models import Patient

from ..conftest import SIGNING_KEY
from . import free_port

ROOT = Path(__file__).resolve().parents[2]
NAME, SURNAME, MOBILE = "Zacharias", "Quellenfeldt", "0170 9876543"
SECRETS = ("Zacharias", "Quellenfeldt", "9876543")


def environment(database_url, redis_url, **extra):
    return {"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "k" * 32,
            "LOG_FORMAT": "json", "MESSAGEBIRD_SIGNING_KEY": SIGNING_KEY, **extra}


def json_lines(text: str) -> list[dict]:
    """Every line parsed; a line that is not one JSON object fails the test."""
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    for line in lines:
        assert {"ts", "level", "logger", "message"} <= set(line), line
    return lines


@pytest.fixture
def gunicorn(app, database_url, redis_url, tmp_path):
    """The portal under gunicorn with two workers and its access log switched on; yields (url, output)."""
    port = free_port()
    output = tmp_path / "gunicorn.log"
    counters = tmp_path / "metrics"
    counters.mkdir()
    with output.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--access-logfile", "-",
             "wsgi:app"], cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
            env=environment(database_url, redis_url, LOG_LEVEL="DEBUG", PUBLIC_BASE_URL="http://127.0.0.1",
                            PROMETHEUS_MULTIPROC_DIR=str(counters)))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(url + "/healthz", timeout=5)
            break
        except requests.RequestException:
            assert server.poll() is None and time.monotonic() < deadline, output.read_text()
            time.sleep(0.1)

    def stop() -> str:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        return output.read_text()

    yield url, stop
    if server.poll() is None:
        server.kill()


def test_portal_lines_are_json_with_the_request_id_echoed(gunicorn):
    url, stop = gunicorn
    response = requests.get(url + "/readyz", headers={"X-Request-ID": "trace-7f3a"}, timeout=10)
    generated = requests.get(url + "/healthz", timeout=10).headers["X-Request-ID"]
    lines = json_lines(stop())
    assert response.status_code == 200, response.text
    access = [line for line in lines if line["logger"] == "portal.access"]
    assert response.headers["X-Request-ID"] == "trace-7f3a" and generated
    assert {"request_id": "trace-7f3a", "method": "GET", "path": "/readyz", "status": 200} \
        .items() <= next(line for line in access if line["path"] == "/readyz").items()
    assert any(line["request_id"] == generated for line in access)
    assert any(line["logger"].startswith("gunicorn") for line in lines)  # gunicorn's own lines too


def test_counters_add_up_across_gunicorn_workers(gunicorn):
    url, stop = gunicorn
    for _ in range(20):
        assert requests.get(url + "/readyz", headers={"Connection": "close"}, timeout=10).status_code == 200
    scraped = requests.get(url + "/metrics", timeout=10).text
    stop()
    assert 'praxis_http_requests_total{endpoint="health.readyz",method="GET",status="200"} 20.0' in scraped


def test_worker_and_cli_lines_are_json_with_the_job_id(database_url, redis_url, app):
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    job = Queue("send", connection=connection).enqueue("jobs.send.send_batch", "no-such-claim", [],
                                                       job_id="send-test-1")
    env = environment(database_url, redis_url, MESSAGEBIRD_ACCESS_KEY="test-access-key")
    worker = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "--no-schedule"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    lines = json_lines(worker.stderr)
    assert any(line.get("job_id") == job.id for line in lines), lines

    cli = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "dispatch"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert any(line["message"].startswith("dispatch cycle: 0 reminders") for line in json_lines(cli.stderr))


def test_no_patient_data_in_any_log_line_not_even_on_database_errors(gunicorn, make, capfd, caplog):
    url, stop = gunicorn
    practice = make.licensed_practice()
    patient = make.patient(practice, external_id="p-1", mobile=MOBILE, first_name=NAME, last_name=SURNAME)
    support = make.token(make.user("support"))
    program = {"Authorization": f"Bearer {make.practice_key(practice)}"}

    # NUL in a name: a database error on PostgreSQL (or a clear 4xx once such text is refused)
    requests.put(f"{url}/api/v1/patients/p-2", headers=program, timeout=10,
                 json={"first_name": NAME + "\u0000", "last_name": SURNAME, "mobile": MOBILE, "sms_consent": True})
    found = requests.get(f"{url}/api/v1/lookup", params={"phone": MOBILE, "name": f"{NAME} {SURNAME}"},
                         headers={"Authorization": f"Bearer {support}"}, timeout=10)
    assert found.status_code == 200
    requests.get(f"{url}/support/", params={"phone": MOBILE, "name": SURNAME}, timeout=10, allow_redirects=False)
    requests.get(f"{url}/webhooks/messagebird/status", timeout=10,
                 params={"id": "m1", "reference": "1", "recipient": "49170" + "9876543", "status": "delivered"})
    # and a unique violation carrying the name, in this process
    db.session.add(Patient(practice_id=practice.id, external_id=patient.external_id, first_name=NAME,
                           last_name=SURNAME, mobile_raw=MOBILE, sms_consent=True))
    with pytest.raises(SQLAlchemyError) as failed:
        db.session.commit()
    db.session.rollback()
    logging.getLogger("portal").exception("could not store the patient")

    served = stop()
    paths = [line.get("path") for line in json_lines(served)]
    assert "/api/v1/lookup" in paths and "/webhooks/messagebird/status" in paths and "/support/" in paths
    captured = capfd.readouterr()
    everything = "\n".join([served, captured.out, captured.err, caplog.text, str(failed.value)])
    assert "could not store the patient" in everything
    for secret in SECRETS:
        assert secret not in everything
