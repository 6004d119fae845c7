"""The organization, the people it serves, their addresses and the consent ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.models.base import Base, utcnow


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
    # A line of the organization's own added to HELP replies ("Office hours Mon-Fri 9-5.").
    help_text: Mapped[str] = mapped_column(String(160), default="")
    # The organization's names for the ladder stages, by stage key ({"open": "Curious"}); a
    # stage not named here keeps its default label. Shown in the console.
    stage_labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Admins must sign in with a second factor (TOTP); one without is sent to set it up first.
    require_admin_two_factor: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("organization_id", "referral_code"),
        Index("ix_person_volunteers", "organization_id", "volunteer_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(80))
    timezone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    volunteer_since: Mapped[datetime | None]
    referral_code: Mapped[str | None] = mapped_column(String(12))  # "Text JOIN K7Q2 to ..."
    referred_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    # When they last texted (or wrote) in: "active this week" and retention are read from it.
    last_active_at: Mapped[datetime | None]
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
    # Set when the provider said the number cannot get texts (not a mobile, invalid, a
    # landline): nothing is sent to it until it texts in, which clears it.
    undeliverable_since: Mapped[datetime | None]
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
