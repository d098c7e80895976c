"""Sync throughput: a practice's calendar pushed through POST /sync, against plain bulk INSERTs.

    .venv/bin/python bench/sync_throughput.py [--patients 3000] [--batch 1000] [--workers 4]

Makes a fresh database (a SQLite file in a temporary directory, or
DATABASE_URL, whose schema is DROPPED and re-created), a licensed practice and
its API key, starts the service under gunicorn as the README runs it, and
pushes the calendar through `POST /sync` in batches:

- patients: N new patients;
- appointments: N new appointments, one per patient, planned as they arrive;
- mixed: N operations, half patient updates (a new name), half appointment moves.

For each phase it prints operations per second (the whole phase and the median
batch), first of one practice pushing alone, then of `--practices` practices
pushing their own calendars at the same time (a group coming on board: each
practice program sends its batches one after the other, the practices in
parallel), then the rate of plain bulk INSERTs of the same patient and
appointment rows into the same database in the same run, and the ratio of the
two. Nothing here is asserted: it is for reading.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from bench.cpu_split import cpu_split, per_request  # noqa: E402


def main(argv=None) -> int:
    args = parse_args(argv)
    with served(args) as (app, key, bare_practice_id, base, server):
        with app.app_context():
            group_keys = more_practices(args.practices)
        print(f"POST /sync, batches of {args.batch}, {args.workers} gunicorn workers "
              f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})")
        start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
        phases = {
            "patients": [put_patient(n, f"Muster{n}") for n in range(args.patients)],
            "appointments": [put_appointment(n, start + timedelta(minutes=n)) for n in range(args.patients)],
            "mixed": [put_patient(n, f"Neu{n}") if n % 2 else put_appointment(n, start + timedelta(minutes=n + 7))
                      for n in range(args.patients)],
        }
        rates = {}
        for name, operations in phases.items():
            rates[f"{name}, one practice"] = push_all(base, [key], operations, args.batch, name, server)
            rates[f"{name}, {args.practices} practices at once"] = push_all(base, group_keys, operations,
                                                                           args.batch, name, server)
        with app.app_context():
            bulk_rate = bulk_inserts(bare_practice_id, args.patients, start)
        print(f"plain bulk INSERTs: {bulk_rate:.0f} rows/s (patients and appointments, same rows)")
        for name, rate in rates.items():
            print(f"ratio {name} / bulk INSERTs: {rate / bulk_rate:.3f}")
    return 0


@contextmanager
def served(args, served_app: str = "wsgi:app"):
    """A fresh database with a licensed practice, and gunicorn serving it (`served_app`, gunicorn's
    notation): (app, API key, bare practice, URL, gunicorn's process)."""
    workdir = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite'}"
    redis_server, redis_url = start_redis(workdir)
    server = None
    try:
        app = make_app(database_url, redis_url)
        with app.app_context():
            reset_database()
            key, bare_practice_id = seed()
        server = start_gunicorn(database_url, redis_url, args, served_app)
        yield app, key, bare_practice_id, f"http://127.0.0.1:{args.port}", server
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if redis_server is not None:
            redis_server.shutdown()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers, as the README runs it")
    parser.add_argument("--practices", type=int, default=4, help="practices pushing at the same time")
    parser.add_argument("--port", type=int, default=8093)
    return parser.parse_args(argv)


def put_patient(n: int, last_name: str) -> dict:
    return {"op": "put_patient", "id": f"p{n}",
            "data": {"first_name": "Erika", "last_name": last_name, "salutation": "Frau",
                     "mobile": f"0170 {n:07d}", "sms_consent": True}}


def put_appointment(n: int, start: datetime) -> dict:
    return {"op": "put_appointment", "id": f"a{n}",
            "data": {"patient": f"p{n}", "start": start.isoformat(), "duration_minutes": 30}}


def push_all(base: str, keys: list[str], operations: list[dict], batch: int, name: str,
             server: subprocess.Popen) -> float:
    """Each practice (one key each) sends the operations in batches, the practices at the same time;
    operations per second of them all for the whole phase (printed, with where the CPU went)."""
    sessions = [requests.Session() for _ in keys]
    for session, key in zip(sessions, keys, strict=True):
        session.headers["Authorization"] = f"Bearer {key}"
    started = time.perf_counter()
    with cpu_split(server.pid) as split, ThreadPoolExecutor(len(keys)) as pool:
        batch_rates = [rate for rates in pool.map(
            lambda session: push(session, f"{base}/api/v1", operations, batch, name), sessions) for rate in rates]
    rate = len(keys) * len(operations) / (time.perf_counter() - started)
    print(f"{name}, {len(keys)} {'practice' if len(keys) == 1 else 'practices at once'}: "
          f"{len(keys) * len(operations)} operations, {rate:.0f} ops/s "
          f"(median batch {statistics.median(batch_rates):.0f})")
    print(per_request(split, len(keys) * len(operations), "operation"))
    return rate


def push(session: requests.Session, base: str, operations: list[dict], batch: int, name: str) -> list[float]:
    """Send the operations in batches; operations per second of each batch."""
    batch_rates = []
    for first in range(0, len(operations), batch):
        chunk = operations[first:first + batch]
        sent = time.perf_counter()
        response = session.post(f"{base}/sync", json={"operations": chunk}, timeout=600)
        batch_rates.append(len(chunk) / (time.perf_counter() - sent))
        response.raise_for_status()
        if response.json()["failed"]:
            raise SystemExit(f"{name}: {response.json()['failed']} operations failed")
    return batch_rates


def start_redis(workdir: Path):
    if os.environ.get("REDIS_URL"):
        return None, os.environ["REDIS_URL"]
    from portal import queue as queues

    url = f"unix://{workdir / 'redis.sock'}"
    return queues.start_embedded(url), url


def make_app(database_url: str, redis_url: str):
    from portal import create_app, serving

    # served as wsgi.py serves it (sync_profile.py runs the batches in this process)
    return serving(create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
                               "EMBEDDED_REDIS": False, "SECRET_KEY": "bench"}))


