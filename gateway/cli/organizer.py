"""`kindred organizer ...`: console accounts from the terminal (create, password, set-role,
two-factor-off, disable); each change but create ends the account's sessions."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask.cli import with_appcontext

from gateway.community import audit, organization, organizers
from gateway.extensions import db
from gateway.models import Organizer


@click.group("organizer")
def organizer_group() -> None:
    """Console accounts for organizers."""


@organizer_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(organizers.ROLES), required=True, help="What they may do.")
@click.option("--name", default="", help="How the console names them.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input, not a prompt.")
@with_appcontext
def create(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create a console account for EMAIL; the password is asked for, never an argument."""
    password = _read_password(password_stdin)
    org = organization.default()
    try:
        organizer = organizers.create(org, email, password, role, name)
    except organizers.OrganizerError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(org, "organizer_created", actor="kindred organizer create", email=organizer.email, role=role)
    db.session.commit()
    click.echo(f"{organizer.email} can sign in at /console/login as {role}")


@organizer_group.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input, not a prompt.")
@with_appcontext
def password(email: str, password_stdin: bool) -> None:
    """Give EMAIL a new password; every session of theirs ends."""
    _change(
        email,
        "password_changed",
        lambda account: organizers.set_password(account, _read_password(password_stdin)),
    )


@organizer_group.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(organizers.ROLES))
@with_appcontext
def set_role(email: str, role: str) -> None:
    """Give EMAIL another role; every session of theirs ends."""
    _change(email, "role_changed", lambda account: organizers.set_role(account, role), role=role)


@organizer_group.command("two-factor-off")
@click.argument("email")
@with_appcontext
def two_factor_off(email: str) -> None:
    """Turn off EMAIL's two-factor sign-in (a lost phone, and its recovery codes with it); every
    session of theirs ends."""
    _change(email, "two_factor_disabled", organizers.disable_two_factor)


@organizer_group.command("disable")
@click.argument("email")
@with_appcontext
def disable(email: str) -> None:
    """Stop EMAIL from signing in; every session of theirs ends."""
    _change(email, "organizer_disabled", organizers.disable)


def _change(email: str, action: str, change: Callable[[Organizer], None], **detail: str) -> None:
    org = organization.default()
    account = organizers.find(org, email)
    if account is None:
        raise click.ClickException(f"no account for {email}")
    try:
        change(account)
    except organizers.OrganizerError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(org, action, actor="kindred organizer", email=account.email, **detail)
    db.session.commit()
    click.echo(f"{account.email}: done; their sessions have ended")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)
