"""Events: the upcoming events a volunteer sees, as the flows see them, RSVPs, adding and
editing events (the console and the `kindred events` command), and the events team leads
propose by text, which organizers approve or decline. Reminders are in gateway/sms/scheduled.py.

An event is `listed` (volunteers see it and get reminders), `proposed` (waiting for an
organizer) or `declined`. A listed event with a team is for that team's members only; without
one, for the whole organization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import aliased

from flows import events as ev
from gateway import clock
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import Address, Event, Message, Organization, Organizer, Person, Rsvp, Team, TeamMember

UPCOMING = 5  # how many events EVENTS lists
MAX_TITLE = 120
MAX_LOCATION = 200
MAX_AHEAD = timedelta(days=5 * 366)  # further is a typo in the year


class EventStatus(StrEnum):
    LISTED = "listed"
    PROPOSED = "proposed"
    DECLINED = "declined"


class EventError(Exception):
    """An organizer's or a lead's change that cannot be made (the message says why)."""


def _going() -> ColumnElement[int]:
    return func.count(Rsvp.id).filter(Rsvp.status == "yes")


def visible_to(person: Person) -> ColumnElement[bool]:
    """The condition for events `person` sees: listed, for everyone or for their own team."""
    team = select(TeamMember.team_id).where(TeamMember.person_id == person.id).scalar_subquery()
    return and_(Event.status == EventStatus.LISTED, or_(Event.team_id.is_(None), Event.team_id == team))


def upcoming(org: Organization, person: Person, now: datetime) -> tuple[ev.EventView, ...]:
    """The next few events `person` may see, soonest first, marked with whether they said
    they'd come and whether the event is full."""
    rows = db.session.execute(
        select(Event, _going())
        .outerjoin(Rsvp, Rsvp.event_id == Event.id)
        .where(Event.organization_id == org.id, Event.starts_at > now, visible_to(person))
        .group_by(Event.id)
        .order_by(Event.starts_at, Event.id)
        .limit(UPCOMING)
    ).all()
    going = set(
        db.session.scalars(
            select(Rsvp.event_id).where(
                Rsvp.person_id == person.id,
                Rsvp.status == "yes",
                Rsvp.event_id.in_([event.id for event, _ in rows]),
            )
        )
    )
    return tuple(
        view(event, org, event.id in going, full=event.capacity is not None and count >= event.capacity)
        for event, count in rows
    )


def view(event: Event, org: Organization, going: bool = False, full: bool = False) -> ev.EventView:
    """An event as the flows see it, on the organization's clock."""
    return ev.EventView(
        id=event.id,
        title=event.title,
        starts_at=event.starts_at.astimezone(ZoneInfo(org.timezone)),
        location=event.location,
        going=going,
        full=full,
    )


def add_event(org: Organization, title: str, starts_at: datetime, location: str = "") -> Event:
    """Add an event (the caller commits); a naive `starts_at` is on the organization's clock."""
    if starts_at.tzinfo is None:
        starts_at = starts_at.replace(tzinfo=ZoneInfo(org.timezone))
    event = Event(organization_id=org.id, title=title.strip()[:120], starts_at=starts_at, location=location)
    db.session.add(event)
    db.session.flush()
    return event


def upcoming_with_counts(org: Organization) -> list[tuple[Event, int]]:
    """Every upcoming event, soonest first, with how many said they'd come (for organizers)."""
    rows = db.session.execute(
        select(Event, _going())
        .outerjoin(Rsvp, Rsvp.event_id == Event.id)
        .where(
            Event.organization_id == org.id,
            Event.starts_at > clock.now(),
            Event.status == EventStatus.LISTED,
        )
        .group_by(Event.id)
        .order_by(Event.starts_at, Event.id)
    )
    return [(event, count) for event, count in rows]


def describe(event: Event, org: Organization) -> str:
    """One line for organizers: "2026-12-03 18:30 EST Community Forum @ Eastside Library"."""
    starts_at = event.starts_at.astimezone(ZoneInfo(org.timezone))
    where = f" @ {event.location}" if event.location else ""
    return f"{starts_at:%Y-%m-%d %H:%M %Z} {event.title}{where}"


def record_rsvp(org: Organization, event_id: int, person: Person, going: bool, now: datetime) -> None:
    """`person` says they will (or won't) come to the organization's event `event_id`."""
    event = db.session.get(Event, event_id)
    if event is None or event.organization_id != org.id:
        raise LookupError(f"event {event_id} is not one of this organization's")
    status = "yes" if going else "no"
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.person_id == person.id))
    if rsvp is None:
        db.session.add(Rsvp(event_id=event.id, person_id=person.id, status=status, created_at=now))
    elif rsvp.status != status:
        # A changed mind is a new answer: the reminder rules go by when it was given.
        rsvp.status = status
        rsvp.created_at = now


