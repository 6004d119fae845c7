"""a number the provider says cannot get texts is not tried again until it texts in

Each address gets `undeliverable_since` (none): set when the provider refuses a text to it, or
reports it undelivered, with an error that means it cannot get texts (Twilio 21211, 21614,
30006); cleared when it texts in.

Revision ID: 0017_undeliverable_numbers
Revises: 0016_coaching_tips
Create Date: 2026-11-29 11:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017_undeliverable_numbers"
down_revision: str | Sequence[str] | None = "0016_coaching_tips"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undeliverable_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.drop_column("undeliverable_since")
