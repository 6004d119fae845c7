"""member email: whose reply address an unmatched email was sent to

Revision ID: 0011_replies_token_person
Revises: 0010_member_email
Create Date: 2026-11-29 05:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011_replies_token_person"
down_revision: str | Sequence[str] | None = "0010_member_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_person_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_message_token_person_id_person", "person", ["token_person_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint("fk_message_token_person_id_person", type_="foreignkey")
        batch_op.drop_column("token_person_id")
