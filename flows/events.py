"""The plain data that goes into and comes out of the conversation logic.

The gateway turns a stored inbound message and what the database knows about its sender into
these values, calls :func:`flows.engine.respond`, and applies the returned effects and replies
in one transaction. Nothing here knows about HTTP, SQL or queues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

RELATIONSHIPS = ("family", "friend", "neighbor", "coworker", "classmate", "community", "other")
STAGES = ("listed", "talked", "open", "committed", "joined")
OUTCOMES = ("committed", "open", "undecided", "not_interested", "not_reached")
# What friends care about, until an organization edits its own list.
DEFAULT_INTERESTS = (
    "healthcare",
    "schools",
    "housing",
    "jobs",
    "climate",
    "prices",
    "safety",
    "voting",
    "immigration",
    "childcare",
    "transit",
    "seniors",
)
# The country whose national phone numbers a text is read as giving (the DEFAULT_REGION setting).
DEFAULT_REGION = "US"


class Consent(StrEnum):
    """Where the sender's latest consent event on this channel leaves them."""

    UNKNOWN = "unknown"
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


class EmailStatus(StrEnum):
    """Where one of the volunteer's email addresses stands on the email channel."""

    WAITING = "waiting"  # asked for email, not confirmed yet
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class ReplyKind(StrEnum):
    """Why a reply exists; the outbox's consent guard treats the compliance kinds specially."""

    REPLY = "reply"
    OPT_IN_REQUEST = "opt_in_request"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    HELP = "help"
    # Messages the system starts itself: they need an opt-in on record and are paced.
    FOLLOW_UP = "follow_up"
    REMINDER = "reminder"
    TEAM_RELAY = "team_relay"


@dataclass(frozen=True)
class Inbound:
    """One text a volunteer sent."""

    text: str
    received_at: datetime
    media_count: int = 0


@dataclass(frozen=True)
class Organization:
    """What the replies say about the organization running this number."""

    name: str
    contact: str
    frequency: str = "About 3 msgs/week"
    interests: tuple[str, ...] = DEFAULT_INTERESTS
    phone: str = ""  # the number volunteers text, for invitations
    help_text: str = ""  # a line of the organization's own added to HELP replies
    region: str = DEFAULT_REGION  # where national phone numbers in texts are read as from


@dataclass(frozen=True)
class Friend:
    """A person in the volunteer's life, as the volunteer described them."""

    id: int
    name: str
    relationship: str = "other"
    interests: tuple[str, ...] = ()
    stage: str = "listed"
    added_at: datetime | None = None
    last_prompted_at: datetime | None = None
    last_reported_at: datetime | None = None
    snoozed_until: datetime | None = None
    used_prompt_ids: frozenset[int] = frozenset()
    listen_first: bool = False  # the last talk was hard: the next idea leads with listening


@dataclass(frozen=True)
class Prompt:
    """A conversation idea from the prompt library; empty targeting tuples match anything."""

    id: int
    body: str
    stages: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    relationships: tuple[str, ...] = ()
    language: str = "en"


@dataclass(frozen=True)
class TipView:
    """A coaching tip for hard conversations from the organization's library, and how many
    times the volunteer was sent it."""

    id: int
    body: str
    language: str = "en"
    times_sent: int = 0


