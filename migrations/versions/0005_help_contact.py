"""HELP contact: drop the placeholder contact older versions stored

Organizations created before HELP named the number to text stored the default contact
"reply to this number", which the new HELP would print as if it were an address.

Revision ID: 0005_help_contact
Revises: 0004_early_status
Create Date: 2026-11-28 19:30:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_help_contact"
down_revision: str | Sequence[str] | None = "0004_early_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACEHOLDER = "reply to this number"


def upgrade() -> None:
    """Clear the placeholder contact."""
    op.execute(f"UPDATE organization SET contact = '' WHERE contact = '{PLACEHOLDER}'")  # noqa: S608 (a constant)


def downgrade() -> None:
    """Nothing to undo: an empty contact reads correctly in the old HELP's place too."""
