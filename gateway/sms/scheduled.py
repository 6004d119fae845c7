"""The turns the system starts itself: follow-ups a volunteer asked for and event reminders.

Follow-ups ("remind me Friday"): at the due time, one conversation turn in which the flows write
the nudge. The outbox paces it like every message the system starts.

Event reminders, the day before, are driven by the outbox sweeper (every minute), for listed
events only (never a proposed or declined one). An RSVP "yes"
given at least :data:`flows.events_rsvp.REMINDER_LEAD` before its event gets one reminder once the event is
that close: one conversation turn whose reply is a `reminder`, so the outbox sends it only with
an opt-in on record and paces it into the volunteer's calling window and caps (deferred, never
dropped). `Rsvp.reminded_at` makes it once; `Rsvp.reminder_message_id` records which event
each reminder is for. An RSVP given later than that was answered with "See you there!" and
gets no reminder.

A reminder that arrives after the event is useless, and pacing may defer one that long (a
late-night hour, or a volunteer who already had their message for the day). So the sweep
withdraws a reminder still waiting in the outbox when its event is less than
:data:`TOO_LATE` away: it is marked `suppressed` with error code `too_late`, its history
showing queued, deferred, suppressed. Nothing else in the outbox is touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from flows import engine
from flows.events_rsvp import REMINDER_LEAD
from gateway import clock
from gateway.community.events import EventStatus, view
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import Address, Event, FollowUp, Message, Organization, Rsvp
from gateway.sms.turn import lock_conversation, take_turn

# The scheduled job normally starts a follow-up; past this, the sweeper does.
OVERDUE_AFTER = timedelta(minutes=5)
# A reminder still waiting this close to its event is withdrawn: it would arrive too late.
TOO_LATE = timedelta(hours=1)


def send_follow_up(follow_up_id: int, now: datetime | None = None) -> str:
    """Start one pending, due follow-up; returns its status afterwards. Idempotent."""
    now = now or clock.now()
    lock_conversation(db.session.scalar(select(FollowUp.person_id).where(FollowUp.id == follow_up_id)))
    follow_up = db.session.scalar(select(FollowUp).where(FollowUp.id == follow_up_id).with_for_update())
    if follow_up is None or follow_up.status != "pending":
        db.session.rollback()
        return follow_up.status if follow_up else "missing"
    if follow_up.due_at > now + timedelta(minutes=1):
        db.session.rollback()
        return "not_due"
    address = db.session.scalar(
        select(Address).where(Address.person_id == follow_up.person_id, Address.channel == "sms")
    )
    org = db.session.get(Organization, follow_up.organization_id)
    if address is None or org is None:
        follow_up.status = "cancelled"
        db.session.commit()
        return follow_up.status
    friend_id = follow_up.friend_id
    queued = take_turn(org, address, lambda state, ctx: engine.follow_up(state, ctx, friend_id))
    follow_up.status = "done"
    follow_up.message_id = queued[0].id if queued else None
    db.session.commit()
    return follow_up.status


def send_overdue(now: datetime | None = None) -> int:
    """Start the follow-ups whose scheduled job never ran (say Redis lost it)."""
    now = now or clock.now()
    due = db.session.scalars(
        select(FollowUp.id).where(FollowUp.status == "pending", FollowUp.due_at < now - OVERDUE_AFTER)
    ).all()
    return sum(send_follow_up(follow_up_id, now) == "done" for follow_up_id in due)


def sweep_reminders(now: datetime | None = None) -> dict[str, int]:
    """Queue the reminders now due and withdraw those that can no longer arrive in time."""
    now = now or clock.now()
    withdrawn = withdraw_late_reminders(now)
    return {"reminders": send_due_reminders(now), "reminders_withdrawn": withdrawn}


def send_due_reminders(now: datetime | None = None) -> int:
    """Start a reminder for each due RSVP; returns how many were queued."""
    now = now or clock.now()
    candidates = db.session.execute(
        select(Rsvp.id, Rsvp.created_at, Event.starts_at)
        .join(Event, Event.id == Rsvp.event_id)
        .where(
            Rsvp.status == "yes",
            Rsvp.reminded_at.is_(None),
            Event.status == EventStatus.LISTED,
            Event.starts_at > now + TOO_LATE,
            Event.starts_at <= now + REMINDER_LEAD,
        )
    ).all()
    # An RSVP given within the lead time was answered "See you there!" instead.
    due = [rsvp for rsvp, created_at, starts_at in candidates if created_at <= starts_at - REMINDER_LEAD]
    return sum(remind(rsvp, now) == "queued" for rsvp in due)


def remind(rsvp_id: int, now: datetime | None = None) -> str:
    """Start the reminder for one RSVP; returns what happened. Idempotent."""
    now = now or clock.now()
    lock_conversation(db.session.scalar(select(Rsvp.person_id).where(Rsvp.id == rsvp_id)))
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.id == rsvp_id).with_for_update())
    if rsvp is None or rsvp.reminded_at is not None or rsvp.status != "yes":
        db.session.rollback()
        return "missing" if rsvp is None else "done"
    event = db.session.get(Event, rsvp.event_id)
    assert event is not None
    org = db.session.get(Organization, event.organization_id)
    assert org is not None
    address = db.session.scalar(
        select(Address).where(Address.person_id == rsvp.person_id, Address.channel == "sms")
    )
    rsvp.reminded_at = now
    if address is None:
        db.session.commit()
        return "no_address"
    event_view = view(event, org, going=True)
    queued = take_turn(org, address, lambda state, ctx: engine.event_reminder(state, ctx, event_view))
    rsvp.reminder_message_id = queued[0].id if queued else None
    db.session.commit()
    return "queued" if queued else "not_opted_in"


def withdraw_late_reminders(now: datetime | None = None) -> int:
    """Mark `suppressed` (error `too_late`) the reminders still waiting for events less than
    :data:`TOO_LATE` away. The conditional update only takes rows still queued, so a reminder
    a worker is sending right now is left alone."""
    now = now or clock.now()
    late = db.session.scalars(
        select(Message)
        .join(Rsvp, Rsvp.reminder_message_id == Message.id)
        .join(Event, Event.id == Rsvp.event_id)
        .where(Message.status == "queued", Event.starts_at <= now + TOO_LATE)
    ).all()
    withdrawn = sum(outbox.withdraw(message, "too_late") for message in late)
    db.session.commit()
    return withdrawn
