"""Alembic environment: runs on the connection gateway.migrate hands over."""

from __future__ import annotations

from alembic import context

from gateway.models import Base, UTCDateTime
from gateway.models.base import EncryptedText


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render Kindred's UTC timestamps as plain timezone-aware DateTime, and encrypted text as
    the text it is stored in, so revisions never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EncryptedText):
        return "sa.Text()"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `kindred db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
