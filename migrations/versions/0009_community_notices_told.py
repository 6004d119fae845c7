"""community: when a new team lead, and a lead whose proposed event was reviewed, were told

Revision ID: 0009_community_notices_told
Revises: 0008_console_organize
Create Date: 2026-11-29 00:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009_community_notices_told"
down_revision: str | Sequence[str] | None = "0008_console_organize"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("team_member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_told_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposer_told_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("proposer_told_at")
    with op.batch_alter_table("team_member", schema=None) as batch_op:
        batch_op.drop_column("lead_told_at")