def reset_database() -> None:
    from flask_migrate import upgrade

    from portal.extensions import db

    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(directory=str(ROOT / "migrations"))


def seed() -> tuple[str, int]:
    """A licensed practice with an API key, and a second practice for the bulk INSERTs."""
    from portal.credentials import issue_practice_key
    from portal.extensions import db
    from portal.models import Licence, Practice, PracticeGroup

    group = PracticeGroup(slug="bench", name="Bench")
    practice = Practice(group=group, slug="bench-sync", name="Praxis Sync", phone="030 1234567", sms_enabled=True)
    bare = Practice(group=group, slug="bench-bulk", name="Praxis Bulk", phone="030 1234567", sms_enabled=True)
    db.session.add_all([group, practice, bare])
    db.session.flush()
    db.session.add(Licence(practice_id=practice.id, status="active", valid_from=date.today() - timedelta(days=1),
                           valid_until=date.today() + timedelta(days=365)))
    _, key = issue_practice_key(practice, None)
    db.session.commit()
    return key, bare.id


def more_practices(count: int) -> list[str]:
    """API keys of `count` more licensed practices of the bench's group."""
    from portal.credentials import issue_practice_key
    from portal.extensions import db
    from portal.models import Licence, Practice, PracticeGroup

    group = db.session.scalars(select(PracticeGroup).where(PracticeGroup.slug == "bench")).one()
    keys = []
    for n in range(count):
        practice = Practice(group=group, slug=f"bench-sync-{n}", name=f"Praxis Sync {n}", phone="030 1234567",
                            sms_enabled=True)
        practice.licences.append(Licence(status="active", valid_from=date.today() - timedelta(days=1),
                                         valid_until=date.today() + timedelta(days=365)))
        keys.append(issue_practice_key(practice, None)[1])
    db.session.commit()
    return keys


def start_gunicorn(database_url: str, redis_url: str, args, served_app: str = "wsgi:app") -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, SECRET_KEY="bench",
               MESSAGEBIRD_ACCESS_KEY="bench", MESSAGEBIRD_SIGNING_KEY="bench-signing-key-" + "x" * 32)
    process = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "-b",
                                f"127.0.0.1:{args.port}", served_app], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{args.port}/healthz", timeout=1)
            return process
        except requests.RequestException:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def bulk_inserts(practice_id: int, count: int, start: datetime) -> float:
    """Rows per second of plain executemany INSERTs of the same patients and appointments."""
    from portal.extensions import db
    from portal.models import Appointment, Patient

    started = time.perf_counter()
    db.session.execute(insert(Patient), [
        {"practice_id": practice_id, "external_id": f"p{n}", "first_name": "Erika", "last_name": f"Muster{n}",
         "salutation": "Frau", "mobile_raw": f"0170 {n:07d}", "mobile_e164": f"+49170{n:07d}",
         "sms_consent": True, "revision": 0} for n in range(count)
    ])
    patients = dict(db.session.execute(
        select(Patient.external_id, Patient.id).where(Patient.practice_id == practice_id)).all())
    db.session.execute(insert(Appointment), [
        {"practice_id": practice_id, "external_id": f"a{n}", "patient_id": patients[f"p{n}"],
         "start_at": start + timedelta(minutes=n), "start_offset_minutes": 0, "duration_minutes": 30,
         "sms_reminder": True, "revision": 0} for n in range(count)
    ])
    db.session.commit()
    return 2 * count / (time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
