"""`kindred export KIND [--org SLUG]`: one organization's CSV to standard output."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from gateway.cli.actor import actor, host
from gateway.cli.org import chosen, org_option
from gateway.community import audit, exports
from gateway.extensions import begin_reading, db


@click.command("export")
@click.argument("kind", type=click.Choice(sorted(exports.EXPORTS)))
@org_option
@with_appcontext
def export(kind: str, org_slug: str | None) -> None:
    """Write the organization's KIND as CSV to standard output."""
    org = chosen(org_slug)
    # Exports carry people's numbers: the audit log says who took one, before any row leaves.
    audit.record(org, "export", actor=actor(), ip=host(), kind=kind)
    db.session.commit()
    begin_reading()  # `kindred export ... | less` must not hold up incoming texts
    exports.write_csv(org, kind, sys.stdout)
