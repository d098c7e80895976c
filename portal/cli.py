"""Command line (`flask --app wsgi ...`): users and tokens; jobs add their own."""
import sys

import click
from flask import Flask
from sqlalchemy import select

from .access import Principal
from .audit import record
from .credentials import issue_personal_token
from .extensions import db
from .models import ROLES, PracticeGroup, User

users = click.Group("users", help="Manage portal users.")
tokens = click.Group("tokens", help="Manage personal API tokens.")


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--group", "group_slug", help="The practice group (group_admin only).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, role: str, group_slug: str | None, password_stdin: bool) -> None:
    """Create a user with a role; group admins need --group."""
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise click.ClickException(f"a user {email} exists already")
    group = _group_for(role, group_slug)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    if len(password) < 10:
        raise click.ClickException("the password must have at least 10 characters")
    user = User(email=email, role=role, group=group)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(Principal(user=user), "user.create", user, after={"email": email, "role": role, "group": group_slug})
    db.session.commit()
    click.echo(f"created {role} {email}")


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
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise click.ClickException(f"no user {email}")
    token, secret = issue_personal_token(user, label)
    db.session.flush()
    record(Principal(user=user), "token.create", token, after={"prefix": token.prefix, "label": label})
    db.session.commit()
    click.echo(secret)


def register(app: Flask) -> None:
    from jobs.cli import register as register_job_commands

    app.cli.add_command(users)
    app.cli.add_command(tokens)
    register_job_commands(app)