@dataclass(frozen=True)
class State:
    """Where the conversation with one volunteer stands between two texts."""

    step: str = "new"
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def to_dict(self) -> dict[str, Any]:
        """The state as JSON-ready data, for storing in a flow session."""
        return {"step": self.step, "data": dict(self.data)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> State:
        """The state stored by :meth:`to_dict`; an empty or missing record is a new conversation."""
        if not raw:
            return cls()
        return cls(step=str(raw.get("step", "new")), data=raw.get("data") or {})


@dataclass(frozen=True)
class Context:
    """What the flows need to know about the sender and the world to answer one text."""

    organization: Organization
    now: datetime
    consent: Consent = Consent.UNKNOWN
    name: str | None = None
    friends: tuple[Friend, ...] = ()
    prompts: Sequence[Prompt] = ()  # read when first looked at (gateway.community.prompts.Library)
    language: str = "en"
    timezone: str = "America/New_York"  # the volunteer's, for "remind me Friday"
    joined_at: datetime | None = None
    referral_code: str | None = None  # the volunteer's own, for INVITE
    report_count: int = 0
    team: TeamView | None = None  # the team the volunteer is on
    joining: TeamView | None = None  # the team whose join code this text gives ("TEAM JOIN K7Q2X")
    new_team_code: str | None = None  # an unused join code, when this text starts a team
    zip_timezone: str | None = None  # the time zone of the ZIP code this text gives ("ZIP 94110")
    events: tuple[EventView, ...] = ()  # the next few upcoming events, soonest first
    ideas_shared: int = 0  # conversation ideas the volunteer texted in (IDEA ...), kept
    notices: tuple[Notice, ...] = ()  # news from the organizers not yet told (see flows/notices.py)
    emails: tuple[EmailView, ...] = ()  # the volunteer's own email addresses (EMAIL, MYDATA)
    email_on: bool = True  # whether this deployment sends email at all (EMAIL)
    opt_out_confirmed_at: datetime | None = None  # when an opt-out was last confirmed to this number
    # The active coaching tips, in both languages, when the text asks for one (TIPS): those sent
    # fewest times first (never sent, first of all), then in the library's order.
    tips: tuple[TipView, ...] = ()

    @property
    def local_now(self) -> datetime:
        """Now on the volunteer's clock."""
        return self.now.astimezone(ZoneInfo(self.timezone))


@dataclass(frozen=True)
class Reply:
    """A text to send back to the sender."""

    body: str
    kind: ReplyKind = ReplyKind.REPLY


# Effects. A friend is referred to by its id, or, for one added by the same text, by the
# `key` its AddFriend effect carries.
FriendRef = int | str


@dataclass(frozen=True)
class RecordConsent:
    """Append an opt-in or opt-out to the consent ledger; the inbound text is the evidence."""

    kind: str  # "opt_in" | "opt_out"
    reason: str  # the keyword or phrase that carried it


@dataclass(frozen=True)
class SetName:
    """Remember the volunteer's first name."""

    name: str


@dataclass(frozen=True)
class AddFriend:
    """Record a friend. `contacts` are phone numbers (E.164) or emails the volunteer typed; the
    gateway keeps only keyed digests of them and never messages them."""

    key: str
    name: str
    relationship: str = "other"
    interests: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetInterests:
    """Replace what a friend is known to care about."""

    friend: FriendRef
    interests: tuple[str, ...]


@dataclass(frozen=True)
class MarkPrompted:
    """The reply carries prompt `prompt_id` for `friend`; never suggest it for them again."""

    friend: FriendRef
    prompt_id: int


@dataclass(frozen=True)
class LogReport:
    """A conversation happened (or was tried): record it and move the friend along the ladder."""

    friend: FriendRef
    outcome: str
    learned: str
    tags: tuple[str, ...] = ()
    new_stage: str | None = None
    # "Not interested" or a tense talk: the next idea for the friend leads with listening.
    listen_first: bool = False


@dataclass(frozen=True)
class MarkTipSent:
    """The reply carries coaching tip `tip_id`: the next TIPS sends one the volunteer has had
    fewer times."""

    tip_id: int


@dataclass(frozen=True)
class ScheduleFollowUp:
    """Text the volunteer again at `at` (UTC) with an idea, about `friend` if given."""

    at: datetime
    friend: FriendRef | None = None


@dataclass(frozen=True)
class SnoozeFriend:
    """Don't suggest `friend` before `until` (UTC)."""

    friend: FriendRef
    until: datetime


@dataclass(frozen=True)
class ForgetFriend:
    """Delete a friend and everything recorded about them."""

    friend: FriendRef


@dataclass(frozen=True)
class EraseVolunteer:
    """Erase the volunteer's data, keeping only what honours their opt-out."""


@dataclass(frozen=True)
class Referred:
    """The volunteer joined with someone's personal code ("JOIN K7Q2")."""

    code: str


@dataclass(frozen=True)
class KeepForInbox:
    """The text was not understood; an organizer should read it."""

    reason: str


@dataclass(frozen=True)
class TeamView:
    """A team, as a volunteer on it (or about to join it) sees it."""

    id: int
    name: str
    code: str
    size: int  # members, the volunteer included if they are on it
    member_names: tuple[str, ...] = ()  # the other members' first names ("" if not given)
    # Teammates an update would reach: joined by their own text, not muted, opted in.
    listeners: int = 0
    muted: bool = False  # the volunteer paused team updates
    updates_today: int = 0  # team updates the volunteer sent in the last 24 hours
    lead: bool = False  # an organizer made the volunteer a lead of this team
    lead_names: tuple[str, ...] = ()  # the team's leads' first names, the volunteer excluded


@dataclass(frozen=True)
class EventView:
    """An upcoming event; `starts_at` is on the organization's clock (timezone-aware)."""

    id: int
    title: str
    starts_at: datetime
    location: str = ""
    going: bool = False  # the volunteer said they'll come
    full: bool = False  # as many said they'd come as the event has places


@dataclass(frozen=True)
class EmailView:
    """One of the volunteer's own email addresses (lower-cased) and where it stands."""

    address: str
    status: EmailStatus


class NoticeKind(StrEnum):
    """News from the organizers a volunteer hears once, in the reply to their next text."""

    LEAD = "lead"  # they were made a lead of their team
    EVENT_APPROVED = "event_approved"  # the event they proposed is listed to their team
    EVENT_DECLINED = "event_declined"  # the event they proposed was declined
    IDEA_ADOPTED = "idea_adopted"  # a conversation idea they shared is in the library now


@dataclass(frozen=True)
class Notice:
    """One piece of news to tell: `subject` is the team's name or the event's title, `ref` the
    record it is about (the membership or the event), for marking it told."""

    kind: NoticeKind
    subject: str
    ref: int


@dataclass(frozen=True)
class CreateTeam:
    """Start a team with this join code and put the volunteer on it (leaving any other team);
    their text is the evidence that they want team updates."""

    name: str
    code: str


@dataclass(frozen=True)
class JoinTeam:
    """Put the volunteer on a team (leaving any other); their text is the evidence that they
    want team updates."""

    team_id: int


@dataclass(frozen=True)
class LeaveTeam:
    """Take the volunteer off their team."""


@dataclass(frozen=True)
class MuteTeam:
    """Pause (or resume) the team updates the volunteer gets."""

    muted: bool


@dataclass(frozen=True)
class RelayTeamUpdate:
    """Send the sender's `text` to each teammate who gets team updates (never the sender), one
    paced team_relay message each, in reply to the sender's text. Each copy reads
    "Sam (Block Walkers): text" (:func:`flows.teams.relay_body`); any framing words (a sender
    without a name is "A teammate") are in that recipient's language."""

    text: str
    team: str
    sender: str | None = None


@dataclass(frozen=True)
class RecordRsvp:
    """The volunteer will (or won't) come to an event."""

    event_id: int
    going: bool = True


@dataclass(frozen=True)
class ProposeEvent:
    """A team lead proposes an event for their team; it waits for an organizer's approval.
    `starts_at` is timezone-aware; their text is kept as the proposal."""

    title: str
    starts_at: datetime
    location: str = ""


@dataclass(frozen=True)
class NoticesTold:
    """These notices were added to this turn's reply: never tell them again."""

    notices: tuple[Notice, ...]


@dataclass(frozen=True)
class SetLanguage:
    """Write to the volunteer in `language` ("en" or "es") from now on: they chose it
    (ESPAÑOL, ENGLISH) or wrote in it."""

    language: str


@dataclass(frozen=True)
class SetTimezone:
    """Time the volunteer's messages by `timezone` (an IANA name), e.g. from the ZIP they gave."""

    timezone: str


@dataclass(frozen=True)
class ShareIdea:
    """Queue a conversation idea the volunteer texted in (contacts already masked) for an
    organizer to adopt into the library or dismiss; the inbound text is linked to it."""

    text: str


@dataclass(frozen=True)
class SignUpForEmail:
    """The volunteer asked for email at `address` (lower-cased): send it the one confirmation
    email. Only confirming that email records the email opt-in; the inbound text is the
    evidence of the request."""

    address: str


Effect = (
    RecordConsent
    | SetName
    | AddFriend
    | SetInterests
    | MarkPrompted
    | LogReport
    | MarkTipSent
    | KeepForInbox
    | ScheduleFollowUp
    | SnoozeFriend
    | ForgetFriend
    | EraseVolunteer
    | Referred
    | CreateTeam
    | JoinTeam
    | LeaveTeam
    | MuteTeam
    | RelayTeamUpdate
    | RecordRsvp
    | ProposeEvent
    | NoticesTold
    | SetLanguage
    | SetTimezone
    | ShareIdea
    | SignUpForEmail
)


@dataclass(frozen=True)
class Outcome:
    """The answer to one inbound text."""

    state: State
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
