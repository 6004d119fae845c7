"""`kindred events ...`: events volunteers can RSVP to by text."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from gateway.community import events, organization
from gateway.extensions import db


@click.group("events")
def events_group() -> None:
    """Events volunteers can RSVP to by text."""


@events_group.command("add")
@click.argument("title")
@click.option(
    "--at",
    "starts_at",
    required=True,
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="When it starts, on the organization's clock, e.g. 2026-12-03T18:30.",
)
@click.option("--location", default="", help="Where, as volunteers should read it.")
@with_appcontext
def events_add(title: str, starts_at: datetime, location: str) -> None:
    """Add an event called TITLE."""
    org = organization.default()
    event = events.add_event(org, title, starts_at, location)
    db.session.commit()
    click.echo(f"event {event.id}: {events.describe(event, org)}")


@events_group.command("list")
@with_appcontext
def events_list() -> None:
    """List upcoming events with how many said they'd come."""
    org = organization.default()
    for event, going in events.upcoming_with_counts(org):
        click.echo(f"{event.id}\t{events.describe(event, org)}\t{going} going")
