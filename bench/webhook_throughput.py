"""Report storms: signed status reports at 16 clients, beside a bare Flask endpoint under the same gunicorn.

    .venv/bin/python bench/webhook_throughput.py [--messages 2000] [--clients 16] [--workers 4]

Makes a fresh database (DATABASE_URL, whose schema is DROPPED and re-created,
or a SQLite file) with N submitted reminders, and serves the product under
gunicorn as the README runs it (`gunicorn -w 4 wsgi:app`, gunicorn.conf.py),
with a bare Flask endpoint mounted beside it in the same server
(`/bare/...`: no database, no signature; it answers the same query string
with a small JSON body). It signs three reports per message beforehand
(buffered, sent, then delivered or failed: what the provider sends) so the
clients spend nothing on signing, then sends the same number of requests to
the bare endpoint, then the reports, then the bare endpoint again and the
product's own `GET /healthz` (its request hooks: logging, metrics, rate
limiter, headers; no database), each from `--clients` threads, and prints
the rates and the ratio of reports to the bare endpoint. Afterwards it
counts rows: every report recorded once, a timeline event for each, and
every reminder at its final status; it exits with 1 when they do not add up.
`BENCH_GUNICORN_LOG=path` keeps gunicorn's output (its workers' log lines) in that file.
"""
import argparse
import hashlib
import http.client
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jwt  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench.cpu_split import cpu_split, per_request  # noqa: E402
from bench.sync_throughput import make_app, reset_database, start_redis  # noqa: E402

SIGNING_KEY = "bench-signing-key-" + "x" * 32
PUBLIC_BASE_URL = "http://localhost:5000"
STATUS_PATH = "/webhooks/messagebird/status"
T0 = datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite'}"
    redis_server, redis_url = start_redis(workdir)
    server, counted = None, False
    try:
        app = make_app(database_url, redis_url)
        with app.app_context():
            reset_database()
            seed(args.messages)
        reports = signed_reports(args.messages)
        server = start_gunicorn(database_url, redis_url, args)
        print(f"{len(reports)} signed reports for {args.messages} messages, {args.clients} clients, "
              f"{args.workers} gunicorn workers ({database_url.split(':')[0]})")
        bare = [(f"/bare{STATUS_PATH}?{query}", headers) for query, headers in reports]
        send(args, bare[:200], server)  # warm up every worker
        bare_before = send(args, bare, server, "bare endpoint")
        rate = send(args, [(f"{STATUS_PATH}?{query}", headers) for query, headers in reports], server,
                    "status reports")
        bare_after = send(args, bare, server, "bare endpoint again")
        healthz = send(args, [("/healthz", {}) for _ in reports], server, "GET /healthz")
        bare_rate = (bare_before + bare_after) / 2
        print(f"bare Flask endpoint: {bare_before:.0f} requests/s before, {bare_after:.0f} after; the product's "
              f"GET /healthz (its request hooks, no database) {healthz:.0f} requests/s")
        print(f"status reports: {rate:.0f} reports/s; bare endpoint {bare_rate:.0f} requests/s; "
              f"ratio {rate / bare_rate:.2f} (to /healthz {rate / healthz:.2f})")
        with app.app_context():
            counted = count(args.messages, len(reports))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if redis_server is not None:
            redis_server.shutdown()
    return 0 if counted else 1


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="submitted reminders, three reports each")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (the README runs 4)")
    parser.add_argument("--port", type=int, default=8095)
    return parser.parse_args(argv)


def final_status(n: int) -> str:
    return "delivery_failed" if n % 10 == 0 else "delivered"


def seed(messages: int) -> None:
    """A licensed practice with `messages` submitted reminders, message IDs m-0, m-1, ..."""
    from portal.extensions import db
    from portal.models import Appointment, Licence, Patient, Practice, PracticeGroup, Reminder

    group = PracticeGroup(slug="bench", name="Bench")
    practice = Practice(group=group, slug="bench-webhook", name="Praxis Webhook", phone="030 1234567",
                        sms_enabled=True)
    db.session.add_all([group, practice])
    db.session.flush()
    db.session.add(Licence(practice_id=practice.id, status="active", valid_from=date.today() - timedelta(days=1),
                           valid_until=date.today() + timedelta(days=365)))
    db.session.execute(insert(Patient), [
        {"practice_id": practice.id, "external_id": f"p{n}", "first_name": "Erika", "last_name": f"Muster{n}",
         "salutation": "Frau", "mobile_raw": f"0170 {n:07d}", "mobile_e164": f"+49170{n:07d}",
         "sms_consent": True, "revision": 0} for n in range(messages)])
    patients = dict(db.session.execute(select(Patient.external_id, Patient.id)).all())
    db.session.execute(insert(Appointment), [
        {"practice_id": practice.id, "external_id": f"a{n}", "patient_id": patients[f"p{n}"],
         "start_at": T0 + timedelta(days=1, minutes=n), "start_offset_minutes": 60, "duration_minutes": 30,
         "sms_reminder": True, "revision": 0} for n in range(messages)])
    appointments = dict(db.session.execute(select(Appointment.external_id, Appointment.id)).all())
    db.session.execute(insert(Reminder), [
        {"practice_id": practice.id, "appointment_id": appointments[f"a{n}"],
         "start_at": T0 + timedelta(days=1, minutes=n), "due_at": T0, "status": "submitted", "attempts": 1,
         "submit_started_at": T0, "submitted_at": T0, "body": "Erinnerung", "recipient": f"+49170{n:07d}",
         "provider_message_id": f"m-{n}"} for n in range(messages)])
    db.session.commit()


