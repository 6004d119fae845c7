"""inbound texts answered by the worker: the text as sent, until its turn reads it

The webhook stores a text and answers Twilio at once; the worker answers the text. The body is
stored with any phone number or email masked (those are a volunteer's friends'), so a text whose
masking changed it also keeps the text as sent, encrypted, only until its turn reads it. The
partial index serves the worker's look for texts waiting to be answered.

Revision ID: 0020_inbound_answered_by_worker
Revises: 0019_inbound_answered
Create Date: 2026-11-30 00:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0020_inbound_answered_by_worker"
down_revision: str | Sequence[str] | None = "0019_inbound_answered"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNANSWERED = sa.text("direction = 'inbound' AND channel = 'sms' AND answered_at IS NULL")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_as_sent", sa.Text(), nullable=True))
    op.create_index(
        "ix_message_unanswered",
        "message",
        ["id"],
        postgresql_where=UNANSWERED,
        sqlite_where=UNANSWERED,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_message_unanswered", table_name="message")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("body_as_sent")
