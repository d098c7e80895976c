"""POST /sync in-process, for profiling: the bench's three phases through Flask's test client.

    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/sync_profile.py [--patients 2000] [--batch 1000]

One process, no gunicorn: the database (DATABASE_URL, or a SQLite file; its
schema is DROPPED and re-created), a licensed practice and its API key, then
the phases of bench/sync_throughput.py (new patients, new appointments, mixed
updates and moves). Prints operations per second (wall clock and this process's CPU) and SQL statements per batch
for each phase, then cProfile's top 25 of a second mixed phase, by cumulative and by
own time. For reading, not asserting; the multi-process numbers are the bench's.
"""
import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from sync_throughput import make_app, put_appointment, put_patient, reset_database, seed, start_redis  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sync-profile-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'profile.sqlite'}"
    redis_server, redis_url = start_redis(workdir)
    try:
        app = make_app(database_url, redis_url)
        with app.app_context():
            reset_database()
            key, _ = seed()
            from portal.extensions import db
            engine = db.engine
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
        n = args.patients
        phases = {
            "patients": [put_patient(i, f"Muster{i}") for i in range(n)],
            "appointments": [put_appointment(i, start + timedelta(minutes=i)) for i in range(n)],
            "mixed": [put_patient(i, f"Neu{i}") if i % 2 else put_appointment(i, start + timedelta(minutes=i + 7))
                      for i in range(n)],
            "mixed, profiled": [put_patient(i, f"Dritt{i}") if i % 2
                                else put_appointment(i, start + timedelta(minutes=i + 14)) for i in range(n)],
        }
        count = [0]

        def counted(*_):
            count[0] += 1

        event.listen(engine, "before_cursor_execute", counted)
        profile = cProfile.Profile()
        for name, operations in phases.items():
            batches = [operations[i:i + args.batch] for i in range(0, len(operations), args.batch)]
            count[0] = 0
            started, cpu = time.perf_counter(), time.process_time()
            for chunk in batches:
                if name == "mixed, profiled":
                    profile.enable()
                response = client.post("/api/v1/sync", json={"operations": chunk}, headers=headers)
                if name == "mixed, profiled":
                    profile.disable()
                body = response.get_json()
                if response.status_code != 200 or body["failed"]:
                    raise SystemExit(f"{name}: {response.status_code} {str(body)[:500]}")
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            # ops per second of this process's own CPU: comparable while others load the machine
            print(f"{name}: {len(operations) / elapsed:.0f} ops/s ({len(operations) / cpu:.0f} per CPU second), "
                  f"{count[0] / len(batches):.0f} statements/batch")
        if os.environ.get("PROFILE_OUT"):
            profile.dump_stats(os.environ["PROFILE_OUT"])
        stats = pstats.Stats(profile).strip_dirs()
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(25)
    finally:
        if redis_server is not None:
            redis_server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
