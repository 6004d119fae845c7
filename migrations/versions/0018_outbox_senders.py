"""the outbox's senders: two priorities, and the moment a claimed send called the provider

Each message gets `priority` (0: a reply to a person's own text; 1: a message the system starts,
such as a prompt round, a follow-up or a reminder), and an index the senders claim the next due
message by; messages already queued get the priority of their reason. It also gets
`called_at`: when the send it is claimed for called the provider (none: not yet), so a claim
whose worker died before calling is queued again, and one that called is never sent twice.

Revision ID: 0018_outbox_senders
Revises: 0017_undeliverable_numbers
Create Date: 2026-11-29 17:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0018_outbox_senders"
down_revision: str | Sequence[str] | None = "0017_undeliverable_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The reasons of messages the system starts, as gateway.delivery.outbox.INITIATED_REASONS named
# them when this migration was written.
INITIATED = ("follow_up", "reminder", "team_relay", "organizer", "prompt_round", "mailing")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("called_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_message_due", ["status", "priority", "id"], unique=False)
    message = sa.table(
        "message",
        sa.column("priority", sa.SmallInteger()),
        sa.column("reason", sa.String()),
        sa.column("status", sa.String()),
        sa.column("called_at"),
        sa.column("updated_at"),
    )
    queued = message.c.status == "queued"  # the priority only orders what is still to send
    op.execute(message.update().where(queued, message.c.reason.in_(INITIATED)).values(priority=1))
    # A send in flight at the upgrade may have called the provider: it is never sent again.
    op.execute(message.update().where(message.c.status == "sending").values(called_at=message.c.updated_at))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_due")
        batch_op.drop_column("called_at")
        batch_op.drop_column("priority")
