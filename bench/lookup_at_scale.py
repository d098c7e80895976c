"""Lookup at scale: a large vendor's history, and how fast support and the portal find things in it.

    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/lookup_at_scale.py [--reminders 5000000]
        [--practices 3000] [--groups 5] [--samples 60] [--keep]

DROPS and re-creates the schema of DATABASE_URL (PostgreSQL only), runs the
migrations, then generates N reminders with their appointments, patients
(about four appointments each), timeline events, delivery reports and audit
entries inside PostgreSQL (`INSERT ... SELECT` over `generate_series`: no
row crosses the wire), spread over P practices in G groups and over the last
year. With `--keep` an existing load of the same size is reused.

It then prints p50/p95 in milliseconds of

- `GET /api/v1/lookup` by phone, name, surname alone, appointment ID (the program's) and message ID,
  with a vendor administrator's personal token;
- the portal's lookup page by surname, the reminders list of one practice, the usage page (all
  practices and one practice) and the audit log, logged in as the vendor administrator;

each against the application as shipped, through Flask's test client (no network
and no gunicorn: the figures are the application's and the database's time).
"""
import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

PASSWORD = "bench password 123"
EMAIL = "vendor@bench.example"


def main(argv=None) -> int:
    args = parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (its schema is dropped)")
    app = make_app(database_url)
    with app.app_context():
        if not (args.keep and loaded(args.reminders)):
            reset_database()
            started = time.perf_counter()
            load(args.reminders, args.practices, args.groups)
            print(f"loaded {args.reminders:,} reminders across {args.practices:,} practices in "
                  f"{time.perf_counter() - started:.0f} s")
        token = vendor_token()
        samples = pick_samples(args.samples)
    report(measure(app, token, samples, args.samples))
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=5_000_000)
    parser.add_argument("--practices", type=int, default=3000)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--samples", type=int, default=60, help="requests per measured case")
    parser.add_argument("--keep", action="store_true", help="reuse a load of the same size")
    return parser.parse_args(argv)