def on_org_clock(org: Organization, local: datetime) -> datetime:
    """A naive time typed on the organization's clock, made aware (a time the clocks skip or
    repeat at a DST change is read as the first)."""
    return local.replace(tzinfo=ZoneInfo(org.timezone))


@dataclass(frozen=True)
class EventDraft:
    """What an organizer typed for an event, checked: `starts_at` aware, `capacity` None for
    no limit."""

    title: str
    starts_at: datetime
    location: str = ""
    capacity: int | None = None


def _check(draft: EventDraft, now: datetime) -> None:
    if not draft.title.strip():
        raise EventError("Give the event a title.")
    if draft.starts_at <= now:
        raise EventError("That time has already passed. Choose a time still to come.")
    if draft.starts_at > now + MAX_AHEAD:
        raise EventError("That is more than five years away. Check the year.")


def create(org: Organization, draft: EventDraft, now: datetime) -> Event:
    """List an event for the whole organization (the caller commits and audits)."""
    _check(draft, now)
    event = Event(
        organization_id=org.id,
        title=draft.title.strip()[:MAX_TITLE],
        starts_at=draft.starts_at,
        location=draft.location.strip()[:MAX_LOCATION],
        capacity=draft.capacity,
        status=EventStatus.LISTED,
        created_at=now,
    )
    db.session.add(event)
    db.session.flush()
    return event


def edit(event: Event, draft: EventDraft, now: datetime) -> list[str]:
    """Change an event; returns the names of the fields changed. A new time for an event
    whose reminders are still waiting in the outbox takes them back, so the sweep sends them
    again at the new time, saying the new time. A declined event is not changed."""
    if event.status == EventStatus.DECLINED:
        raise EventError("This event was declined; it can no longer be changed.")
    _check(draft, now)
    values = {
        "title": draft.title.strip()[:MAX_TITLE],
        "starts_at": draft.starts_at,
        "location": draft.location.strip()[:MAX_LOCATION],
        "capacity": draft.capacity,
    }
    changed = [name for name, value in values.items() if getattr(event, name) != value]
    for name in changed:
        setattr(event, name, values[name])
    if changed:
        event.updated_at = now
    if "starts_at" in changed:
        move_reminders(event)
    return changed


def move_reminders(event: Event) -> int:
    """Take back the event's reminders not sent yet, so the sweep makes them again for its
    new time; returns how many."""
    waiting = db.session.execute(
        select(Rsvp, Message)
        .join(Message, Message.id == Rsvp.reminder_message_id)
        .where(Rsvp.event_id == event.id, Message.status == "queued")
    ).all()
    moved = 0
    for rsvp, message in waiting:
        if outbox.withdraw(message, "event_moved"):
            rsvp.reminded_at = None
            rsvp.reminder_message_id = None
            moved += 1
    return moved


def propose(
    org: Organization,
    person: Person,
    title: str,
    starts_at: datetime,
    location: str,
    evidence: Message | None,
    now: datetime,
) -> Event:
    """A team lead's event for their team, waiting for an organizer."""
    membership = db.session.scalar(select(TeamMember).where(TeamMember.person_id == person.id))
    if membership is None or not membership.lead:
        raise EventError("only a team lead may propose an event")
    event = Event(
        organization_id=org.id,
        title=title.strip()[:MAX_TITLE],
        starts_at=starts_at,
        location=location.strip()[:MAX_LOCATION],
        status=EventStatus.PROPOSED,
        team_id=membership.team_id,
        proposed_by_id=person.id,
        proposal_message_id=evidence.id if evidence else None,
        created_at=now,
    )
    db.session.add(event)
    db.session.flush()
    return event


def review(event: Event, approve: bool, organizer: Organizer, now: datetime) -> None:
    """Approve a proposed event (listed, to the proposer's team) or decline it; the proposer
    hears which in the reply to their next text."""
    if event.status != EventStatus.PROPOSED:
        raise EventError("This event was already reviewed.")
    event.status = EventStatus.LISTED if approve else EventStatus.DECLINED
    event.reviewed_by_id = organizer.id
    event.reviewed_at = now
    event.updated_at = now


