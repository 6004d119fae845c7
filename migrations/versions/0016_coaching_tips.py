"""coaching tips: a library of tips for hard conversations, which tips each volunteer was sent,
and friends whose next idea leads with listening

Creates `tip` (an organization's coaching tips, by key and language) and `tip_use` (a tip sent
to a volunteer), and adds `friend.listen_first` (their last report was "not interested" or a
tense talk). Each existing organization gets the starter tips (gateway/data/tips.json), as a
new one does. Downgrading drops them; the texts that carried them stay in the message history.

Revision ID: 0016_coaching_tips
Revises: 0015_starter_library
Create Date: 2026-11-29 11:00:00.000000

"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016_coaching_tips"
down_revision: str | Sequence[str] | None = "0015_starter_library"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

tip = sa.table(
    "tip",
    sa.column("organization_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("body", sa.Text),
    sa.column("language", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    """Create the tip library and its uses, mark friends to approach by listening, and give
    each organization the starter tips."""
    op.create_table(
        "tip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organization.id"], name=op.f("fk_tip_organization_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip")),
        sa.UniqueConstraint("organization_id", "key", name=op.f("uq_tip_organization_id_key")),
    )
    op.create_table(
        "tip_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_tip_use_person_id_person"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["tip.id"], name=op.f("fk_tip_use_tip_id_tip"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_use")),
    )
    with op.batch_alter_table("tip_use", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tip_use_person_id"), ["person_id"], unique=False)
    with op.batch_alter_table("friend", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("listen_first", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    connection = op.get_bind()
    # The shipped data file, read as data: a revision imports no application code.
    starters = json.loads(resources.files("gateway").joinpath("data/tips.json").read_text("utf-8"))
    now = datetime.now(UTC)
    for (org_id,) in connection.execute(sa.text("SELECT id FROM organization ORDER BY id")):
        rows = [
            {
                "organization_id": org_id,
                "key": item["key"],
                "body": item["body"],
                "language": item.get("language", "en"),
                "active": True,
                "created_at": now,
            }
            for item in starters
        ]
        if rows:
            connection.execute(tip.insert(), rows)


def downgrade() -> None:
    """Drop the tip library, its uses and the friends' listen-first marks."""
    with op.batch_alter_table("friend", schema=None) as batch_op:
        batch_op.drop_column("listen_first")
    with op.batch_alter_table("tip_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tip_use_person_id"))
    op.drop_table("tip_use")
    op.drop_table("tip")
