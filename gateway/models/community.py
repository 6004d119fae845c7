"""The relational work: friends, prompts and reports, follow-ups, teams and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models.base import Base, utcnow


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
    # The last report was "not interested" or a tense talk: the next idea leads with listening.
    listen_first: Mapped[bool] = mapped_column(default=False)


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
    # The volunteer whose IDEA this prompt was adopted from, credited in the library.
    credited_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]


class Tip(Base):
    """A short piece of coaching for hard conversations in the organization's library, sent one
    at a time to a volunteer who texts TIPS (CONSEJOS in Spanish)."""

    __tablename__ = "tip"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    key: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]


class TipUse(Base):
    """A tip was sent to a volunteer: the next TIPS sends one they have had fewer times."""

    __tablename__ = "tip_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tip.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Idea(Base):
    """A conversation idea a volunteer texted in (`IDEA ...`), waiting for an organizer to adopt
    it into the library (credited to them) or dismiss it. `told_at` is when the volunteer was
    told it was adopted, by reply to their next text."""

    __tablename__ = "idea"
    __table_args__ = (Index("ix_idea_queue", "organization_id", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | adopted | dismissed
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompt.id", ondelete="SET NULL"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    told_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PromptRound(Base):
    """A prompt round: one personalized conversation idea to each opted-in volunteer in an
    audience, the only way an organizer starts texts. Its messages carry `round_id`.
    `planned` is the count the organizer confirmed, `excluded` the counts by reason at send."""

    __tablename__ = "prompt_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    audience: Mapped[str] = mapped_column(String(80))  # all | team:CODE | stage:STAGE | inactive:WEEKS
    # starting (console: the worker has not checked it yet) | sending | paused | cancelled | done
    # | changed (the count was not the one confirmed: nothing sent)
    status: Mapped[str] = mapped_column(String(12), default="sending")
    planned: Mapped[int] = mapped_column(default=0)
    excluded: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320), default="")  # who started it (console or CLI)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


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
    __table_args__ = (Index("ix_conversation_report_week", "organization_id", "reported_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    friend_id: Mapped[int] = mapped_column(ForeignKey("friend.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    learned: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    lead: Mapped[bool] = mapped_column(default=False)  # made a lead by an organizer: may propose events
    lead_told_at: Mapped[datetime | None]  # when the new lead was told, in the reply to their next text
    evidence_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    """An event. Organizers list them; a team lead proposes one by text (`EVENT NEW ...`), which
    waits as `proposed` until an organizer approves it (then `listed`, to that team only) or
    declines it. `team_id` empty: for the whole organization."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    title: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    location: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(12), default="listed")  # listed | proposed | declined
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"), index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    proposal_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("organizer.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    proposer_told_at: Mapped[datetime | None]  # when the proposer was told it was approved or declined
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]


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
