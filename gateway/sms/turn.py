"""One turn of the SMS conversation with a person, whatever started it: their text, or a
follow-up, reminder or team update the system sends.

A turn locks the person's conversation state, builds what the flows need to know, lets the
flows decide, queues the replies in the outbox and applies the effects, all in the caller's
transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from flows import events as ev
from flows.parse import mask_contacts
from gateway import clock
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import Address, FlowSession, Friend, Message, Organization
from gateway.sms import effects
from gateway.sms.context import context

# A question left unanswered this long is forgotten: a bare "2" weeks later is not its answer.
QUESTION_TTL = timedelta(days=3)

Decide = Callable[[ev.State, ev.Context], ev.Outcome]


def lock_conversation(person_id: int | None) -> None:
    """Lock a person's conversation state before anything else of theirs. Every turn and every
    job that starts one takes this lock first, so they queue behind each other instead of
    deadlocking (a text arriving just as its follow-up fires)."""
    if person_id is not None:
        db.session.execute(select(FlowSession.id).where(FlowSession.person_id == person_id).with_for_update())


def take_turn(
    org: Organization, address: Address, decide: Decide, inbound: Message | None = None
) -> list[Message]:
    """Run one turn in the caller's transaction; returns the messages it queued (they go to the
    job queue once the caller commits)."""
    person = address.person
    if person is None:
        raise ValueError("a conversation needs a person")
    session = db.session.scalar(
        select(FlowSession).where(FlowSession.person_id == person.id).with_for_update()
    )
    if session is None:
        session = FlowSession(person_id=person.id, state={})
        db.session.add(session)
    now = clock.now()
    expired = session.expires_at is not None and session.expires_at < now
    state = ev.State() if expired else ev.State.from_dict(session.state)

    friends = {
        f.id: f
        for f in db.session.scalars(
            select(Friend).where(Friend.volunteer_id == person.id).order_by(Friend.id)
        )
    }
    text = inbound.body if inbound is not None else ""
    outcome = decide(state, context(org, person, address, list(friends.values()), text))
    replies = [outbox.queue_sms(address, reply.body, str(reply.kind), inbound) for reply in outcome.replies]
    turn = effects.Turn(org, person, address, inbound, replies, now, dict(friends))
    for effect in outcome.effects:
        effects.apply(effect, turn)
    session.state = _masked(outcome.state.to_dict())
    session.expires_at = now + QUESTION_TTL if outcome.state.step != "idle" else None
    return [*replies, *turn.relayed]


def _masked(value: Any) -> Any:
    """Conversation state as stored: a pending question may quote the volunteer's text, and a
    friend's phone number or email in it must not outlive the turn."""
    if isinstance(value, str):
        return mask_contacts(value, current_app.config["DEFAULT_REGION"])
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value
