"""The database: SQLAlchemy 2.0 typed models.

Models hold data and small derived facts only; they never import the app or enqueue jobs.
Timestamps are stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship
from sqlalchemy.types import TypeDecorator


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


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    contact: Mapped[str] = mapped_column(String(200), default="")
    frequency: Mapped[str] = mapped_column(String(80), default="About 3 msgs/week")
    interests: Mapped[list[str]] = mapped_column(default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    phone: Mapped[str] = mapped_column(String(20), default="")  # the number volunteers text
    # Messages the organization starts: local calling window (hours) and per-person caps.
    window_start_hour: Mapped[int] = mapped_column(default=9)
    window_end_hour: Mapped[int] = mapped_column(default=20)
    daily_cap: Mapped[int] = mapped_column(default=1)
    weekly_cap: Mapped[int] = mapped_column(default=4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("organization_id", "referral_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(80))
    timezone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    volunteer_since: Mapped[datetime | None]
    referral_code: Mapped[str | None] = mapped_column(String(12))  # "Text JOIN K7Q2 to ..."
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    addresses: Mapped[list[Address]] = relationship(back_populates="person")


class Address(Base):
    """A phone number (E.164) or an email address, on one channel, of one person."""

    __tablename__ = "address"
    __table_args__ = (UniqueConstraint("organization_id", "channel", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    value: Mapped[str] = mapped_column(String(320))
    # Set when the person asked to erase their data: once nothing is left to send, the value is
    # replaced by its keyed digest, which is all that is kept to honour their opt-out.
    pending_erasure: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person | None] = relationship(back_populates="addresses")


class ConsentEvent(Base):
    """Append-only consent ledger: the latest event for an address and channel decides."""

    __tablename__ = "consent_event"
    __table_args__ = (Index("ix_consent_event_address_latest", "address_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id"))
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(8))  # opt_in | opt_out
    source: Mapped[str] = mapped_column(String(40))  # sms_keyword, provider_error, ...
    detail: Mapped[str] = mapped_column(String(200), default="")
    evidence_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Friend(Base):
    """Someone a volunteer listed. Never contacted; contact details only as keyed digests."""

    __tablename__ = "friend"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    relationship: Mapped[str] = mapped_column(String(16), default="other")
    interests: Mapped[list[str]] = mapped_column(default=list)
    stage: Mapped[str] = mapped_column(String(16), default="listed")
    joined_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_prompted_at: Mapped[datetime | None]
    last_reported_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]


class FriendContactDigest(Base):
    """HMAC of a phone number or email a volunteer gave for a friend, for referral matching."""

    __tablename__ = "friend_contact_digest"

    id: Mapped[int] = mapped_column(primary_key=True)
    friend_id: Mapped[int] = mapped_column(ForeignKey("friend.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)


class Prompt(Base):
    """A conversation idea in the organization's library."""

    __tablename__ = "prompt"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    key: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    stages: Mapped[list[str]] = mapped_column(default=list)
    interests: Mapped[list[str]] = mapped_column(default=list)
    relationships: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PromptUse(Base):
    """A prompt was sent to a volunteer about a friend."""

    __tablename__ = "prompt_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    friend_id: Mapped[int] = mapped_column(ForeignKey("friend.id", ondelete="CASCADE"), index=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompt.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationReport(Base):
    __tablename__ = "conversation_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    friend_id: Mapped[int] = mapped_column(ForeignKey("friend.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    learned: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    __table_args__ = (Index("ix_message_outbox", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(40), default="")  # reply, help, opt_out_confirmation, ...
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    needs_attention: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
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


class FollowUp(Base):
    """A re-prompt the volunteer asked for ("remind me Friday")."""

    __tablename__ = "follow_up"
    __table_args__ = (Index("ix_follow_up_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    friend_id: Mapped[int | None] = mapped_column(ForeignKey("friend.id", ondelete="SET NULL"))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | done | cancelled
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Team(Base):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("organization_id", "join_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    name: Mapped[str] = mapped_column(String(60))
    join_code: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMember(Base):
    """A volunteer on a team. Joining by text is the evidence of their wish for team updates;
    `muted` is their way out of them."""

    __tablename__ = "team_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    muted: Mapped[bool] = mapped_column(default=False)
    evidence_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    title: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    location: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rsvp(Base):
    """A volunteer's answer to an event. `reminder_message_id` is the reminder sent for it, so
    every reminder says which event it is for."""

    __tablename__ = "rsvp"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="yes")  # yes | no
    reminded_at: Mapped[datetime | None]
    reminder_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
