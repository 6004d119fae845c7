"""message bodies are encrypted at rest, and messages are indexed by age for retention

Every stored message body is encrypted under the key derived from SECRET_KEY (see
gateway.keys and gateway.models.base.EncryptedText); downgrading decrypts them again. The
column stays text. Runs in batches, so a large message table is not held in memory. The index
on created_at lets the sweep find bodies past MESSAGE_RETENTION_DAYS without reading them all.

Revision ID: 0014_message_privacy
Revises: 0013_organizer_two_factor
Create Date: 2026-11-29 07:30:00.000000

"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from flask import current_app

from gateway.keys import fernet
from gateway.models.base import ENCRYPTED_PREFIX, encrypt

# revision identifiers, used by Alembic.
revision: str = "0014_message_privacy"
down_revision: str | Sequence[str] | None = "0013_organizer_two_factor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
message = sa.table("message", sa.column("id", sa.Integer), sa.column("body", sa.Text))


def _rewrite(wanted: sa.ColumnElement[bool], change: Callable[[str], str]) -> None:
    """Rewrite the bodies `wanted` selects with `change`, in batches of BATCH ids."""
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(message.c.id, message.c.body)
            .where(message.c.id > last, message.c.body != "", wanted)
            .order_by(message.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for id_, body in rows:
            connection.execute(message.update().where(message.c.id == id_).values(body=change(body)))
        last = rows[-1][0]


def upgrade() -> None:
    """Encrypt every message body stored in the clear; index messages by age."""
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index("ix_message_created_at", ["created_at"])
    config = current_app.config
    _rewrite(message.c.body.not_like(f"{ENCRYPTED_PREFIX}%"), lambda body: encrypt(body, config))


def downgrade() -> None:
    """Decrypt every message body; drop the index by age."""
    keys = fernet(current_app.config)
    _rewrite(
        message.c.body.like(f"{ENCRYPTED_PREFIX}%"),
        lambda body: keys.decrypt(body[len(ENCRYPTED_PREFIX) :].encode()).decode(),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_created_at")
