"""Events: the upcoming events a volunteer sees, as the flows see them, RSVPs, and adding an
event (the `kindred events` command). Reminders are in gateway/sms/scheduled.py."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from flows import events as ev
from gateway import clock
from gateway.extensions import db
from gateway.models import Event, Organization, Person, Rsvp

UPCOMING = 5  # how many events EVENTS lists


def upcoming(org: Organization, person: Person, now: datetime) -> tuple[ev.EventView, ...]:
    """The next few events, soonest first, marked with whether `person` said they'd come."""
    events = db.session.scalars(
        select(Event)
        .where(Event.organization_id == org.id, Event.starts_at > now)
        .order_by(Event.starts_at, Event.id)
        .limit(UPCOMING)
    ).all()
    going = set(
        db.session.scalars(
            select(Rsvp.event_id).where(
                Rsvp.person_id == person.id,
                Rsvp.status == "yes",
                Rsvp.event_id.in_([e.id for e in events]),
            )
        )
    )
    return tuple(view(event, org, event.id in going) for event in events)


def view(event: Event, org: Organization, going: bool = False) -> ev.EventView:
    """An event as the flows see it, on the organization's clock."""
    return ev.EventView(
        id=event.id,
        title=event.title,
        starts_at=event.starts_at.astimezone(ZoneInfo(org.timezone)),
        location=event.location,
        going=going,
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
    going = func.count(Rsvp.id).filter(Rsvp.status == "yes")
    rows = db.session.execute(
        select(Event, going)
        .outerjoin(Rsvp, Rsvp.event_id == Event.id)
        .where(Event.organization_id == org.id, Event.starts_at > clock.now())
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
