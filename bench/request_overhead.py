"""Per-request overhead in one process: the Flask test client, no server, no threads.

    .venv/bin/python bench/request_overhead.py [--messages 700] [--puts 300]

Makes a SQLite file in a temporary directory and an embedded Redis, seeds the
webhook benchmark's practice (bench/webhook_throughput.py: submitted
reminders, signed reports) and gives it an API key, then times, per request:

- the signed status reports (three per message, as the provider sends them),
- `GET /healthz` (the request hooks only),
- a bare Flask endpoint answering the same query string (the floor),
- `PUT /api/v1/patients/<id>` and `PUT /api/v1/appointments/<id>`, with the
  SQL statements each one runs (a `before_cursor_execute` listener).

It asserts nothing; run it on two checkouts one after the other to compare.
"""
import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.sync_throughput import reset_database, start_redis  # noqa: E402
from bench.webhook_throughput import PUBLIC_BASE_URL, SIGNING_KEY, STATUS_PATH, seed, signed_reports  # noqa: E402


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="overhead-bench-"))
    redis_server, redis_url = start_redis(workdir)
    try:
        from portal import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite'}", "REDIS_URL": redis_url,
                          "EMBEDDED_REDIS": False, "SECRET_KEY": "bench", "MESSAGEBIRD_ACCESS_KEY": "bench",
                          "MESSAGEBIRD_SIGNING_KEY": SIGNING_KEY, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                          "LOG_LEVEL": "WARNING"})
        with app.app_context():
            reset_database()
            seed(args.messages)
            key = api_key()
        client = app.test_client(use_cookies=False)
        reports = [(f"{STATUS_PATH}?{query}", headers) for query, headers in signed_reports(args.messages)]
        bare = bare_app().test_client(use_cookies=False)
        rows = [
            ("bare Flask endpoint", per_request(bare, reports)),
            ("signed status report", per_request(client, reports)),
            ("GET /healthz", per_request(client, [("/healthz", {})] * len(reports))),
            ("bare Flask endpoint", per_request(bare, reports)),
        ]
        for name, (seconds, _) in rows:
            print(f"{name:24s} {seconds * 1e6:7.0f} us per request ({len(reports)} requests)")
        auth = {"Authorization": f"Bearer {key}"}
        start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
        for name, puts in (
            ("PUT patient (new)", [(f"/api/v1/patients/q{n}", patient(n, "Neu")) for n in range(args.puts)]),
            ("PUT appointment (new)", [(f"/api/v1/appointments/b{n}", appointment(n, start + timedelta(minutes=n)))
                                       for n in range(args.puts)]),
            ("PUT patient (update)", [(f"/api/v1/patients/q{n}", patient(n, "Anders")) for n in range(args.puts)]),
            ("PUT appointment (move)", [(f"/api/v1/appointments/b{n}", appointment(n, start + timedelta(minutes=n + 9)))
                                        for n in range(args.puts)]),
        ):
            seconds, statements = per_put(app, client, puts, auth)
            print(f"{name:24s} {seconds * 1e6:7.0f} us per request, {statements:.1f} statements ({len(puts)} requests)")
    finally:
        if redis_server is not None:
            redis_server.shutdown()
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=700, help="submitted reminders, three reports each")
    parser.add_argument("--puts", type=int, default=300, help="PUTs of each kind")
    return parser.parse_args(argv)


def api_key() -> str:
    from portal.credentials import issue_practice_key
    from portal.extensions import db
    from portal.models import Practice

    _, key = issue_practice_key(db.session.query(Practice).one(), None)
    db.session.commit()
    return key


def bare_app():
    from flask import Flask, jsonify, request

    bare = Flask("bare")

    @bare.get(STATUS_PATH)
    def status():
        return jsonify({"result": "ok", "id": request.args.get("id")})

    return bare


def per_request(client, requests) -> tuple[float, None]:
    """Median seconds per request over chunks of 100; each must answer 200."""
    chunks = []
    for first in range(0, len(requests), 100):
        started = time.perf_counter()
        for path, headers in requests[first:first + 100]:
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{path[:40]}: {response.status_code} {response.get_data()[:200]!r}")
        chunks.append((time.perf_counter() - started) / len(requests[first:first + 100]))
    return statistics.median(chunks), None


def per_put(app, client, puts, headers) -> tuple[float, float]:
    """Mean seconds and SQL statements per PUT; each must answer 200 or 201."""
    from portal.extensions import db

    counted = [0]

    def count(*_args):
        counted[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        for path, body in puts:
            response = client.put(path, json=body, headers=headers)
            if response.status_code not in (200, 201):
                raise SystemExit(f"{path}: {response.status_code} {response.get_data()[:300]!r}")
        seconds = (time.perf_counter() - started) / len(puts)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seconds, counted[0] / len(puts)


def patient(n: int, last_name: str) -> dict:
    return {"first_name": "Erika", "last_name": f"{last_name}{n}", "salutation": "Frau", "mobile": f"0171 {n:07d}",
            "sms_consent": True}


def appointment(n: int, start: datetime) -> dict:
    return {"patient": f"q{n}", "start": start.isoformat(), "duration_minutes": 30}


if __name__ == "__main__":
    sys.exit(main())
