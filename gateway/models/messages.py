"""Messages in and out (the outbox), their delivery history, and conversation state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    and_,
    exists,
    text,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from gateway.models.base import Base, EncryptedText, utcnow
from gateway.models.people import Address

_UNANSWERED = text("direction = 'inbound' AND channel = 'sms' AND answered_at IS NULL")


class FlowSession(Base):
    """Where the SMS conversation with one person stands."""

    __tablename__ = "flow_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime | None]


class Message(Base):
    """One text or email, in or out. Outbound rows are the outbox: committed as `queued`, then
    sent by the worker; `reason` says why the system sent it."""

    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_outbox", "status", "next_attempt_at"),
        Index("ix_message_due", "status", "priority", "id"),  # the sender's next claim
        Index("ix_message_round", "round_id", "status"),
        # The worker's look for inbound texts waiting to be answered.
        Index("ix_message_unanswered", "id", postgresql_where=_UNANSWERED, sqlite_where=_UNANSWERED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id"), index=True)
    body: Mapped[str] = mapped_column(EncryptedText, default="")  # encrypted at rest
    # Email only: the subject, and the RFC 5322 Message-ID header (ours for outbound mail, the
    # sender's for inbound; replies thread on it).
    subject: Mapped[str] = mapped_column(String(200), default="")
    header_id: Mapped[str | None] = mapped_column(String(255), index=True)
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(40), default="")  # reply, help, opt_out_confirmation, ...
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    needs_attention: Mapped[bool] = mapped_column(default=False)
    # The organizer who wrote it, for answers sent from the console inbox.
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    # The prompt round this message is part of (reason "prompt_round").
    round_id: Mapped[int | None] = mapped_column(ForeignKey("prompt_round.id", ondelete="SET NULL"))
    # The organizer mailing this email is part of (reason "mailing").
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailing.id", ondelete="SET NULL"), index=True)
    # Unmatched email sent with a person's reply address by someone else: whose address it was.
    token_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # Which outbound messages go first: 0 for replies to a person's own text, 1 for those the
    # system starts itself (rounds, follow-ups, reminders), so a round never delays an answer.
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(default=0)
    # When the send this message is claimed for called the provider (None: not yet). A claim
    # whose worker died before the call is queued again; one that called is never sent again.
    called_at: Mapped[datetime | None]
    # An inbound text: when its turn answered it, or it was kept for an organizer instead (none:
    # stored by the webhook, waiting for the worker to answer it).
    answered_at: Mapped[datetime | None]
    # An inbound text whose masking changed it: the text as sent, only until its turn reads it.
    body_as_sent: Mapped[str | None] = mapped_column(EncryptedText)
    next_attempt_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # retention finds old ones
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    address: Mapped[Address] = relationship()
    history: Mapped[list[MessageStatusEvent]] = relationship(
        order_by="MessageStatusEvent.id", cascade="all, delete-orphan"
    )


class MessageStatusEvent(Base):
    """One step of a message's delivery history. (message, status) is unique, so a retried
    provider callback is a no-op."""

    __tablename__ = "message_status_event"
    __table_args__ = (UniqueConstraint("message_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # outbox | provider
    at: Mapped[datetime] = mapped_column(default=utcnow)


class EarlyStatus(Base):
    """A provider status callback that arrived before the send that caused it was recorded
    (the provider can be faster than our commit). Applied when the send is recorded."""

    __tablename__ = "early_status"
    __table_args__ = (UniqueConstraint("provider_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


def waiting_answer(message: Any = Message) -> ColumnElement[bool]:
    """Whether a message (the model, or an alias of it) is an inbound text that waits for the
    worker to answer it (the partial index ix_message_unanswered serves it)."""
    return and_(message.direction == "inbound", message.channel == "sms", message.answered_at.is_(None))


def text_waiting_from(address_id: Any) -> ColumnElement[bool]:
    """Whether a text from the address (an id, a parameter or a column) waits to be answered:
    it may be a STOP, so what Kindred would start waits behind it."""
    theirs = aliased(Message)
    return exists().where(theirs.address_id == address_id, waiting_answer(theirs))