def make_app(database_url: str):
    from portal import create_app, serving

    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no access line per measured request
    # served as wsgi.py serves it
    return serving(create_app({"SQLALCHEMY_DATABASE_URI": database_url, "EMBEDDED_REDIS": False,
                               "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
                               "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}))


def reset_database() -> None:
    from flask_migrate import upgrade

    from portal.extensions import db

    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(directory=str(ROOT / "migrations"))


def loaded(reminders: int) -> bool:
    from portal.extensions import db

    try:
        return db.session.scalar(text("SELECT max(id) FROM reminders")) == reminders
    except Exception:  # no schema yet
        db.session.rollback()
        return False


# --- the load ----------------------------------------------------------------------------------

SURNAMES = ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
            "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange").split()
FIRST_NAMES = "Anna Maria Ursula Monika Petra Christa Jürgen Klaus Hans Peter Wolfgang Uwe Erika Sabine".split()

# Reminder i: its appointment is i, its patient is i / 4, its practice i % P. A tenth of each kind:
# 0-5 submitted and delivered, 6 submitted and failed in delivery, 7 planned (ahead), 8 skipped,
# 9 refused by the provider (half of those: outcome unknown).
STATEMENTS = [
    """INSERT INTO practice_groups (id, slug, name, created_at)
       SELECT g, 'group-' || g, 'Gruppe ' || g, now() FROM generate_series(1, :groups) g""",
    """INSERT INTO practices (id, group_id, slug, name, phone, sms_enabled, created_at)
       SELECT p, 1 + p % :groups, 'practice-' || p, 'Praxis ' || p, '030 1234567', true, now()
       FROM generate_series(1, :practices) p""",
    """INSERT INTO licences (practice_id, status, valid_from, valid_until, created_at)
       SELECT p, 'active', current_date - 400, current_date + 365, now() FROM generate_series(1, :practices) p""",
    """INSERT INTO patients (id, practice_id, external_id, salutation, first_name, last_name, mobile_raw,
                             mobile_e164, sms_consent, name_key, mobile_key, revision, created_at, updated_at)
       SELECT n, 1 + (n * 4) % :practices, 'P' || n, 'Frau', f.name, s.name || '-' || initcap(translate(n::text, '0123456789', 'aeioulmnrs')),
              '0170 ' || lpad(n::text, 7, '0'), '+49170' || lpad(n::text, 7, '0'), true,
              ' ' || f.key || ' ' || s.key || ' ' || translate(n::text, '0123456789', 'aeioulmnrs') || ' ', '+49170' || lpad(n::text, 7, '0'), 0, now(), now()
       FROM generate_series(0, :patients - 1) n
       JOIN (SELECT ordinality - 1 AS i, name,
                    replace(replace(replace(lower(name), 'ü', 'ue'), 'ä', 'ae'), 'ö', 'oe') AS key
             FROM unnest(CAST(:first AS text[]))
             WITH ORDINALITY AS name) f ON f.i = n % cardinality(CAST(:first AS text[]))
       JOIN (SELECT ordinality - 1 AS i, name,
                    replace(replace(replace(lower(name), 'ü', 'ue'), 'ä', 'ae'), 'ö', 'oe') AS key
             FROM unnest(CAST(:surnames AS text[])) WITH ORDINALITY AS name) s
         ON s.i = (n / 7) % cardinality(CAST(:surnames AS text[]))""",
    # appointment i starts (i * 7919) % 365 days ago, or ahead for planned ones
    """INSERT INTO appointments (id, practice_id, external_id, patient_id, start_at, start_offset_minutes,
                                 duration_minutes, therapist, sms_reminder, revision, created_at, updated_at)
       SELECT i, 1 + i % :practices, 'T' || i, i / 4,
              date_trunc('hour', now()) + CASE WHEN i % 10 = 7 THEN interval '1 day' * (1 + i % 20)
                  ELSE - interval '1 day' * ((i::bigint * 7919) % 365) END + interval '1 hour' * (i % 9),
              60, 30, 'Frau Therapeutin', true, 0, now() - interval '400 days', now() - interval '400 days'
       FROM generate_series(1, :reminders) i""",
    """INSERT INTO reminders (id, practice_id, appointment_id, start_at, due_at, status, reason, created_at,
                              updated_at, claimed_at, attempts, submit_started_at, submitted_at, body, recipient,
                              sender, encoding, segments, provider_message_id, provider_error_code,
                              delivery_status, delivery_status_at, delivered_at)
       SELECT a.id, a.practice_id, a.id, a.start_at, a.start_at - interval '1 day',
              CASE WHEN k <= 6 THEN 'submitted' WHEN k = 7 THEN 'planned' WHEN k = 8 THEN 'skipped'
                   ELSE 'failed' END,
              CASE WHEN k = 8 THEN 'no_consent' WHEN k = 9 THEN 'provider_error' END,
              a.created_at, a.created_at,
              CASE WHEN k IN (0, 1, 2, 3, 4, 5, 6, 9) THEN a.start_at - interval '1 day' END, 1,
              CASE WHEN k IN (0, 1, 2, 3, 4, 5, 6, 9) THEN a.start_at - interval '1 day' END,
              CASE WHEN k <= 6 THEN a.start_at - interval '1 day' END,
              CASE WHEN k <= 6 THEN 'Erinnerung an Ihren Termin morgen um 10:00 Uhr. Ihre Praxis' END,
              CASE WHEN k <= 6 THEN '+49170' || lpad((a.id / 4)::text, 7, '0') END,
              CASE WHEN k <= 6 THEN 'Praxis' END, CASE WHEN k <= 6 THEN 'plain' END, CASE WHEN k <= 6 THEN 1 END,
              CASE WHEN k <= 6 THEN md5(a.id::text) END,
              CASE WHEN k = 9 THEN CASE WHEN a.id % 20 = 9 THEN 'outcome_unknown' ELSE '2' END END,
              CASE WHEN k <= 5 THEN 'delivered' WHEN k = 6 THEN 'delivery_failed' END,
              CASE WHEN k <= 6 THEN a.start_at - interval '23 hours' END,
              CASE WHEN k <= 5 THEN a.start_at - interval '23 hours' END
       FROM (SELECT *, id % 10 AS k FROM appointments) a""",
    """INSERT INTO appointment_events (appointment_id, practice_id, reminder_id, at, kind, change_source, data)
       SELECT a.id, a.practice_id, NULL, a.created_at, 'created', 'import', NULL FROM appointments a
       UNION ALL
       SELECT r.appointment_id, r.practice_id, r.id, r.created_at,
              CASE WHEN r.status = 'skipped' THEN 'skipped' ELSE 'planned' END, NULL,
              CAST('{"due_at": null}' AS json) FROM reminders r
       UNION ALL
       SELECT r.appointment_id, r.practice_id, r.id, r.submitted_at, 'submitted', NULL,
              json_build_object('message_id', r.provider_message_id) FROM reminders r WHERE r.status = 'submitted'
       UNION ALL
       SELECT r.appointment_id, r.practice_id, r.id, r.delivery_status_at, 'delivery_report', NULL,
              json_build_object('status', r.delivery_status, 'reason', NULL, 'error_code', NULL)
       FROM reminders r WHERE r.status = 'submitted'""",
    """INSERT INTO delivery_reports (reminder_id, practice_id, provider_message_id, reference, recipient, status,
                                     status_at, received_at)
       SELECT r.id, r.practice_id, r.provider_message_id, 'r' || r.id, r.recipient, r.delivery_status,
              r.delivery_status_at, r.delivery_status_at FROM reminders r WHERE r.status = 'submitted'""",
    # a support lookup is audited: one entry per hundred reminders, spread over the year and the groups
    """INSERT INTO audit_log (at, actor, action, object_type, object_key, group_id, practice_id, after)
       SELECT now() - interval '1 minute' * (n % 525600), 'support@bench.example',
              CASE WHEN n % 3 = 0 THEN 'phone.reveal' ELSE 'lookup.api' END, 'user', n::text,
              1 + n % :groups, 1 + n % :practices, CAST('{"results": 1}' AS json)
       FROM generate_series(1, :reminders / 100) n""",
]
SEQUENCES = ("practice_groups", "practices", "patients", "appointments", "reminders")


def load(reminders: int, practices: int, groups: int) -> None:
    from portal import usage
    from portal.extensions import db

    parameters = {"reminders": reminders, "practices": practices, "groups": groups,
                  "patients": reminders // 4 + 1, "first": FIRST_NAMES, "surnames": SURNAMES}
    with db.engine.begin() as connection:
        for statement in STATEMENTS:
            started = time.perf_counter()
            connection.execute(text(statement), parameters)
            print(f"  {statement.split()[2]:<20} {time.perf_counter() - started:6.1f} s", flush=True)
        for table in SEQUENCES:
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    # what the scheduler's usage job does within a minute of the load
    started = time.perf_counter()
    usage.fold()
    print(f"  {'usage fold':<20} {time.perf_counter() - started:6.1f} s", flush=True)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def vendor_token() -> str:
    from portal.credentials import issue_personal_token
    from portal.extensions import db
    from portal.models import User

    user = db.session.query(User).filter_by(email=EMAIL).first()
    if user is None:
        user = User(email=EMAIL, role="vendor_admin")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
    _, secret = issue_personal_token(user)
    db.session.commit()
    return secret


def pick_samples(count: int) -> list[dict]:
    """Real rows to look for: a submitted reminder's patient, appointment and message ID."""
    from portal.extensions import db

    total = db.session.scalar(text("SELECT max(id) FROM reminders"))
    rng = random.Random(10)
    ids = [rng.randrange(1, total // 10) * 10 + rng.randrange(0, 6) for _ in range(count)]
    rows = db.session.execute(text(
        """SELECT r.provider_message_id, a.external_id, a.practice_id, p.mobile_raw, p.first_name, p.last_name
           FROM reminders r JOIN appointments a ON a.id = r.appointment_id JOIN patients p ON p.id = a.patient_id
           WHERE r.id = ANY(:ids)"""), {"ids": ids}).all()
    return [dict(row._mapping) for row in rows]


# --- the measurement -----------------------------------------------------------------------------

def measure(app, token: str, samples: list[dict], count: int) -> dict[str, list[float]]:
    client = app.test_client()
    portal = app.test_client()
    response = portal.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    api = {"Authorization": f"Bearer {token}"}
    cases = {
        "lookup by phone": lambda s: client.get("/api/v1/lookup", query_string={"phone": s["mobile_raw"]}, headers=api),
        "lookup by name": lambda s: client.get("/api/v1/lookup", query_string={
            "name": f"{s['first_name']} {s['last_name']}"}, headers=api),
        # the surname without its patient's own suffix ("Richter-Eoua"): one in 25 patients bears it
        "lookup by surname": lambda s: client.get("/api/v1/lookup", query_string={
            "name": s["last_name"].split("-")[0]}, headers=api),
        "lookup by appointment ID": lambda s: client.get("/api/v1/lookup", query_string={
            "appointment": s["external_id"]}, headers=api),
        "lookup by message ID": lambda s: client.get("/api/v1/lookup", query_string={
            "message_id": s["provider_message_id"]}, headers=api),
        "portal lookup page by surname": lambda s: portal.get("/support/", query_string={
            "name": s["last_name"].split("-")[0]}),
        "portal reminders list": lambda s: portal.get(f"/settings/practices/practice-{s['practice_id']}/reminders"),
        "portal usage, all practices": lambda s: portal.get("/admin/usage"),
        "portal usage, one practice": lambda s: portal.get(
            "/admin/usage", query_string={"practice": f"practice-{s['practice_id']}"}),
        "portal audit log": lambda s: portal.get("/support/audit"),
    }
    timings = {}
    for name, call in cases.items():
        call(samples[0])  # warm the connection and the plan cache
        timings[name] = []
        for sample in (samples * count)[:count]:
            started = time.perf_counter()
            response = call(sample)
            timings[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code, response.data[:300])
            if name.startswith("lookup"):
                assert response.get_json()["appointments"], (name, sample)
    return timings


def report(timings: dict[str, list[float]]) -> None:
    print(f"{'case':<30} {'p50 ms':>8} {'p95 ms':>8}")
    for name, values in timings.items():
        cuts = statistics.quantiles(values, n=20)
        print(f"{name:<30} {statistics.median(values):8.1f} {cuts[18]:8.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
