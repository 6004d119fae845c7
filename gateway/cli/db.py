"""`kindred db ...`: migrations (the Procfile's release line runs `kindred db upgrade`)."""

from __future__ import annotations

from types import ModuleType

import click
from flask.cli import with_appcontext

from gateway.community import organization
from gateway.extensions import db


@click.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: head) and make sure the organization exists."""
    migrate = migrations()
    migrate.upgrade(revision)
    organization.default()
    db.session.commit()
    click.echo(f"database at {migrate.current() or 'base'}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Downgrade the database to REVISION ("base" removes every table)."""
    migrate = migrations()
    migrate.downgrade(revision)
    click.echo(f"database at {migrate.current() or 'base'}")


def migrations() -> ModuleType:
    """gateway.migrate, imported only when a command needs it: Alembic takes some 12 MB that
    every web and worker process (which build the app, and so this CLI) would hold for nothing."""
    from gateway import migrate

    return migrate
