"""organizers may sign in with a second factor (TOTP), and an organization may require it of admins

Each organizer gets their authenticator's key (`totp_secret`, none until they set it up), the
time step of the last code they used (`totp_last_step`, so a code is good once), and the digests
of their unused recovery codes (`recovery_codes`); each organization a switch that requires two-
factor sign-in of its admins (`require_admin_two_factor`, off).

Revision ID: 0013_organizer_two_factor
Revises: 0012_email_signup_person
Create Date: 2026-11-29 07:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013_organizer_two_factor"
down_revision: str | Sequence[str] | None = "0012_email_signup_person"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))  # encrypted (EncryptedText)
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recovery_codes", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("require_admin_two_factor", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("require_admin_two_factor")
    with op.batch_alter_table("organizer", schema=None) as batch_op:
        batch_op.drop_column("recovery_codes")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
