"""`kindred export KIND`: CSV to standard output."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from gateway.community import exports
from gateway.extensions import begin_reading


@click.command("export")
@click.argument("kind", type=click.Choice(sorted(exports.EXPORTS)))
@with_appcontext
def export(kind: str) -> None:
    """Write KIND as CSV to standard output."""
    begin_reading()  # `kindred export ... | less` must not hold up incoming texts
    exports.write_csv(kind, sys.stdout)
