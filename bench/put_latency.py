"""Single-change latency: PUT /patients and PUT /appointments at 8 clients, beside a bare endpoint.

    .venv/bin/python bench/put_latency.py [--clients 8] [--requests 200] [--workers 4]

Same set-up as bench/sync_throughput.py (fresh database, DATABASE_URL or a
SQLite file; gunicorn as the README runs it), with the webhook bench's bare
Flask app mounted beside the product under /bare (`bench.webhook_throughput:both()`:
no database, no request hooks). Each client puts its own patients and
appointments (new ones, then moves); then the same PUTs, bodies and all, go to
the bare app; then `GET /healthz` (the product's request hooks, no database)
as often. It prints p50 and p95 of each in the same run, and where the CPU
went in each (bench/cpu_split.py). Nothing is asserted.
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

from bench.cpu_split import cpu_split, per_request  # noqa: E402
from bench.sync_throughput import served  # noqa: E402


def main(argv=None) -> int:
    args = parse_args(argv)
    with served(args, "bench.webhook_throughput:both()") as (app, key, _, base, server):
        print(f"{args.clients} clients, {args.requests} requests each, {args.workers} gunicorn workers "
              f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})")
        phases = (
            ("PUT /patients and /appointments", lambda c: client(base, key, c, args.requests)),
            ("the same PUTs to the bare endpoint", lambda c: client(f"{base}/bare", key, c, args.requests)),
            ("GET /healthz (the product's request hooks)", lambda c: healthz_client(base, args.requests)),
        )
        for name, each_client in phases:
            with cpu_split(server.pid) as split, ThreadPoolExecutor(args.clients) as pool:
                times = [t for times in pool.map(each_client, range(args.clients)) for t in times]
            report(name, times)
            print(per_request(split, len(times)))
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


def healthz_client(base: str, count: int) -> list[float]:
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
