"""`kindred organizer create EMAIL --role ROLE`: a console account, from the terminal."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from gateway.community import audit, organization, organizers
from gateway.extensions import db


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
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    org = organization.default()
    try:
        organizer = organizers.create(org, email, password, role, name)
    except organizers.OrganizerError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(org, "organizer_created", actor="kindred organizer create", email=organizer.email, role=role)
    db.session.commit()
    click.echo(f"{organizer.email} can sign in at /console/login as {role}")