def signed_reports(messages: int) -> list[tuple[str, dict]]:
    """(query string, headers) of three reports per message, interleaved across messages, as the provider signs them."""
    now = int(time.time())
    reports = []
    for second, status in enumerate(("buffered", "sent", None)):
        for n in range(messages):
            params = {"id": f"m-{n}", "recipient": f"49170{n:07d}", "status": status or final_status(n),
                      "statusDatetime": (T0 + timedelta(seconds=second)).isoformat().replace("+00:00", "Z"),
                      "statusReason": "successfully delivered", "mccmnc": "26203", "ported": "0",
                      "price[amount]": "0.075", "price[currency]": "EUR"}
            query = urlencode(params)
            claims = {"iss": "MessageBird", "nbf": now - 1, "exp": now + 600, "jti": str(uuid.uuid4()),
                      "url_hash": hashlib.sha256(f"{PUBLIC_BASE_URL}{STATUS_PATH}?{query}".encode()).hexdigest()}
            reports.append((query, {"MessageBird-Signature-JWT": jwt.encode(claims, SIGNING_KEY, algorithm="HS256")}))
    return reports


def send(args, requests: list[tuple[str, dict]], server: subprocess.Popen, name: str | None = None) -> float:
    """Requests per second of GETs from `--clients` threads; each must answer 200.

    With a `name`, prints the rate and where the CPU went (bench/cpu_split.py).
    """
    chunks = [requests[n::args.clients] for n in range(args.clients)]

    def client(chunk):
        for path, headers in chunk:
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            connection.close()
            if response.status != 200:
                raise SystemExit(f"{path[:40]}...: {response.status} {body[:200]!r}")

    started = time.perf_counter()
    with cpu_split(server.pid) as split, ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(client, chunks))
    rate = len(requests) / (time.perf_counter() - started)
    if name:
        print(f"{name}: {rate:.0f} requests/s\n{per_request(split, len(requests))}")
    return rate


def count(messages: int, sent: int) -> bool:
    from portal.extensions import db
    from portal.models import AppointmentEvent, DeliveryReport, Reminder

    recorded = db.session.scalar(select(func.count(DeliveryReport.id)))
    distinct = db.session.scalar(select(func.count()).select_from(
        select(DeliveryReport.provider_message_id, DeliveryReport.status, DeliveryReport.status_at).distinct()
        .subquery()))
    events = db.session.scalar(select(func.count(AppointmentEvent.id))
                               .where(AppointmentEvent.kind == "delivery_report"))
    finals = db.session.execute(select(Reminder.provider_message_id, Reminder.delivery_status)).all()
    wrong = sum(1 for message_id, status in finals if status != final_status(int(message_id.split("-")[1])))
    print(f"rows: {recorded} reports recorded of {sent} sent, {recorded - distinct} doubled, {events} timeline "
          f"events; {messages - wrong} of {messages} reminders at their final status")
    return recorded == distinct == events == sent and not wrong


def start_gunicorn(database_url: str, redis_url: str, args):
    """The product as the README serves it, with the bare endpoint mounted beside it (`both()`)."""
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, SECRET_KEY="bench",
               MESSAGEBIRD_ACCESS_KEY="bench", MESSAGEBIRD_SIGNING_KEY=SIGNING_KEY, PUBLIC_BASE_URL=PUBLIC_BASE_URL)
    process = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "-b",
                                f"127.0.0.1:{args.port}", "bench.webhook_throughput:both()"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=open(os.environ.get("BENCH_GUNICORN_LOG", os.devnull), "w"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=1)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def both():
    """gunicorn's app: the product (`wsgi:app`) and, under /bare, a Flask app that answers any path.

    The bare app reads what it is sent (the query string, a JSON body) and answers a small JSON
    object: no database, no signature, no request hooks.
    """
    from flask import Flask, jsonify, request
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from wsgi import app

    bare = Flask("bare")

    @bare.route("/<path:path>", methods=["GET", "PUT"])
    def anything(path):
        body = request.get_json(silent=True) or {}
        return jsonify({"result": "ok", "id": request.args.get("id") or path, "fields": len(body)})

    return DispatcherMiddleware(app, {"/bare": bare})


if __name__ == "__main__":
    sys.exit(main())
