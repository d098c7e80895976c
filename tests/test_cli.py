"""The command line of CONTRACT.md: users, tokens, migrations."""
import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select

from portal.extensions import db
from portal.models import AuditEntry, User

ROOT = Path(__file__).resolve().parent.parent


def test_create_a_vendor_admin_with_the_password_on_stdin(runner, ctx):
    result = runner.invoke(args=["users", "create", "Anna@Vendor.example", "--role", "vendor_admin", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    user = db.session.query(User).filter_by(email="anna@vendor.example").one()
    assert user.check_password("a long enough password")
    assert "a long enough password" not in user.password_hash


def test_create_a_user_at_the_prompt(runner, ctx):
    result = runner.invoke(args=["users", "create", "sup@vendor.example", "--role", "support"],
                           input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    assert db.session.query(User).filter_by(email="sup@vendor.example").one().role == "support"


def test_a_group_admin_needs_an_existing_group(runner, make):
    make.group("nord")
    no_group = runner.invoke(args=["users", "create", "g@x.example", "--role", "group_admin", "--password-stdin"], input="password123456\n")
    assert no_group.exit_code != 0 and "--group" in no_group.output
    unknown = runner.invoke(args=["users", "create", "g@x.example", "--role", "group_admin", "--group", "sued", "--password-stdin"], input="password123456\n")
    assert unknown.exit_code != 0 and "sued" in unknown.output
    ok = runner.invoke(args=["users", "create", "g@x.example", "--role", "group_admin", "--group", "nord", "--password-stdin"], input="password123456\n")
    assert ok.exit_code == 0, ok.output
    assert db.session.query(User).filter_by(email="g@x.example").one().group.slug == "nord"


def test_short_passwords_and_duplicates_are_refused(runner, make):
    make.user("support", email="taken@x.example")
    short = runner.invoke(args=["users", "create", "new@x.example", "--role", "support", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "10 characters" in short.output
    taken = runner.invoke(args=["users", "create", "taken@x.example", "--role", "support", "--password-stdin"], input="password123456\n")
    assert taken.exit_code != 0 and "exists already" in taken.output


def test_a_token_printed_once_works_against_the_api(runner, make, api):
    make.user("support", email="sup@x.example")
    result = runner.invoke(args=["tokens", "create", "sup@x.example"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert api(secret).get("/groups").status_code == 200
    assert runner.invoke(args=["tokens", "create", "nobody@x.example"]).exit_code != 0


def test_cli_changes_are_audited_as_the_command_line(runner, make):
    make.group("nord")
    created = runner.invoke(args=["users", "create", " Grit@Nord.example ", "--role", "group_admin", "--group", "nord",
                                  "--password-stdin"], input="password123456\n")
    assert created.exit_code == 0, created.output
    assert runner.invoke(args=["tokens", "create", "GRIT@nord.example"]).exit_code == 0
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(entry.action, entry.actor, entry.actor_id) for entry in entries] == [
        ("user.create", "cli", None), ("token.create", "cli", None)]
    assert entries[0].after == {"email": "grit@nord.example", "role": "group_admin", "group": "nord"}
    assert entries[1].after["user"] == "grit@nord.example"


def test_db_upgrade_builds_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "cli-test-secret"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=environment,
                   check=True, capture_output=True)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"practices", "licences", "reminders", "delivery_reports", "audit_log", "alembic_version"} <= tables


def test_the_migrations_match_the_models(app):
    """A model changed without a migration would fail here, on SQLite and PostgreSQL alike."""
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []
