"""`kindred export KIND`: CSV to standard output."""

from __future__ import annotations

import getpass
import socket
import sys

import click
from flask.cli import with_appcontext

from gateway.community import audit, exports, organization
from gateway.extensions import begin_reading, db


@click.command("export")
@click.argument("kind", type=click.Choice(sorted(exports.EXPORTS)))
@with_appcontext
def export(kind: str) -> None:
    """Write KIND as CSV to standard output."""
    # Exports carry people's numbers: the audit log says who took one, before any row leaves.
    audit.record(organization.default(), "export", actor=f"{_user()} (command line)", ip=_host(), kind=kind)
    db.session.commit()
    begin_reading()  # `kindred export ... | less` must not hold up incoming texts
    exports.write_csv(kind, sys.stdout)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unknown user"


def _host() -> str:
    return socket.gethostname()[:64]
