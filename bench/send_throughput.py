"""Send throughput: due reminders dispatched and submitted end to end, against the SDK alone.

    .venv/bin/python bench/send_throughput.py [--reminders 20000] [--practices 200] [--workers 2]

Builds N due reminders across P licensed practices in a fresh database (a
SQLite file in a temporary directory, or DATABASE_URL, whose schema is
DROPPED and re-created), starts the sandbox as the provider (status reports
held back, so only submission is measured), a Redis (REDIS_URL, flushed, or an
embedded one) and W `flask worker` processes, then runs dispatch cycles until
every reminder is submitted. It prints

- end to end: reminders per second from the first dispatch to the last submission
  (claim, enqueue, re-check, render, quota, submit, record, timeline events);
- ceiling: the rate at which the SDK alone posts the same messages to the same
  sandbox over one reused connection;
- the ratio of the two.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

ACCESS_KEY = "bench-access-key"
SIGNING_KEY = "bench-signing-key-" + "x" * 32


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="send-bench-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite'}"
    redis_server, redis_url = start_redis(workdir)
    sandbox = start_sandbox(args.sandbox_port)
    env = worker_env(database_url, redis_url, args)
    workers = []
    try:
        app = make_app(database_url, redis_url, args)
        with app.app_context():
            reset_database()
            started = time.perf_counter()
            seed(args.reminders, args.practices)
            print(f"seeded {args.reminders} due reminders across {args.practices} practices "
                  f"in {time.perf_counter() - started:.1f} s ({database_url.split(':')[0]})")
            workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queues",
                                         "send", "--no-schedule"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for _ in range(args.workers)]
            time.sleep(2)  # let the workers import and connect before the clock starts
            seconds = end_to_end(args.reminders)
            bodies = sent_messages(args.ceiling_sample or args.reminders)
        e2e_rate = args.reminders / seconds
        print(f"end to end: {args.reminders} reminders in {seconds:.1f} s = {e2e_rate:.0f} reminders/s "
              f"({args.workers} workers, batches of {args.batch})")
        requests.delete(f"http://127.0.0.1:{args.sandbox_port}/_sandbox/messages",
                        headers={"Authorization": f"AccessKey {ACCESS_KEY}"})
        sdk_seconds = sdk_alone(bodies, f"http://127.0.0.1:{args.sandbox_port}")
        sdk_rate = len(bodies) / sdk_seconds
        print(f"ceiling (SDK alone, one connection): {len(bodies)} messages in {sdk_seconds:.1f} s "
              f"= {sdk_rate:.0f} messages/s")
        print(f"ratio end to end / ceiling: {e2e_rate / sdk_rate:.2f}")
        return 0
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        sandbox.terminate()
        sandbox.wait(timeout=30)
        if redis_server is not None:
            redis_server.shutdown()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=20_000)
    parser.add_argument("--practices", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50, help="reminders per send job")
    parser.add_argument("--ceiling-sample", type=int, default=0,
                        help="post only this many messages for the ceiling (default: all)")
    parser.add_argument("--sandbox-port", type=int, default=8091)
    return parser.parse_args(argv)


def start_redis(workdir: Path):
    if os.environ.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
        return None, os.environ["REDIS_URL"]
    from portal import queue as queues

    url = f"unix://{workdir / 'redis.sock'}"
    return queues.start_embedded(url), url


def start_sandbox(port: int) -> subprocess.Popen:
    # reports are scheduled an hour later: the bench measures submission only
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--access-key", ACCESS_KEY,
                                "--report-delay", "3600"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("the sandbox did not start")


def worker_env(database_url: str, redis_url: str, args) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, SECRET_KEY="bench",
               MESSAGEBIRD_ACCESS_KEY=ACCESS_KEY, MESSAGEBIRD_SIGNING_KEY=SIGNING_KEY,
               MESSAGEBIRD_ENDPOINT=f"http://127.0.0.1:{args.sandbox_port}",
               PUBLIC_BASE_URL="http://127.0.0.1:9", SEND_BATCH_SIZE=str(args.batch))
    return env


def make_app(database_url: str, redis_url: str, args):
    from portal import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "EMBEDDED_REDIS": False,
        "SECRET_KEY": "bench", "MESSAGEBIRD_ACCESS_KEY": ACCESS_KEY, "SEND_BATCH_SIZE": args.batch,
        "MESSAGEBIRD_ENDPOINT": f"http://127.0.0.1:{args.sandbox_port}",
    })


def reset_database() -> None:
    from flask_migrate import upgrade

    from portal.extensions import db

    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(directory=str(ROOT / "migrations"))


def seed(count: int, practices: int) -> None:
    """Practices with licences, one patient and appointment per reminder, all due now."""
    from portal.extensions import db
    from portal.models import Appointment, Licence, Patient, Practice, PracticeGroup, Reminder

    now = datetime.now(timezone.utc)
    start = now.replace(microsecond=0) + timedelta(hours=3)
    group = PracticeGroup(slug="bench", name="Bench")
    db.session.add(group)
    db.session.flush()
    db.session.execute(insert(Practice), [
        {"group_id": group.id, "slug": f"bench-{n}", "name": f"Praxis {n}", "phone": "030 1234567",
         "sms_enabled": True} for n in range(practices)
    ])
    practice_ids = db.session.scalars(select(Practice.id).order_by(Practice.id)).all()
    db.session.execute(insert(Licence), [
        {"practice_id": pid, "status": "active", "valid_from": date.today() - timedelta(days=1),
         "valid_until": date.today() + timedelta(days=365)} for pid in practice_ids
    ])
    rows = [(practice_ids[n % practices], n) for n in range(count)]
    db.session.execute(insert(Patient), [
        {"practice_id": pid, "external_id": f"p{n}", "first_name": "Erika", "last_name": f"Muster{n}",
         "salutation": "Frau", "mobile_raw": f"0170{n:07d}", "mobile_e164": f"+49170{n:07d}", "sms_consent": True}
        for pid, n in rows
    ])
    patients = dict(db.session.execute(select(Patient.external_id, Patient.id)).all())
    db.session.execute(insert(Appointment), [
        {"practice_id": pid, "external_id": f"a{n}", "patient_id": patients[f"p{n}"],
         "start_at": start + timedelta(seconds=n % 3600), "start_offset_minutes": 0} for pid, n in rows
    ])
    appointments = db.session.execute(select(Appointment.id, Appointment.practice_id, Appointment.start_at)).all()
    db.session.execute(insert(Reminder), [
        {"practice_id": a.practice_id, "appointment_id": a.id, "start_at": a.start_at,
         "due_at": now - timedelta(seconds=1), "status": "planned", "attempts": 0} for a in appointments
    ])
    db.session.commit()


def end_to_end(count: int) -> float:
    """Dispatch until all are claimed; wait until all are submitted; the seconds it took."""
    from jobs.dispatch import dispatch
    from portal.extensions import db
    from portal.models import Reminder

    started = time.perf_counter()
    claimed = 0
    while claimed < count:
        claimed += dispatch()
        if claimed < count:
            time.sleep(0.2)
    last_report = time.monotonic()
    while True:
        done = db.session.scalar(select(func.count(Reminder.id)).where(Reminder.status != "queued"))
        db.session.commit()
        if done >= count:
            return time.perf_counter() - started
        if time.monotonic() - last_report > 10:
            print(f"  ... {done} of {count} submitted", flush=True)
            last_report = time.monotonic()
        time.sleep(0.1)


def sent_messages(limit: int) -> list[tuple[str, str, str, str]]:
    """(sender, recipient, body, reference) of the reminders as they were submitted."""
    from portal.extensions import db
    from portal.models import Reminder

    statuses = dict(db.session.execute(select(Reminder.status, func.count()).group_by(Reminder.status)).all())
    if set(statuses) != {"submitted"}:
        print(f"warning: not all submitted: {statuses}")
    return [tuple(row) for row in db.session.execute(
        select(Reminder.sender, Reminder.recipient, Reminder.body, Reminder.id)
        .where(Reminder.status == "submitted").order_by(Reminder.id).limit(limit)
    ).all()]


def sdk_alone(messages, endpoint: str) -> float:
    """Post the same messages with the SDK over one reused connection; the seconds it took."""
    from jobs import provider

    client = provider.make_client(endpoint, ACCESS_KEY)
    started = time.perf_counter()
    for sender, recipient, body, reference in messages:
        provider.submit(client, provider.Submission(
            originator=sender, recipient=recipient, body=body, reference=str(reference),
            report_url="http://127.0.0.1:9/webhooks/messagebird/status", validity_seconds=3 * 3600,
        ))
    seconds = time.perf_counter() - started
    client.http_client.close()
    return seconds


if __name__ == "__main__":
    sys.exit(main())
