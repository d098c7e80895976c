"""Command line (`flask --app wsgi ...`): users and tokens; jobs add their own."""
import sys
from dataclasses import dataclass

import click
from flask import Flask, current_app
from sqlalchemy import select

from . import administration, config
from .access import Principal
from .extensions import db
from .models import ROLES, PracticeGroup

users = click.Group("users", help="Manage portal users.")
tokens = click.Group("tokens", help="Manage personal API tokens.")
config_commands = click.Group("config", help="The settings from the environment.")


@dataclass(frozen=True)
class CommandLine(Principal):
    """The operator at the command line: may do what a vendor admin may; audited as "cli"."""

    @property
    def role(self) -> str:
        return "vendor_admin"

    @property
    def label(self) -> str:
        return "cli"


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--group", "group_slug", help="The practice group (group_admin only).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, role: str, group_slug: str | None, password_stdin: bool) -> None:
    """Create a user with a role; group admins need --group."""
    group = _group_for(role, group_slug)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    if len(password) < 10:
        raise click.ClickException("the password must have at least 10 characters")
    try:
        user = administration.create_user(CommandLine(), email, role, group, password)
    except administration.Invalid as error:
        db.session.rollback()
        raise click.ClickException("; ".join(f"{item['field']}: {item['message']}" for item in error.errors))
    click.echo(f"created {user.role} {user.email}")


def _group_for(role: str, slug: str | None) -> PracticeGroup | None:
    if role != "group_admin":
        if slug:
            raise click.ClickException("--group is only for group_admin")
        return None
    if not slug:
        raise click.ClickException("a group_admin needs --group SLUG")
    group = db.session.scalars(select(PracticeGroup).where(PracticeGroup.slug == slug)).first()
    if group is None:
        raise click.ClickException(f"no practice group {slug}")
    return group


@tokens.command("create")
@click.argument("email")
@click.option("--label", help="What the token is for.")
def create_token(email: str, label: str | None) -> None:
    """Print a new personal API token for EMAIL (shown once)."""
    user = administration.user_by_email(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    _token, secret = administration.issue_token(CommandLine(), user, label)
    click.echo(secret)


@config_commands.command("check")
def check_config() -> None:
    """Print the effective settings (secrets masked); exit 1 naming each malformed one."""
    for name, value in config.effective(current_app.config):
        click.echo(f"{name}={value}")
    if not current_app.config["MESSAGEBIRD_REPLY_NUMBER"]:
        # Not a problem (replies are off by default), but a practice that switches them on gets no answers.
        click.echo("note: MESSAGEBIRD_REPLY_NUMBER is not set: reminders of practices with replies switched on "
                   "go out from their sender name, without the reply line", err=True)
    problems = current_app.config["CONFIG_PROBLEMS"]
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise SystemExit(1)


def register(app: Flask) -> None:
    from jobs.cli import register as register_job_commands

    app.cli.add_command(users)
    app.cli.add_command(tokens)
    app.cli.add_command(config_commands)
    register_job_commands(app)
