"""Send throughput: due reminders dispatched and submitted end to end, against the SDK alone.

    .venv/bin/python bench/send_throughput.py [--reminders 20000] [--practices 200] [--workers 2]
    .venv/bin/python bench/send_throughput.py --burst [--count 100000] [--practices 2000] [--workers 2 4]

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

Burst mode (`--burst`): the evening peak. N reminders (default 100,000)
across P practices (default 2,000) are all due at the same moment; W workers
(2, then 4) run as the product ships them (`flask --app wsgi worker`, every
queue, its scheduler running the periodic dispatch), nothing else. For each
W it prints the end-to-end rate from the first claim to the last
submission, the time from the due moment until the last SMS of the burst is
out, the SDK alone posting the same messages over as many concurrent
connections as the workers use (W x SEND_CONCURRENCY, one SDK client and
kept-open connection per thread), and the ratio. `--profile` runs the first
worker under cProfile and prints where its main thread spends the time.
"""
import argparse
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests
from sqlalchemy import func, insert, select, text

ACCESS_KEY = "bench-access-key"
SIGNING_KEY = "bench-signing-key-" + "x" * 32


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.burst:
        return burst(args)
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
    parser.add_argument("--burst", action="store_true", help="the evening peak: all due at once (see above)")
    parser.add_argument("--reminders", "--count", dest="reminders", type=int, default=None,
                        help="default 20,000; with --burst 100,000")
    parser.add_argument("--practices", type=int, default=None, help="default 200; with --burst 2,000")
    parser.add_argument("--workers", type=int, nargs="+", default=None, help="default 2; with --burst 2 4")
    parser.add_argument("--concurrency", type=int, default=8, help="SEND_CONCURRENCY of each worker")
    parser.add_argument("--profile", action="store_true", help="with --burst: cProfile the first worker")
    parser.add_argument("--batch", type=int, default=50, help="reminders per send job")
    parser.add_argument("--ceiling-sample", type=int, default=0,
                        help="post only this many messages for the ceiling (default: all)")
    parser.add_argument("--sandbox-port", type=int, default=8091)
    args = parser.parse_args(argv)
    burst_mode = args.burst
    args.reminders = args.reminders or (100_000 if burst_mode else 20_000)
    args.practices = args.practices or (2_000 if burst_mode else 200)
    args.workers = args.workers or ([2, 4] if burst_mode else [2])
    if not burst_mode:
        args.workers = args.workers[0]
    return args


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
               PUBLIC_BASE_URL="http://127.0.0.1:9", SEND_BATCH_SIZE=str(args.batch),
               SEND_CONCURRENCY=str(args.concurrency))
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
    from portal.models import (
        Appointment,
        Licence,
        Patient,
        Practice,
        PracticeGroup,
        Reminder,
    )

    now = datetime.now(UTC)
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
    from portal.providers import messagebird as provider

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


# --- burst mode ---------------------------------------------------------------------

def burst(args) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="send-burst-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite'}"
    redis_server, redis_url = start_redis(workdir)
    sandbox = start_sandbox(args.sandbox_port)
    endpoint = f"http://127.0.0.1:{args.sandbox_port}"
    try:
        app = make_app(database_url, redis_url, args)
        with app.app_context():
            for workers in args.workers:
                burst_run(args, workers, database_url, redis_url, workdir)
        return 0
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
        if redis_server is not None:
            redis_server.shutdown()
        clear_sandbox(endpoint)