_TOLD = {EventStatus.LISTED: ev.NoticeKind.EVENT_APPROVED, EventStatus.DECLINED: ev.NoticeKind.EVENT_DECLINED}


def notices(person: Person) -> list[ev.Notice]:
    """The reviews of `person`'s proposals they have not been told of yet."""
    rows = db.session.execute(
        select(Event.id, Event.title, Event.status)
        .where(
            Event.proposed_by_id == person.id,
            Event.status != EventStatus.PROPOSED,
            Event.reviewed_at.is_not(None),
            Event.proposer_told_at.is_(None),
        )
        .order_by(Event.reviewed_at, Event.id)
    ).all()
    return [ev.Notice(_TOLD[EventStatus(status)], title, event_id) for event_id, title, status in rows]


def mark_told(person: Person, event_ids: list[int], now: datetime) -> None:
    """The proposer was told of these reviews."""
    if event_ids:
        db.session.execute(
            update(Event)
            .where(Event.id.in_(event_ids), Event.proposed_by_id == person.id)
            .values(proposer_told_at=now)
        )


@dataclass(frozen=True)
class EventRow:
    """An event as the console lists it."""

    event: Event
    going: int
    not_going: int
    team: str | None
    proposer: str | None


def console_rows(org: Organization, which: str, now: datetime, limit: int = 100) -> list[EventRow]:
    """Events for the console, with their RSVP counts (one grouped query): `upcoming` and
    `past` listed events, or `proposed` ones waiting for review, oldest first."""
    proposer = aliased(Person)
    query = (
        select(
            Event,
            _going(),
            func.count(Rsvp.id).filter(Rsvp.status == "no"),
            Team.name,
            proposer.name,
        )
        .outerjoin(Rsvp, Rsvp.event_id == Event.id)
        .outerjoin(Team, Team.id == Event.team_id)
        .outerjoin(proposer, proposer.id == Event.proposed_by_id)
        .where(Event.organization_id == org.id)
        .group_by(Event.id, Team.name, proposer.name)
    )
    if which == "proposed":
        query = query.where(Event.status == EventStatus.PROPOSED).order_by(Event.created_at, Event.id)
    elif which == "upcoming":
        query = query.where(Event.status == EventStatus.LISTED, Event.starts_at > now).order_by(
            Event.starts_at, Event.id
        )
    else:
        query = query.where(Event.status == EventStatus.LISTED, Event.starts_at <= now).order_by(
            Event.starts_at.desc(), Event.id.desc()
        )
    return [EventRow(*row) for row in db.session.execute(query.limit(limit)).all()]


@dataclass(frozen=True)
class Attendee:
    person_id: int
    name: str | None
    phone: str
    status: str
    answered_at: datetime


def attendees(event: Event) -> list[Attendee]:
    """Everyone who answered the event, those coming first, with their number."""
    phone = (
        select(Address.value)
        .where(Address.person_id == Person.id, Address.channel == "sms")
        .order_by(Address.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Person.id, Person.name, phone, Rsvp.status, Rsvp.created_at)
        .join(Rsvp, Rsvp.person_id == Person.id)
        .where(Rsvp.event_id == event.id)
        .order_by(Rsvp.status.desc(), Person.name, Person.id)
    ).all()
    return [Attendee(pid, name, value or "", status, at) for pid, name, value, status, at in rows]


def brought_friends(event: Event) -> list[tuple[str | None, list[str | None]]]:
    """Who brought a friend: volunteers coming to the event whose friend joined through their
    invitation (Person.referred_by_id) and is coming too, with those friends' names."""
    friend = aliased(Person)
    inviter = aliased(Person)
    inviter_rsvp = aliased(Rsvp)
    friend_rsvp = aliased(Rsvp)
    rows = db.session.execute(
        select(inviter.id, inviter.name, friend.name)
        .join(inviter_rsvp, and_(inviter_rsvp.person_id == inviter.id, inviter_rsvp.event_id == event.id))
        .join(friend, friend.referred_by_id == inviter.id)
        .join(friend_rsvp, and_(friend_rsvp.person_id == friend.id, friend_rsvp.event_id == event.id))
        .where(inviter_rsvp.status == "yes", friend_rsvp.status == "yes")
        .order_by(inviter.name, inviter.id, friend.name)
    ).all()
    brought: dict[int, tuple[str | None, list[str | None]]] = {}
    for inviter_id, inviter_name, friend_name in rows:
        brought.setdefault(inviter_id, (inviter_name, []))[1].append(friend_name)
    return list(brought.values())
