"""The declarative base: naming conventions, UTC timestamps handled once, in the type map, and
text encrypted at rest."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import JSON, DateTime, MetaData, Text
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

from gateway import keys

log = logging.getLogger(__name__)

MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER primary key holds on PostgreSQL


def row_id(raw: str) -> int | None:
    """A row id given as text (in a URL, a provider's callback), or None if it can be no id:
    not plain digits, or past what the column holds (PostgreSQL refuses to compare with that)."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_ROW_ID))):
        return None
    return int(raw) if 0 < int(raw) <= MAX_ROW_ID else None


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ENCRYPTED_PREFIX = "enc1:"
UNREADABLE = "[unreadable: encrypted under a key no longer configured]"


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted (Fernet: AES-128-CBC with an HMAC-SHA256, under a key derived from
    SECRET_KEY, see gateway.keys) and read back in the clear. Empty text stays empty. A value
    without the prefix is one written before encryption was turned on and is read as it is;
    the migration that added encryption encrypted every such row. The database cannot compare
    or search what it holds: compare in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if not value:
            return value
        return encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if not value or not value.startswith(ENCRYPTED_PREFIX):
            return value
        try:
            return keys.fernet().decrypt(value[len(ENCRYPTED_PREFIX) :].encode()).decode()
        except InvalidToken:
            log.exception("stored text cannot be decrypted: SECRET_KEY changed without SECRET_KEY_PREVIOUS?")
            return UNREADABLE


def encrypt(value: str, config: Any = None) -> str:
    """`value` as EncryptedText stores it, under the running app's key (or `config`'s)."""
    return ENCRYPTED_PREFIX + keys.fernet(config).encrypt(value.encode()).decode()


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON},
    )
