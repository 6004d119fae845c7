"""email sign-ups name the person who asked and their confirmation email

An address joins the person only when the sign-up is confirmed, so a sign-up keeps who asked
(`person_id`) until then, and the confirmation it queued (`confirmation_id`), which a DELETE
takes back; a phone number typed on /join is kept only as a note on it (`phone_note`).
Existing sign-ups are given the person their address has now.

Revision ID: 0012_email_signup_person
Revises: 0011_replies_token_person
Create Date: 2026-11-29 05:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012_email_signup_person"
down_revision: str | Sequence[str] | None = "0011_replies_token_person"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("email_signup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("confirmation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("phone_note", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_email_signup_person_id", ["person_id"])
        batch_op.create_foreign_key(
            "fk_email_signup_person_id_person", "person", ["person_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            "fk_email_signup_confirmation_id_message",
            "message",
            ["confirmation_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(
        "UPDATE email_signup SET person_id = "
        "(SELECT address.person_id FROM address WHERE address.id = email_signup.address_id)"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("email_signup", schema=None) as batch_op:
        batch_op.drop_constraint("fk_email_signup_confirmation_id_message", type_="foreignkey")
        batch_op.drop_constraint("fk_email_signup_person_id_person", type_="foreignkey")
        batch_op.drop_index("ix_email_signup_person_id")
        batch_op.drop_column("phone_note")
        batch_op.drop_column("confirmation_id")
        batch_op.drop_column("person_id")
