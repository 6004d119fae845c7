"""The `kindred` command: a Flask CLI group, one module per group of commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from gateway import create_app, logs
from gateway.cli import db, demo, events, export, mail, org, organizer, prompts, rounds, seed, worker


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def cli() -> None:
    """Kindred: relational organizing over SMS."""
    logs.configure()


cli.add_command(demo.demo)


def init_app(app: Flask) -> None:
    """Add the commands that work on a configured app (all but `demo`) to its CLI."""
    for command in (
        db.db_group,
        worker.worker,
        export.export,
        prompts.prompts_group,
        rounds.rounds_group,
        mail.mail_group,
        org.org_group,
        events.events_group,
        organizer.organizer_group,
        seed.seed_demo,
    ):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the `kindred` console script."""
    cli(prog_name="kindred")


if __name__ == "__main__":
    main()
