"""The organizers who use the web console, their invitations, the inbox threads they answer,
and the audit log of what they do."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models.base import Base, EncryptedText, utcnow


class Organizer(Base):
    """A console user. `role` is admin, organizer or viewer; `session_version` changes when
    their sessions must end (a new password, a role change, removal). With two-factor sign-in
    on, `totp_secret` is their authenticator's key, `totp_last_step` the time step of the last
    code they used (a code is good once), and `recovery_codes` the digests of the one-time
    codes they have left."""

    __tablename__ = "organizer"
    __table_args__ = (UniqueConstraint("organization_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)  # encrypted at rest, as bodies are
    totp_last_step: Mapped[int | None]
    recovery_codes: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class Invitation(Base):
    """A one-time link an admin made for a new organizer: only the token's digest is kept."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(12))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One organizer action (append-only): who, what, when, and from which address."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_organization_at", "organization_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320), default="")  # the email given, kept if they are removed
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Thread(Base):
    """One person's talk-back thread in the console inbox, whatever the channel: the texts (and,
    later, emails) the flows did not handle land here, and organizers answer, assign and close
    it. A new message the flows cannot handle opens it again. The conversation shown around it is
    every message to and from the person's addresses."""

    __tablename__ = "thread"
    __table_args__ = (
        UniqueConstraint("organization_id", "person_id"),
        Index("ix_thread_inbox", "organization_id", "status", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | done
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    # Something in it reads as a slur or abuse: organizers see a warning before opening it.
    flagged: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(String(8), default="sms")  # of the latest message kept
    last_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
