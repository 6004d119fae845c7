"""Follow-ups a volunteer asked for ("remind me Friday"): at the due time, one conversation
turn in which the flows write the nudge. The outbox paces it like every message the system
starts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from flows import engine
from gateway import clock
from gateway.conversation import lock_conversation, take_turn
from gateway.extensions import db
from gateway.models import Address, FollowUp, Organization

# The scheduled job normally starts a follow-up; past this, the sweeper does.
OVERDUE_AFTER = timedelta(minutes=5)


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
    dispatch = take_turn(org, address, lambda state, ctx: engine.follow_up(state, ctx, friend_id))
    follow_up.status = "done"
    follow_up.message_id = dispatch.message_ids[0] if dispatch.message_ids else None
    db.session.commit()
    dispatch.run()
    return follow_up.status


def send_overdue(now: datetime | None = None) -> int:
    """Start the follow-ups whose scheduled job never ran (say Redis lost it)."""
    now = now or clock.now()
    due = db.session.scalars(
        select(FollowUp.id).where(FollowUp.status == "pending", FollowUp.due_at < now - OVERDUE_AFTER)
    ).all()
    return sum(send_follow_up(follow_up_id, now) == "done" for follow_up_id in due)
