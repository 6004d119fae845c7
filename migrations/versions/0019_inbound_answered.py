"""an inbound text's answer: when its turn answered it

`answered_at` is set in the transaction of the turn that answers an inbound text (or keeps it
for an organizer instead). A text stored by a request that died before answering it is left
without one, and Twilio's retry of it or the sweeper answers it then, once. Texts already
stored count as answered.

Revision ID: 0019_inbound_answered
Revises: 0018_outbox_senders
Create Date: 2026-11-29 21:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019_inbound_answered"
down_revision: str | Sequence[str] | None = "0018_outbox_senders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
    message = sa.table(
        "message",
        sa.column("direction", sa.String()),
        sa.column("answered_at"),
        sa.column("created_at"),
    )
    inbound = message.c.direction == "inbound"
    op.execute(message.update().where(inbound).values(answered_at=message.c.created_at))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
