"""One turn of the SMS conversation with a person, whatever started it: their text, or a
follow-up, reminder or team update the system sends.

A turn locks the person's conversation state, builds what the flows need to know, lets the
flows decide, queues the replies in the outbox and applies the effects, all in the caller's
transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from flows import events as ev
from flows import keywords, profile
from flows import teams as team_flows
from flows.parse import mask_contacts
from gateway import clock, consent, effects, events_rsvp, outbox, teams
from gateway.addresses import timezone_for_zip
from gateway.extensions import db
from gateway.models import (
    Address,
    ConversationReport,
    FlowSession,
    Friend,
    Message,
    Organization,
    Person,
    Prompt,
    PromptUse,
)

# A question left unanswered this long is forgotten: a bare "2" weeks later is not its answer.
QUESTION_TTL = timedelta(days=3)

Decide = Callable[[ev.State, ev.Context], ev.Outcome]


@dataclass
class Dispatch:
    """What a turn leaves for after its commit: replies to queue, follow-ups to schedule."""

    message_ids: list[int] = field(default_factory=list)
    follow_ups: list[tuple[int, datetime]] = field(default_factory=list)

    def run(self) -> None:
        """Hand the committed work to RQ. If Redis is down, the sweeper picks it up later."""
        from gateway import jobs

        outbox.dispatch(self.message_ids)
        jobs.schedule_follow_ups(self.follow_ups)


def lock_conversation(person_id: int | None) -> None:
    """Lock a person's conversation state before anything else of theirs. Every turn and every
    job that starts one takes this lock first, so they queue behind each other instead of
    deadlocking (a text arriving just as its follow-up fires)."""
    if person_id is not None:
        db.session.execute(select(FlowSession.id).where(FlowSession.person_id == person_id).with_for_update())


def take_turn(
    org: Organization, address: Address, decide: Decide, inbound: Message | None = None
) -> Dispatch:
    """Run one turn in the caller's transaction; returns what to dispatch after the commit."""
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
    queued = [*replies, *turn.relayed]
    return Dispatch([message.id for message in queued], [(f.id, f.due_at) for f in turn.follow_ups])


def context(
    org: Organization, person: Person, address: Address, friends: list[Friend], text: str = ""
) -> ev.Context:
    """What the flows know about this person and the organization right now. `text` is the
    inbound text, if a text started the turn: a team join code in it is looked up, and a text
    that starts a team gets an unused join code set aside."""
    now = clock.now()
    used: dict[int, set[int]] = {f.id: set() for f in friends}
    if friends:
        rows = db.session.execute(
            select(PromptUse.friend_id, PromptUse.prompt_id).where(PromptUse.friend_id.in_(used))
        )
        for friend_id, prompt_id in rows:
            used[friend_id].add(prompt_id)
    reports = db.session.scalar(
        select(func.count())
        .select_from(ConversationReport)
        .where(ConversationReport.volunteer_id == person.id)
    )
    return ev.Context(
        organization=ev.Organization(
            org.name,
            org.contact,
            org.frequency,
            tuple(org.interests or ()) or ev.DEFAULT_INTERESTS,
            org.phone,
        ),
        now=now,
        consent=consent.status(address),
        name=person.name,
        friends=tuple(_friend_view(f, used[f.id]) for f in friends),
        prompts=_prompts(org),
        language=person.language,
        timezone=person.timezone or org.timezone,
        joined_at=person.volunteer_since,
        referral_code=person.referral_code,
        report_count=reports or 0,
        team=teams.view(person, address, now),
        joining=teams.joining(org, team_flows.join_code_in(text)),
        zip_timezone=timezone_for_zip(zip_code) if (zip_code := _zip_command(text)) else None,
        new_team_code=teams.unused_code(org) if team_flows.starts_team(text) else None,
        events=events_rsvp.upcoming(org, person, now),
    )


def _friend_view(friend: Friend, used: set[int]) -> ev.Friend:
    return ev.Friend(
        id=friend.id,
        name=friend.name,
        relationship=friend.relationship,
        interests=tuple(friend.interests or ()),
        stage=friend.stage,
        added_at=friend.added_at,
        last_prompted_at=friend.last_prompted_at,
        last_reported_at=friend.last_reported_at,
        snoozed_until=friend.snoozed_until,
        used_prompt_ids=frozenset(used),
    )


def _prompts(org: Organization) -> tuple[ev.Prompt, ...]:
    rows = db.session.scalars(
        select(Prompt).where(Prompt.organization_id == org.id, Prompt.active.is_(True)).order_by(Prompt.id)
    )
    return tuple(
        ev.Prompt(
            id=p.id,
            body=p.body,
            stages=tuple(p.stages or ()),
            interests=tuple(p.interests or ()),
            relationships=tuple(p.relationships or ()),
            language=p.language,
        )
        for p in rows
    )


def _zip_command(text: str) -> str | None:
    command = keywords.parse_command(text)
    return profile.zip_in(command.rest) if command and command.name == "zip" else None


def _masked(value: Any) -> Any:
    """Conversation state as stored: a pending question may quote the volunteer's text, and a
    friend's phone number or email in it must not outlive the turn."""
    if isinstance(value, str):
        return mask_contacts(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value
