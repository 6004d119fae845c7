"""member email: mailings, email sign-ups, provider events, and email fields of messages

Revision ID: 0010_member_email
Revises: 0009_community_notices_told
Create Date: 2026-11-29 04:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010_member_email"
down_revision: str | Sequence[str] | None = "0009_community_notices_told"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "mailing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["organizer.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mailing_organization_id", "mailing", ["organization_id"])
    op.create_table(
        "email_signup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("evidence_message_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=400), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["address_id"], ["address.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["evidence_message_id"], ["message.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_email_signup_address_id", "email_signup", ["address_id"])
    op.create_table(
        "provider_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_provider_event_message_id", "provider_event", ["message_id"])
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("header_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("mailing_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_message_header_id", ["header_id"])
        batch_op.create_index("ix_message_mailing_id", ["mailing_id"])
        batch_op.create_foreign_key(
            "fk_message_mailing_id_mailing", "mailing", ["mailing_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint("fk_message_mailing_id_mailing", type_="foreignkey")
        batch_op.drop_index("ix_message_mailing_id")
        batch_op.drop_index("ix_message_header_id")
        batch_op.drop_column("mailing_id")
        batch_op.drop_column("header_id")
        batch_op.drop_column("subject")
    op.drop_index("ix_provider_event_message_id", table_name="provider_event")
    op.drop_table("provider_event")
    op.drop_index("ix_email_signup_address_id", table_name="email_signup")
    op.drop_table("email_signup")
    op.drop_index("ix_mailing_organization_id", table_name="mailing")
    op.drop_table("mailing")
