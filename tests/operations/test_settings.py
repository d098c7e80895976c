"""Settings are read and checked once: a malformed one stops every process, naming it."""
import subprocess
import sys
from pathlib import Path

import pytest

from portal import config, create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def environment(monkeypatch, tmp_path):
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'settings.sqlite'}")
    monkeypatch.setenv("SECRET_KEY", "a production secret")
    return monkeypatch


MALFORMED = [
    ("MESSAGEBIRD_TIMEOUT", "ten"),
    ("MESSAGEBIRD_TIMEOUT", "1,2,3"),
    ("MESSAGEBIRD_TIMEOUT", "0"),
    ("MESSAGEBIRD_ENDPOINT", "rest.example.com"),
    ("MESSAGEBIRD_REPLY_NUMBER", "+49 157 HELLO"),
    ("MESSAGEBIRD_REPLY_NUMBER", "12345"),
    ("PUBLIC_BASE_URL", "http://reminders.example.com"),  # production needs https
    ("PUBLIC_BASE_URL", "reminders.example.com"),
    ("RETENTION_DAYS", "ninety"),
    ("RETENTION_DAYS", "0"),
    ("RETENTION_DAYS", "1e999"),
    ("PROXY_HOPS", "-1"),
    ("LOG_FORMAT", "xml"),
    ("LOG_LEVEL", "LOUD"),
    ("PORTAL_ENV", "staging"),
    ("REDIS_URL", "localhost:6379"),
    ("DATABASE_URL", "portal.sqlite"),
    ("SEND_BATCH_SIZE", "2.5"),
    ("SEND_MAX_ATTEMPTS", "0"),
    ("DISPATCH_INTERVAL_SECONDS", "soon"),
    ("CLAIM_STALE_SECONDS", "-5"),
    ("SEND_RETRY_BASE_SECONDS", "nan"),
    ("PROMETHEUS_MULTIPROC_DIR", "/nonexistent/metrics"),
]


@pytest.mark.parametrize("name,value", MALFORMED)
def test_a_malformed_setting_is_refused_by_name(environment, name, value):
    environment.setenv(name, value)
    with pytest.raises(config.Invalid) as refused:
        create_app()
    assert refused.value.problems and all(problem.startswith(f"{name}:") for problem in refused.value.problems)


@pytest.mark.parametrize("value", ["+4915712345678", "4915712345678"])
def test_the_reply_number_is_kept_in_international_format(environment, value):
    environment.setenv("MESSAGEBIRD_REPLY_NUMBER", value)
    assert create_app().config["MESSAGEBIRD_REPLY_NUMBER"] == "+4915712345678"


@pytest.mark.parametrize("value,expected", [("10", (10.0, 10.0)), ("3.05,20", (3.05, 20.0)), (" 2 , 7 ", (2.0, 7.0))])
def test_the_provider_timeout_is_one_number_or_connect_and_read(environment, value, expected):
    environment.setenv("MESSAGEBIRD_TIMEOUT", value)
    assert create_app().config["MESSAGEBIRD_TIMEOUT"] == expected


def test_production_accepts_https_and_a_loopback_address_for_local_runs(environment):
    environment.setenv("PUBLIC_BASE_URL", "https://reminders.example.com/")
    assert create_app().config["PUBLIC_BASE_URL"] == "https://reminders.example.com"
    environment.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    assert create_app().config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_sending_knobs_come_from_the_environment_parsed(environment):
    environment.setenv("SEND_BATCH_SIZE", "20")
    environment.setenv("SEND_RETRY_BASE_SECONDS", "0.5")
    app = create_app()
    assert app.config["SEND_BATCH_SIZE"] == 20 and app.config["SEND_RETRY_BASE_SECONDS"] == 0.5


def flask(*args, env, tmp_path, timeout=60):
    base = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
            "REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "s3cret-production-key"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env={**base, **env}, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("command", [["worker", "--burst"], ["reminders", "dispatch"], ["db", "upgrade"]])
def test_every_process_refuses_to_start_naming_the_variable(tmp_path, command):
    done = flask(*command, env={"MESSAGEBIRD_ENDPOINT": "rest.example.com"}, tmp_path=tmp_path)
    assert done.returncode != 0
    assert "MESSAGEBIRD_ENDPOINT" in done.stderr and "Traceback" not in done.stderr


def test_gunicorn_refuses_to_start_naming_the_variable(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0", "wsgi:app"], cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "k", "MESSAGEBIRD_TIMEOUT": "10s",
             "DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}"},
        capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "MESSAGEBIRD_TIMEOUT" in done.stderr


def test_config_check_prints_the_settings_masked_and_names_each_problem(tmp_path):
    done = flask("config", "check", tmp_path=tmp_path, env={
        "MESSAGEBIRD_TIMEOUT": "10s", "LOG_FORMAT": "xml", "MESSAGEBIRD_ACCESS_KEY": "live_abcdef123456",
        "DATABASE_URL": "postgresql+psycopg://portal:hunter22@db.example/portal"})
    assert done.returncode == 1
    assert "MESSAGEBIRD_ACCESS_KEY=****" in done.stdout and "live_abcdef123456" not in done.stdout
    assert "hunter22" not in done.stdout and "DATABASE_URL=postgresql+psycopg://portal:****@db.example" in done.stdout
    problems = [line for line in done.stderr.splitlines() if line.startswith("problem:")]
    assert [line.split()[1] for line in problems] == ["MESSAGEBIRD_TIMEOUT:", "LOG_FORMAT:"]


def test_config_check_passes_on_good_settings(tmp_path):
    done = flask("config", "check", tmp_path=tmp_path, env={"MESSAGEBIRD_TIMEOUT": "5"})
    assert done.returncode == 0, done.stderr
    assert "MESSAGEBIRD_TIMEOUT=5,5" in done.stdout
