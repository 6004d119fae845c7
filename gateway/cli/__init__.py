"""The `kindred` command: a Flask CLI group, one module per group of commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from gateway import create_app, logs
from gateway.cli import db, demo, events, export, mail, org, organizer, prompts, rounds, seed, worker
from gateway.config import ConfigError

# The commands that work on a configured app: all but `demo`, which makes its own configuration.
CONFIGURED = (
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
)


class KindredGroup(FlaskGroup):
    """Flask's command group, with every command on the group itself: `kindred --help` lists
    them all without loading the app, so it works before anything is configured. A command
    loads the app (and its configuration) when it runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)


@click.group(cls=KindredGroup, create_app=create_app, add_default_commands=False)
def cli() -> None:
    """Kindred: relational organizing over SMS."""
    logs.configure()


cli.add_command(demo.demo)
for _command in CONFIGURED:
    cli.add_command(_command)


def init_app(app: Flask) -> None:
    """Add the commands that work on a configured app to its own CLI too (`app.cli`, which
    Flask's test runner invokes)."""
    for command in CONFIGURED:
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the `kindred` console script. A configuration that is missing or wrong
    is said in one line, not a traceback."""
    try:
        cli(prog_name="kindred")
    except ConfigError as exc:
        raise SystemExit(f"kindred: {exc}") from None


if __name__ == "__main__":
    main()
