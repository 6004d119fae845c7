"""`kindred organizer ...`: console accounts from the terminal (create, invite, password,
set-role, two-factor-off, disable), in the first organization or the one `--org SLUG` names;
each change but create and invite ends the account's sessions."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from gateway import clock
from gateway.cli.actor import actor, host
from gateway.cli.org import chosen, org_option
from gateway.community import audit, organizers
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
@org_option
@with_appcontext
def create(email: str, role: str, name: str, password_stdin: bool, org_slug: str | None) -> None:
    """Create a console account for EMAIL; the password is asked for, never an argument."""
    password = _read_password(password_stdin)
    org = chosen(org_slug)
    try:
        organizer = organizers.create(org, email, password, role, name)
    except organizers.OrganizerError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(org, "organizer_created", actor="kindred organizer create", email=organizer.email, role=role)
    db.session.commit()
    click.echo(f"{organizer.email} can sign in at /console/login as {role}")


@organizer_group.command("invite")
@click.argument("email")
@click.option("--role", type=click.Choice(organizers.ROLES), required=True, help="What they may do.")
@org_option
@with_appcontext
def invite(email: str, role: str, org_slug: str | None) -> None:
    """Print a one-time link for EMAIL to choose a password and join the organization as ROLE
    (it works once, for three days); send it to them yourself."""
    org = chosen(org_slug)
    try:
        token = organizers.invite(org, email, role, None, clock.now())
    except organizers.OrganizerError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(
        org, "invitation_made", actor=actor(), ip=host(), email=organizers.normalize_email(email), role=role
    )
    db.session.commit()
    with current_app.test_request_context():  # the link's path, as the console names it
        path = url_for("console.accept_invitation", token=token)
    click.echo(f"{current_app.config['PUBLIC_BASE_URL']}{path}")


@organizer_group.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input, not a prompt.")
@org_option
@with_appcontext
def password(email: str, password_stdin: bool, org_slug: str | None) -> None:
    """Give EMAIL a new password; every session of theirs ends."""
    _change(
        org_slug,
        email,
        "password_changed",
        lambda account: organizers.set_password(account, _read_password(password_stdin)),
    )


@organizer_group.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(organizers.ROLES))
@org_option
@with_appcontext
def set_role(email: str, role: str, org_slug: str | None) -> None:
    """Give EMAIL another role; every session of theirs ends."""
    _change(org_slug, email, "role_changed", lambda account: organizers.set_role(account, role), role=role)


@organizer_group.command("two-factor-off")
@click.argument("email")
@org_option
@with_appcontext
def two_factor_off(email: str, org_slug: str | None) -> None:
    """Turn off EMAIL's two-factor sign-in (a lost phone, and its recovery codes with it); every
    session of theirs ends."""
    _change(org_slug, email, "two_factor_disabled", organizers.disable_two_factor)


@organizer_group.command("disable")
@click.argument("email")
@org_option
@with_appcontext
def disable(email: str, org_slug: str | None) -> None:
    """Stop EMAIL from signing in; every session of theirs ends."""
    _change(org_slug, email, "organizer_disabled", organizers.disable)


def _change(
    org_slug: str | None, email: str, action: str, change: Callable[[Organizer], None], **detail: str
) -> None:
    org = chosen(org_slug)
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
