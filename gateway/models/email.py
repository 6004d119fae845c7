"""Member email: organizer mailings, email sign-ups waiting for their confirmation, and the
provider's delivery events (kept by id, so a retried webhook is a no-op)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models.base import Base, utcnow


class Mailing(Base):
    """An organizer's email to an audience of email-opted-in members. Its messages carry
    `mailing_id`; `planned` is the count the organizer confirmed, `excluded` the counts by
    reason when it was queued."""

    __tablename__ = "mailing"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    audience: Mapped[str] = mapped_column(String(80))  # all | team:CODE | event:ID
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown, as the organizer wrote it
    status: Mapped[str] = mapped_column(String(12), default="sending")  # sending | done
    planned: Mapped[int] = mapped_column(default=0)
    excluded: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320), default="")  # who sent it (console or CLI)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class EmailSignup(Base):
    """Someone asked to get email (a text `EMAIL addr`, or the /join page). Nothing is sent to
    the address but the one confirmation email until they confirm it; confirming records the
    email opt-in, with this request as its evidence."""

    __tablename__ = "email_signup"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id", ondelete="CASCADE"), index=True)
    # Who asked (the texter, or the person the form made): the address becomes theirs only when
    # it is confirmed, and only if no one has it by then. None once that person is gone, and a
    # sign-up for no one cannot be confirmed; a confirmed one stays, as the opt-in's evidence.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # sms | join
    # The text that asked (source sms); the form's consent sentence is kept in `detail`.
    evidence_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(400), default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    # A phone number typed on /join, in E.164: a note for organizers, unverified. It is never an
    # address of anyone's (a web form proves nothing about a phone) and never a consent to texts.
    phone_note: Mapped[str | None] = mapped_column(String(20))
    # The confirmation email, taken back if the sign-up is withdrawn before it goes.
    confirmation_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))


class ProviderEvent(Base):
    """A provider's delivery event already processed, by the provider's own event id."""

    __tablename__ = "provider_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
