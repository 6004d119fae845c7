"""One inbound text, from stored message to replies in the outbox.

The message is committed on its own first, so a text that got a 2xx is never lost even if
answering it fails. Then, in one transaction: the sender's conversation state is locked, the
flows decide, their effects are applied and the replies go into the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flows import engine, keywords
from flows import events as ev
from gateway import consent, outbox
from gateway.addresses import digest, normalize_contact, redact
from gateway.extensions import db
from gateway.models import (
    Address,
    ConversationReport,
    FlowSession,
    Friend,
    FriendContactDigest,
    Message,
    Organization,
    Person,
    Prompt,
    PromptUse,
    utcnow,
)

log = logging.getLogger(__name__)

# A question left unanswered this long is forgotten: a bare "2" weeks later is not its answer.
QUESTION_TTL = timedelta(days=3)
# Stands in, in a stored inbound text, for a friend's phone number or email the volunteer typed.
CONTACT_PLACEHOLDER = "[contact]"


@dataclass(frozen=True)
class InboundSms:
    """An inbound text as a provider (or the simulator) handed it over."""

    provider_id: str
    from_number: str  # E.164
    body: str
    num_media: int = 0


def receive_sms(org: Organization, sms: InboundSms) -> list[int]:
    """Store and answer one inbound text; returns the outbox ids to dispatch after commit.

    A provider id seen before is a no-op (provider retries and duplicates). A NUL character,
    which PostgreSQL text cannot hold, is kept as U+FFFD so the text is never refused."""
    if db.session.scalar(select(Message.id).where(Message.provider_id == sms.provider_id)):
        return []
    address = _address_for(org, sms.from_number)
    message = Message(
        organization_id=org.id,
        direction="inbound",
        channel="sms",
        address_id=address.id,
        body=sms.body.replace("\x00", "\ufffd"),
        num_media=sms.num_media,
        provider_id=sms.provider_id,
        status="received",
    )
    db.session.add(message)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return []
    try:
        replies = _answer(org, address, message)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception(
            "inbound: could not answer message %s from %s", message.id, redact(address.value)
        )
        return _answer_failed(message.id)
    return replies


def _answer(org: Organization, address: Address, message: Message) -> list[int]:
    person = address.person
    assert person is not None
    session = db.session.scalar(
        select(FlowSession).where(FlowSession.person_id == person.id).with_for_update()
    )
    if session is None:
        session = FlowSession(person_id=person.id, state={})
        db.session.add(session)
    now = utcnow()
    expired = session.expires_at is not None and session.expires_at < now
    state = ev.State() if expired else ev.State.from_dict(session.state)

    friends = _friends(person)
    ctx = ev.Context(
        organization=ev.Organization(
            org.name, org.contact, org.frequency, tuple(org.interests or ()) or ev.DEFAULT_INTERESTS
        ),
        now=now,
        consent=consent.status(address),
        name=person.name,
        friends=tuple(_friend_view(f, used) for f, used in friends),
        prompts=_prompts(org),
        language=person.language,
    )
    outcome = engine.respond(state, ev.Inbound(message.body, now, message.num_media), ctx)

    replies = [
        outbox.queue_sms(address, reply.body, reason=str(reply.kind), in_reply_to=message)
        for reply in outcome.replies
    ]
    _apply(
        outcome.effects,
        _Target(org, person, address, message, replies[0] if replies else None, now),
        friends,
    )
    session.state = outcome.state.to_dict()
    session.expires_at = now + QUESTION_TTL if outcome.state.step != "idle" else None
    return [reply.id for reply in replies]


@dataclass
class _Target:
    org: Organization
    person: Person
    address: Address
    message: Message
    reply: Message | None
    now: datetime


def _apply(
    effects: tuple[ev.Effect, ...], t: _Target, friends: list[tuple[Friend, set[int]]]
) -> None:
    by_ref: dict[ev.FriendRef, Friend] = {f.id: f for f, _ in friends}
    for effect in effects:
        match effect:
            case ev.RecordConsent(kind=kind, reason=reason):
                consent.record(
                    t.address,
                    kind,
                    source="sms_keyword",
                    detail=reason,
                    evidence_message_id=t.message.id,
                )
                if kind == "opt_in" and t.person.volunteer_since is None:
                    t.person.volunteer_since = t.now
            case ev.SetName(name=name):
                t.person.name = name[:80]
            case ev.AddFriend():
                by_ref[effect.key] = _add_friend(effect, t)
            case ev.SetInterests(friend=ref, interests=interests):
                by_ref[ref].interests = list(interests)
            case ev.MarkPrompted(friend=ref, prompt_id=prompt_id):
                friend = by_ref[ref]
                friend.last_prompted_at = t.now
                db.session.add(
                    PromptUse(
                        friend_id=friend.id,
                        prompt_id=prompt_id,
                        message_id=t.reply.id if t.reply else None,
                    )
                )
            case ev.LogReport(
                friend=ref, outcome=result, learned=learned, tags=tags, new_stage=stage
            ):
                friend = by_ref[ref]
                friend.last_reported_at = t.now
                if stage:
                    friend.stage = stage
                db.session.add(
                    ConversationReport(
                        organization_id=t.org.id,
                        volunteer_id=t.person.id,
                        friend_id=friend.id,
                        outcome=result,
                        learned=learned,
                        tags=list(tags),
                        message_id=t.message.id,
                        reported_at=t.now,
                    )
                )
            case ev.KeepForInbox():
                t.message.needs_attention = True


def _add_friend(effect: ev.AddFriend, t: _Target) -> Friend:
    friend = Friend(
        organization_id=t.org.id,
        volunteer_id=t.person.id,
        name=effect.name[:80],
        relationship=effect.relationship if effect.relationship in ev.RELATIONSHIPS else "other",
        interests=list(effect.interests),
        stage="listed",
        added_at=t.now,
    )
    db.session.add(friend)
    db.session.flush()
    secret = current_app.config["SECRET_KEY"]
    region = current_app.config["DEFAULT_REGION"]
    for contact in effect.contacts:
        normalized = normalize_contact(contact, region)
        if normalized:
            db.session.add(
                FriendContactDigest(friend_id=friend.id, digest=digest(normalized, secret))
            )
        # The friend's contact is kept only as the digest, not in the text that carried it.
        t.message.body = t.message.body.replace(contact, CONTACT_PLACEHOLDER)
    return friend


def _answer_failed(message_id: int) -> list[int]:
    """Answering crashed: keep the text for an organizer, and still honour an opt-out."""
    message = db.session.get(Message, message_id)
    assert message is not None
    message.needs_attention = True
    reason = keywords.opt_out_reason(message.body)
    if reason:
        consent.opt_out(message.address, "sms_keyword", reason, evidence_message_id=message.id)
    db.session.commit()
    return []


def _address_for(org: Organization, phone: str) -> Address:
    address = db.session.scalar(
        select(Address).where(
            Address.organization_id == org.id, Address.channel == "sms", Address.value == phone
        )
    )
    if address is not None and address.person is not None:
        return address
    try:
        with db.session.begin_nested():
            person = Person(organization_id=org.id, timezone=None)
            db.session.add(person)
            db.session.flush()
            if address is None:
                address = Address(
                    organization_id=org.id, channel="sms", value=phone, person_id=person.id
                )
                db.session.add(address)
            else:
                address.person_id = person.id
            db.session.flush()
    except IntegrityError:
        address = db.session.scalars(
            select(Address).where(
                Address.organization_id == org.id, Address.channel == "sms", Address.value == phone
            )
        ).one()
    return address


def _friends(person: Person) -> list[tuple[Friend, set[int]]]:
    friends = db.session.scalars(
        select(Friend).where(Friend.volunteer_id == person.id).order_by(Friend.id)
    ).all()
    used: dict[int, set[int]] = {f.id: set() for f in friends}
    if friends:
        rows = db.session.execute(
            select(PromptUse.friend_id, PromptUse.prompt_id).where(PromptUse.friend_id.in_(used))
        )
        for friend_id, prompt_id in rows:
            used[friend_id].add(prompt_id)
    return [(f, used[f.id]) for f in friends]


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
        used_prompt_ids=frozenset(used),
    )


def _prompts(org: Organization) -> tuple[ev.Prompt, ...]:
    rows = db.session.scalars(
        select(Prompt)
        .where(Prompt.organization_id == org.id, Prompt.active.is_(True))
        .order_by(Prompt.id)
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
