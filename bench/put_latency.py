"""Single-change latency: PUT /patients and PUT /appointments at 8 clients, beside a bare endpoint.

    .venv/bin/python bench/put_latency.py [--clients 8] [--requests 200] [--workers 4]

Same set-up as bench/sync_throughput.py (fresh database, DATABASE_URL or a
SQLite file; gunicorn as the README runs it). Each client puts its own patients
and appointments (new ones, then moves), then calls `GET /healthz` (no database,
no key) as often; it prints p50 and p95 of each in the same run. Nothing is asserted.
"""
import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.sync_throughput import served  # noqa: E402


def main(argv=None) -> int:
    args = parse_args(argv)
    with served(args) as (app, key, _, base):
        print(f"{args.clients} clients, {args.requests} requests each, {args.workers} gunicorn workers "
              f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})")
        with ThreadPoolExecutor(args.clients) as pool:
            puts = [t for times in pool.map(lambda c: client(base, key, c, args.requests), range(args.clients))
                    for t in times]
            bare = [t for times in pool.map(lambda c: bare_client(base, args.requests), range(args.clients))
                    for t in times]
        report("PUT /patients and /appointments", puts)
        report("GET /healthz (bare)", bare)
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="per client and kind")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers, as the README runs it")
    parser.add_argument("--port", type=int, default=8094)
    return parser.parse_args(argv)


def client(base: str, key: str, number: int, count: int) -> list[float]:
    """Milliseconds of each PUT: a patient, an appointment for them, then moves of it."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    times = []
    for n in range(count):
        patient = f"c{number}-p{n // 4}"
        if n % 4 == 0:
            path, body = f"/api/v1/patients/{patient}", {"first_name": "Erika", "last_name": "Muster",
                                                         "mobile": "0170 1234567", "sms_consent": True}
        else:
            path, body = f"/api/v1/appointments/c{number}-a{n // 4}", {
                "patient": patient, "start": (start + timedelta(minutes=n)).isoformat()}
        times.append(timed(lambda path=path, body=body: session.put(base + path, json=body, timeout=60)))
    return times


def bare_client(base: str, count: int) -> list[float]:
    session = requests.Session()
    return [timed(lambda: session.get(base + "/healthz", timeout=60)) for _ in range(count)]


def timed(call) -> float:
    started = time.perf_counter()
    response = call()
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


def report(name: str, times: list[float]) -> None:
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"{name}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms ({len(times)} requests)")


if __name__ == "__main__":
    sys.exit(main())
