"""event reminders: each RSVP links the reminder sent for it

Revision ID: 0003_event_reminders
Revises: 0002_conversations
Create Date: 2026-11-22 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003_event_reminders"
down_revision: str | Sequence[str] | None = "0002_conversations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("rsvp", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_message_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_rsvp_reminder_message_id_message"),
            "message",
            ["reminder_message_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("rsvp", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_rsvp_reminder_message_id_message"), type_="foreignkey")
        batch_op.drop_column("reminder_message_id")
