"""Privacy: what FORGET and DELETE take away. A forgotten friend leaves no mention behind in
the volunteer's messages and shared ideas; an erased volunteer leaves only the keyed digests of their number
and email addresses (see gateway.delivery.addresses), which is all it takes to honour their opt-out.
Message bodies past their retention period are purged."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import delete, select, update

from flows.parse import first_name
from gateway.community import audit, members
from gateway.community.events import EventStatus
from gateway.delivery import consent, outbox
from gateway.delivery.addresses import complete_erasure
from gateway.extensions import db
from gateway.models import (
    Address,
    ConsentEvent,
    ConversationReport,
    Event,
    FollowUp,
    Friend,
    Idea,
    Message,
    Organization,
    Organizer,
    Person,
    Prompt,
    Rsvp,
    TeamMember,
    Thread,
    TipUse,
    waiting_answer,
)

FORGOTTEN = "[forgotten]"
PURGE_BATCH = 1000  # bodies purged per sweep: a backlog drains over a few sweeps, never one long lock


def purge_old_bodies(before: datetime) -> int:
    """Empty the body and subject of messages written before `before` (MESSAGE_RETENTION_DAYS):
    who wrote, when, why, the delivery history and the conversation reports' outcomes stay,
    for the counts. Kept whole: a message that is the evidence of a consent event (the opt-in
    a text-message sender must be able to show, or an opt-out), and one still to be sent.
    Returns how many were purged; the caller commits."""
    evidence = select(ConsentEvent.evidence_message_id).where(ConsentEvent.evidence_message_id.is_not(None))
    ids = list(
        db.session.scalars(
            select(Message.id)
            .where(
                Message.created_at < before,
                (Message.body != "") | (Message.subject != ""),
                Message.status.not_in(("queued", "sending")),
                Message.id.not_in(evidence),
            )
            .order_by(Message.id)
            .limit(PURGE_BATCH)
        )
    )
    if ids:
        db.session.execute(
            update(Message)
            .where(Message.id.in_(ids))
            .values(body="", subject="")
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def forget_friend(address: Address, friend: Friend, friends: Iterable[Friend]) -> None:
    """Delete `friend` and every mention of them in what the volunteer wrote. Their first name
    alone counts as a mention when no other of the volunteer's `friends` shares it ("Maria"
    means Maria Lopez when she is the only Maria)."""
    names = {friend.name}
    first = first_name(friend.name)
    if first and not any(other.id != friend.id and first_name(other.name) == first for other in friends):
        names.add(friend.name.split()[0])
    _scrub(_messages_by(address), names)
    _scrub(db.session.scalars(select(Idea).where(Idea.person_id == friend.volunteer_id)), names)
    db.session.delete(friend)
    db.session.flush()


def erase_volunteer(person: Person, address: Address, keep: Collection[int], evidence_id: int | None) -> None:
    """Erase what `person` told us and what was said to them, and opt them out, by text and by
    email. Messages in `keep` (the confirmation being sent) stay until sent; the number and any
    email address of theirs become their digests once nothing is left to send to them
    (gateway.delivery.addresses.complete_erasure). An address they only asked for, never
    confirmed, is not theirs: its sign-up is withdrawn, and the address is left alone."""
    emails = list(
        db.session.scalars(
            select(Address)
            .where(Address.person_id == person.id, Address.channel == "email")
            .order_by(Address.id)
        )
    )
    addresses = [address, *emails]
    ids = [a.id for a in addresses]
    # The addresses first, the order a worker sending to one takes its locks in.
    db.session.execute(select(Address.id).where(Address.id.in_(ids)).order_by(Address.id).with_for_update())
    for pending in db.session.scalars(
        select(Message).where(
            Message.address_id.in_(ids), Message.status == "queued", Message.id.not_in(keep)
        )
    ):
        outbox.withdraw(pending, "erased")
    members.withdraw_signups(person, emails)
    if person.name:
        teammates = (
            select(Address.id)
            .join(TeamMember, TeamMember.person_id == Address.person_id)
            .where(
                TeamMember.team_id.in_(select(TeamMember.team_id).where(TeamMember.person_id == person.id)),
                TeamMember.person_id != person.id,
            )
        )
        _scrub(db.session.scalars(select(Message).where(Message.address_id.in_(teammates))), {person.name})
    for relayed in _messages_by(address):
        if relayed.address_id != address.id:
            relayed.body = ""
    for model, column in (
        (ConversationReport, ConversationReport.volunteer_id),
        (Friend, Friend.volunteer_id),
        (FollowUp, FollowUp.person_id),
        (TeamMember, TeamMember.person_id),
        (Rsvp, Rsvp.person_id),
        (Thread, Thread.person_id),
        (Idea, Idea.person_id),
        (TipUse, TipUse.person_id),
    ):
        db.session.execute(
            delete(model).where(column == person.id).execution_options(synchronize_session=False)
        )
    # Their adopted ideas stay in the library as the organizers wrote them, no longer credited.
    db.session.execute(
        update(Prompt)
        .where(Prompt.credited_person_id == person.id)
        .values(credited_person_id=None)
        .execution_options(synchronize_session=False)
    )
    # A proposal still waiting goes with its proposer; a listed event is the team's, not theirs.
    db.session.execute(
        delete(Event)
        .where(Event.proposed_by_id == person.id, Event.status == EventStatus.PROPOSED)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(update(Event).where(Event.proposed_by_id == person.id).values(proposed_by_id=None))
    # A text they sent after this one, still waiting for its turn, is theirs to be read: it
    # may take the erasure back (START).
    db.session.execute(
        update(Message)
        .where(Message.address_id.in_(ids), Message.id.not_in(keep), ~waiting_answer())
        .values(body="", subject="", needs_attention=False)
    )
    person.name = None
    person.referral_code = None
    person.referred_by_id = None
    person.timezone = None
    person.language = "en"
    person.volunteer_since = None
    for each in addresses:
        consent.opt_out(each, "erasure", "DELETE", evidence_id)
        each.pending_erasure = True
    for email in emails:
        complete_erasure(email)


def erase_by_organizer(org: Organization, person: Person, organizer: Organizer, ip: str) -> None:
    """An organizer erases a volunteer who asked them to (by phone, by email, in person): the
    erasure DELETE by text does, with no confirmation text, and their number becomes its digest
    at once. The audit log says who erased which person, when and from where, nothing more."""
    address = db.session.scalars(
        select(Address).where(Address.person_id == person.id, Address.channel == "sms").order_by(Address.id)
    ).first()
    if address is None:
        raise ErasureError("They have no phone number on record: there is nothing to erase here.")
    erase_volunteer(person, address, keep=(), evidence_id=None)
    complete_erasure(address)
    audit.record(org, "volunteer_erased", organizer, ip=ip, person=person.id)


class ErasureError(Exception):
    """An erasure that cannot be done as asked."""


def _messages_by(address: Address) -> list[Message]:
    """Every message that carries what this person wrote: theirs, to and from them, and the
    copies of their team updates their teammates got."""
    own = select(Message.id).where(Message.address_id == address.id, Message.direction == "inbound")
    return list(
        db.session.scalars(
            select(Message).where(
                (Message.address_id == address.id)
                | ((Message.reason == "team_relay") & Message.in_reply_to_id.in_(own))
            )
        )
    )


def _scrub(messages: Iterable[Message | Idea], names: set[str]) -> None:
    """Replace every whole-word mention of `names` (any case) in these messages (or ideas)."""
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b", re.IGNORECASE
    )
    for message in messages:
        message.body = pattern.sub(FORGOTTEN, message.body)
