"""`kindred seed-demo --volunteers N`: realistic fake volunteers, friends, reports, texts, teams,
events, inbox threads and email addresses, to explore or show the organizer console. Nothing is
sent; the phone numbers are fictional (+1 555) and the email addresses at example.org."""

from __future__ import annotations

import random

import click
from flask.cli import with_appcontext

from gateway import clock
from gateway.community import organization, seeding
from gateway.extensions import begin_reading, db

DEFAULT_SEED = 2026  # the same data every time unless asked otherwise, so screenshots repeat


@click.command("seed-demo")
@click.option("--volunteers", required=True, type=click.IntRange(1, 100_000), help="How many to add.")
@click.option("--seed", "seed", default=DEFAULT_SEED, show_default=True, help="Random seed.")
@with_appcontext
def seed_demo(volunteers: int, seed: int) -> None:
    """Add VOLUNTEERS fake volunteers, with their networks and texts, for a demo."""
    org = organization.default()
    db.session.commit()
    # Made while only reading, then written in one short transaction: on SQLite the texts and
    # the worker arriving meanwhile wait for that write only.
    begin_reading()
    rng = random.Random(seed)  # noqa: S311 (fake data, repeatable on purpose)
    made = seeding.plan(org, volunteers, rng, clock.now())
    db.session.rollback()
    seeding.write(org, made)
    db.session.commit()
    # Fresh statistics, so the database plans the console's queries for the rows just added
    # (PostgreSQL would otherwise assume a handful until autovacuum gets to them).
    with db.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    counts = made.counts()
    click.echo(
        f"seeded {counts['volunteers']} volunteers, {counts['friends']} friends, "
        f"{counts['reports']} reports, {counts['messages']} messages, {counts['teams']} teams "
        f"({counts['team_members']} members), {counts['events']} events ({counts['rsvps']} RSVPs), "
        f"{counts['threads']} inbox threads, {counts['ideas']} ideas to review, "
        f"{counts['opt_outs']} opt-outs, "
        f"{counts['emails']} email addresses ({counts['email_opt_ins']} confirmed)"
    )
