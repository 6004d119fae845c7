"""starter library: existing organizations receive the starter ideas they do not have yet

A new organization is seeded with the whole starter library (gateway/data/prompts.json). One
created before the library grew from 36 ideas to 274 gets the ideas whose keys it does not have;
an idea it has, edited or retired by its organizers, stays as they left it. The schema is
unchanged.

Revision ID: 0015_starter_library
Revises: 0014_message_privacy
Create Date: 2026-11-29 08:00:00.000000

"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015_starter_library"
down_revision: str | Sequence[str] | None = "0014_message_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

prompt = sa.table(
    "prompt",
    sa.column("organization_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("body", sa.Text),
    sa.column("stages", sa.JSON),
    sa.column("interests", sa.JSON),
    sa.column("relationships", sa.JSON),
    sa.column("language", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    """Add the starter ideas each organization lacks, by key."""
    connection = op.get_bind()
    # The shipped data file, read as data: a revision imports no application code.
    starters = json.loads(resources.files("gateway").joinpath("data/prompts.json").read_text("utf-8"))
    now = datetime.now(UTC)
    for (org_id,) in connection.execute(sa.text("SELECT id FROM organization ORDER BY id")):
        have = set(
            connection.execute(sa.select(prompt.c.key).where(prompt.c.organization_id == org_id)).scalars()
        )
        rows = [
            {
                "organization_id": org_id,
                "key": item["key"],
                "body": item["body"],
                "stages": item.get("stages", []),
                "interests": item.get("interests", []),
                "relationships": item.get("relationships", []),
                "language": item.get("language", "en"),
                "active": True,
                "created_at": now,
            }
            for item in starters
            if item["key"] not in have
        ]
        if rows:
            connection.execute(prompt.insert(), rows)


def downgrade() -> None:
    """The ideas stay, as ordinary library rows the older version reads too, except those naming
    {event}: it cannot fill that placeholder, so they are retired (organizers may restore them
    after upgrading again)."""
    op.execute(prompt.update().where(prompt.c.body.contains("{event}", autoescape=True)).values(active=False))