def burst_run(args, workers: int, database_url: str, redis_url: str, workdir: Path) -> None:
    """Seed, start the workers, let the burst fall due, wait until every reminder is out; print."""
    import redis

    from portal.extensions import db
    from portal.models import Reminder

    endpoint = f"http://127.0.0.1:{args.sandbox_port}"
    clear_sandbox(endpoint)
    redis.Redis.from_url(redis_url).flushdb()
    reset_database()
    started = time.perf_counter()
    seed(args.reminders, args.practices)
    db.session.execute(Reminder.__table__.update().values(due_at=datetime(2100, 1, 1, tzinfo=UTC)))
    db.session.commit()
    print(f"\n{workers} workers: seeded {args.reminders} reminders across {args.practices} practices in "
          f"{time.perf_counter() - started:.0f} s ({database_url.split(':')[0]})", flush=True)
    env = worker_env(database_url, redis_url, args)
    profile = workdir / f"worker-{workers}.prof" if args.profile else None
    processes = [start_worker(env, profile if n == 0 else None) for n in range(workers)]
    try:
        wait_for_workers(redis_url, workers)
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
        db.session.execute(Reminder.__table__.update().values(due_at=due))
        db.session.commit()
        figures = wait_until_out(args.reminders, due)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=120)
    bodies = sent_messages(min(args.ceiling_sample or args.reminders, args.reminders))
    db.session.commit()  # the next run drops the tables
    clear_sandbox(endpoint)
    connections = workers * args.concurrency
    sdk_seconds = sdk_concurrent(bodies, endpoint, connections)
    sdk_rate = len(bodies) / sdk_seconds
    first_claim, last_out = figures
    e2e_seconds = (last_out - first_claim).total_seconds()
    e2e_rate = args.reminders / e2e_seconds
    print(f"end to end: {args.reminders} reminders from the first claim to the last submission in "
          f"{e2e_seconds:.1f} s = {e2e_rate:.0f} reminders/s ({workers} workers x {args.concurrency} calls at once, "
          f"batches of {args.batch})")
    print(f"last SMS of the burst out {(last_out - due).total_seconds():.1f} s after it fell due "
          f"(first claim after {(first_claim - due).total_seconds():.1f} s: the periodic dispatch's slot)")
    print(f"ceiling (SDK alone, {connections} connections at once): {len(bodies)} messages in {sdk_seconds:.1f} s "
          f"= {sdk_rate:.0f} messages/s")
    print(f"ratio end to end / ceiling: {e2e_rate / sdk_rate:.2f}", flush=True)
    if profile is not None:
        print_profile(profile)


def start_worker(env: dict, profile: Path | None) -> subprocess.Popen:
    """A worker as shipped: every queue, with the scheduler; optionally under cProfile."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    if profile is not None:
        command[1:1] = ["-m", "cProfile", "-o", str(profile)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_workers(redis_url: str, count: int) -> None:
    import redis
    from rq import Worker

    connection = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 60
    while Worker.count(connection=connection) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start")
        time.sleep(0.2)


def wait_until_out(count: int, due: datetime) -> tuple[datetime, datetime]:
    """Wait until no reminder is planned or queued; (first claim, last submission)."""
    from portal.extensions import db
    from portal.models import Reminder

    last_report = time.monotonic()
    while True:
        time.sleep(1)
        done = db.session.scalar(select(func.count(Reminder.id)).where(Reminder.status.not_in(("planned", "queued"))))
        db.session.commit()
        if done >= count:
            break
        if time.monotonic() - last_report > 15:
            print(f"  ... {done} of {count} out", flush=True)
            last_report = time.monotonic()
    first_claim, last_claim, last_out = db.session.execute(select(
        func.min(Reminder.claimed_at), func.max(Reminder.claimed_at), func.max(Reminder.submitted_at))).one()
    db.session.commit()
    print(f"  the dispatcher claimed them all in {(_aware(last_claim) - _aware(first_claim)).total_seconds():.1f} s")
    return _aware(first_claim), _aware(last_out)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sdk_concurrent(messages, endpoint: str, connections: int) -> float:
    """Post the messages with the SDK from `connections` threads, each with its own client; the seconds."""
    from portal.providers import messagebird as provider

    chunks = [messages[n::connections] for n in range(connections)]
    clients = [provider.make_client(endpoint, ACCESS_KEY) for _ in chunks]
    barrier = threading.Barrier(connections + 1)

    def post(client, chunk):
        barrier.wait()
        for sender, recipient, body, reference in chunk:
            provider.submit(client, provider.Submission(
                originator=sender, recipient=recipient, body=body, reference=str(reference),
                report_url="http://127.0.0.1:9/webhooks/messagebird/status", validity_seconds=3 * 3600,
            ))

    threads = [threading.Thread(target=post, args=pair) for pair in zip(clients, chunks)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    for client in clients:
        client.http_client.close()
    return seconds


def clear_sandbox(endpoint: str) -> None:
    try:
        requests.delete(f"{endpoint}/_sandbox/messages", headers={"Authorization": f"AccessKey {ACCESS_KEY}"},
                        timeout=30)
    except requests.RequestException:
        pass  # stopped already


def print_profile(path: Path) -> None:
    """Where the profiled worker's main thread spent its time (the provider calls run in other threads)."""
    if not path.exists():
        print("no profile written")
        return
    stats = pstats.Stats(str(path))
    print(f"profile of worker 1 (main thread), {stats.total_tt:.1f} s:")
    stats.sort_stats("cumulative").print_stats(
        r"(send\.py|submission\.py|state\.py|quota\.py|reports\.py|claims\.py|dispatch\.py|"
        r"planning\.py|_base\.py:\d+\(result\)|threading\.py:\d+\(wait\)|session\.py:\d+\(commit\)|"
        r"base\.py:\d+\(execute\)|worker/base\.py)", 40)


if __name__ == "__main__":
    sys.exit(main())
