"""Replies need the vendor's reply number: `config check` says when it is missing, the development stack sets one."""

import devstack
from portal import config

REPLY_NUMBER = "+4915799912345"


def test_config_check_notes_a_missing_reply_number_without_failing(runner, app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGEBIRD_REPLY_NUMBER", None)
    done = runner.invoke(args=["config", "check"])
    assert done.exit_code == 0, done.output
    assert "MESSAGEBIRD_REPLY_NUMBER=\n" in done.stdout
    assert done.stderr.startswith("note: MESSAGEBIRD_REPLY_NUMBER is not set: reminders of practices with replies")


def test_config_check_shows_the_reply_number(runner, app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGEBIRD_REPLY_NUMBER", REPLY_NUMBER)
    done = runner.invoke(args=["config", "check"])
    assert done.exit_code == 0 and f"MESSAGEBIRD_REPLY_NUMBER={REPLY_NUMBER}\n" in done.stdout
    assert "MESSAGEBIRD_REPLY_NUMBER" not in done.stderr


def test_the_development_stack_sends_replies_from_a_sandbox_number(monkeypatch, tmp_path):
    for name in ("MESSAGEBIRD_ENDPOINT", "MESSAGEBIRD_REPLY_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(devstack, "INSTANCE", tmp_path)
    env = devstack.child_environment(devstack.parse_args([]))
    assert config.reply_number(env["MESSAGEBIRD_REPLY_NUMBER"]) == devstack.SANDBOX_REPLY_NUMBER

    monkeypatch.setenv("MESSAGEBIRD_ENDPOINT", "https://rest.messagebird.com")
    assert "MESSAGEBIRD_REPLY_NUMBER" not in devstack.child_environment(devstack.parse_args([]))
