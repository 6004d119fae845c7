"""The database: SQLAlchemy 2.0 typed models, split by area.

Models hold data and small derived facts only; they never import the app or enqueue jobs.
Timestamps are stored in UTC (the type map in `base` does it once).
"""

from gateway.models.base import Base, UTCDateTime, utcnow
from gateway.models.community import (
    ConversationReport,
    Event,
    FollowUp,
    Friend,
    FriendContactDigest,
    Idea,
    Prompt,
    PromptRound,
    PromptUse,
    Rsvp,
    Team,
    TeamMember,
    Tip,
    TipUse,
)
from gateway.models.console import AuditEntry, Invitation, Organizer, Thread
from gateway.models.email import EmailSignup, Mailing, ProviderEvent
from gateway.models.messages import (
    EarlyStatus,
    FlowSession,
    Message,
    MessageStatusEvent,
    text_waiting_from,
    waiting_answer,
)
from gateway.models.people import Address, ConsentEvent, Organization, Person

__all__ = [
    "Address",
    "AuditEntry",
    "Base",
    "ConsentEvent",
    "ConversationReport",
    "EarlyStatus",
    "EmailSignup",
    "Event",
    "FlowSession",
    "FollowUp",
    "Friend",
    "FriendContactDigest",
    "Idea",
    "Invitation",
    "Mailing",
    "Message",
    "MessageStatusEvent",
    "Organization",
    "Organizer",
    "Person",
    "Prompt",
    "PromptRound",
    "PromptUse",
    "ProviderEvent",
    "Rsvp",
    "Team",
    "TeamMember",
    "Thread",
    "Tip",
    "TipUse",
    "UTCDateTime",
    "text_waiting_from",
    "utcnow",
    "waiting_answer",
]
