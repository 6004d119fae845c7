"""Applying what the flows decided: one handler per effect type, in the turn's transaction."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import singledispatch

from flask import current_app
from sqlalchemy import delete, select, update

from flows import events as ev
from flows.parse import mask_contacts
from gateway import consent, outbox
from gateway.addresses import digest, normalize_contact
from gateway.extensions import db
from gateway.models import (
    Address,
    ConversationReport,
    Event,
    FollowUp,
    Friend,
    FriendContactDigest,
    Message,
    Organization,
    Person,
    PromptUse,
    Rsvp,
    Team,
    TeamMember,
)

FORGOTTEN = "[forgotten]"
# Referral codes: short, and without letters and digits that look alike (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 4


@dataclass
class Turn:
    """What one turn's effects act on."""

    org: Organization
    person: Person
    address: Address
    inbound: Message | None
    replies: list[Message]
    now: datetime
    friends: dict[ev.FriendRef, Friend]
    follow_ups: list[FollowUp] = field(default_factory=list)
    relayed: list[Message] = field(default_factory=list)  # team updates queued for teammates

    def friend(self, ref: ev.FriendRef) -> Friend:
        """The volunteer's friend with this id or new-friend key; anyone else's is refused."""
        friend = self.friends.get(ref)
        if friend is None:
            raise LookupError(f"friend {ref!r} is not one of this volunteer's")
        return friend


@singledispatch
def apply(effect: object, turn: Turn) -> None:
    """Apply one effect of a flow's outcome."""
    raise TypeError(f"no handler for effect {type(effect).__name__}")


@apply.register
def _(effect: ev.RecordConsent, turn: Turn) -> None:
    evidence = turn.inbound.id if turn.inbound else None
    consent.record(turn.address, effect.kind, "sms_keyword", effect.reason, evidence)
    if effect.kind == "opt_in":
        if turn.person.volunteer_since is None:
            turn.person.volunteer_since = turn.now
        if turn.person.referral_code is None:
            turn.person.referral_code = _new_referral_code(turn.org)


@apply.register
def _(effect: ev.SetName, turn: Turn) -> None:
    turn.person.name = effect.name[:80]
    if turn.person.referred_by_id:
        _link_referral(turn, by_name=True)


@apply.register
def _(effect: ev.AddFriend, turn: Turn) -> None:
    friend = Friend(
        organization_id=turn.org.id,
        volunteer_id=turn.person.id,
        name=effect.name[:80],
        relationship=effect.relationship if effect.relationship in ev.RELATIONSHIPS else "other",
        interests=list(effect.interests),
        stage="listed",
        added_at=turn.now,
    )
    db.session.add(friend)
    db.session.flush()
    turn.friends[effect.key] = friend
    secret = current_app.config["SECRET_KEY"]
    region = current_app.config["DEFAULT_REGION"]
    for contact in effect.contacts:
        normalized = normalize_contact(contact, region)
        if normalized:
            db.session.add(FriendContactDigest(friend_id=friend.id, digest=digest(normalized, secret)))


@apply.register
def _(effect: ev.SetInterests, turn: Turn) -> None:
    turn.friend(effect.friend).interests = list(effect.interests)


@apply.register
def _(effect: ev.MarkPrompted, turn: Turn) -> None:
    friend = turn.friend(effect.friend)
    friend.last_prompted_at = turn.now
    reply_id = turn.replies[0].id if turn.replies else None
    db.session.add(PromptUse(friend_id=friend.id, prompt_id=effect.prompt_id, message_id=reply_id))


@apply.register
def _(effect: ev.LogReport, turn: Turn) -> None:
    friend = turn.friend(effect.friend)
    friend.last_reported_at = turn.now
    friend.snoozed_until = None
    if effect.new_stage:
        friend.stage = effect.new_stage
    db.session.add(
        ConversationReport(
            organization_id=turn.org.id,
            volunteer_id=turn.person.id,
            friend_id=friend.id,
            outcome=effect.outcome,
            learned=mask_contacts(effect.learned),
            tags=list(effect.tags),
            message_id=turn.inbound.id if turn.inbound else None,
            reported_at=turn.now,
        )
    )


@apply.register
def _(effect: ev.KeepForInbox, turn: Turn) -> None:
    if turn.inbound is not None:
        turn.inbound.needs_attention = True


@apply.register
def _(effect: ev.ScheduleFollowUp, turn: Turn) -> None:
    friend_id = turn.friend(effect.friend).id if effect.friend is not None else None
    # One pending follow-up per volunteer: asking again moves it.
    db.session.execute(
        update(FollowUp)
        .where(FollowUp.person_id == turn.person.id, FollowUp.status == "pending")
        .values(status="cancelled")
    )
    follow_up = FollowUp(
        organization_id=turn.org.id, person_id=turn.person.id, friend_id=friend_id, due_at=effect.at
    )
    db.session.add(follow_up)
    db.session.flush()
    turn.follow_ups.append(follow_up)


@apply.register
def _(effect: ev.SnoozeFriend, turn: Turn) -> None:
    turn.friend(effect.friend).snoozed_until = effect.until


@apply.register
def _(effect: ev.ForgetFriend, turn: Turn) -> None:
    friend = turn.friend(effect.friend)
    names = {friend.name}
    first = friend.name.split(" ")[0]
    if not any(
        other.id != friend.id and other.name.split(" ")[0].casefold() == first.casefold()
        for other in turn.friends.values()
    ):
        names.add(first)  # "Maria" means Maria Lopez when she is the only Maria
    _scrub(_messages_by(turn.address), names)
    db.session.delete(friend)
    db.session.flush()


@apply.register
def _(effect: ev.EraseVolunteer, turn: Turn) -> None:
    person = turn.person
    # The address first, the order a worker sending to it takes its locks in.
    db.session.execute(select(Address.id).where(Address.id == turn.address.id).with_for_update())
    keep = [reply.id for reply in turn.replies]
    for pending in db.session.scalars(
        select(Message).where(
            Message.address_id == turn.address.id, Message.status == "queued", Message.id.not_in(keep)
        )
    ):
        outbox.withdraw(pending, "erased")
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
    for relayed in _messages_by(turn.address):
        if relayed.address_id != turn.address.id:
            relayed.body = ""
    for model, column in (
        (ConversationReport, ConversationReport.volunteer_id),
        (Friend, Friend.volunteer_id),
        (FollowUp, FollowUp.person_id),
        (TeamMember, TeamMember.person_id),
        (Rsvp, Rsvp.person_id),
    ):
        db.session.execute(
            delete(model).where(column == person.id).execution_options(synchronize_session=False)
        )
    db.session.execute(
        update(Message)
        .where(Message.address_id == turn.address.id, Message.id.not_in(keep))
        .values(body="", needs_attention=False)
    )
    person.name = None
    person.referral_code = None
    person.referred_by_id = None
    person.timezone = None
    person.language = "en"
    person.volunteer_since = None
    consent.opt_out(turn.address, "erasure", "DELETE", turn.inbound.id if turn.inbound else None)
    # The number itself goes once the confirmation has been sent (gateway.privacy).
    turn.address.pending_erasure = True
    turn.friends.clear()


@apply.register
def _(effect: ev.Referred, turn: Turn) -> None:
    referrer = db.session.scalar(
        select(Person).where(
            Person.organization_id == turn.org.id, Person.referral_code == effect.code.upper()
        )
    )
    if referrer is None or referrer.id == turn.person.id:
        return
    turn.person.referred_by_id = referrer.id
    _link_referral(turn, by_name=False)


def _link_referral(turn: Turn, by_name: bool) -> None:
    """Connect a new volunteer to the friend entry of the volunteer who invited them: by the
    digest of their number if the inviter gave it, else by first name."""
    person = turn.person
    already = db.session.scalar(select(Friend.id).where(Friend.joined_person_id == person.id))
    if already is not None:
        return
    candidates = select(Friend).where(
        Friend.volunteer_id == person.referred_by_id, Friend.joined_person_id.is_(None)
    )
    if by_name:
        first = (person.name or "").split(" ")[0].casefold()
        friend = next(
            (f for f in db.session.scalars(candidates) if f.name.split(" ")[0].casefold() == first),
            None,
        )
    else:
        mine = digest(turn.address.value, current_app.config["SECRET_KEY"])
        friend = db.session.scalar(
            candidates.join(FriendContactDigest, FriendContactDigest.friend_id == Friend.id).where(
                FriendContactDigest.digest == mine
            )
        )
    if friend is not None:
        friend.joined_person_id = person.id
        friend.stage = "joined"


def _new_referral_code(org: Organization) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        taken = db.session.scalar(
            select(Person.id).where(Person.organization_id == org.id, Person.referral_code == code)
        )
        if taken is None:
            return code


@apply.register
def _(effect: ev.CreateTeam, turn: Turn) -> None:
    team = Team(
        organization_id=turn.org.id,
        name=effect.name[:60],
        join_code=effect.code,
        created_by_id=turn.person.id,
    )
    db.session.add(team)
    db.session.flush()
    _join_team(team, turn)


@apply.register
def _(effect: ev.JoinTeam, turn: Turn) -> None:
    team = db.session.get(Team, effect.team_id)
    if team is None or team.organization_id != turn.org.id:
        raise LookupError(f"team {effect.team_id} is not one of this organization's")
    _join_team(team, turn)


@apply.register
def _(effect: ev.LeaveTeam, turn: Turn) -> None:
    db.session.execute(delete(TeamMember).where(TeamMember.person_id == turn.person.id))


@apply.register
def _(effect: ev.MuteTeam, turn: Turn) -> None:
    db.session.execute(
        update(TeamMember).where(TeamMember.person_id == turn.person.id).values(muted=effect.muted)
    )


@apply.register
def _(effect: ev.RelayTeamUpdate, turn: Turn) -> None:
    from flows import teams as team_flows
    from gateway import teams

    membership = db.session.scalar(select(TeamMember).where(TeamMember.person_id == turn.person.id))
    team = db.session.get(Team, membership.team_id) if membership else None
    if team is None:
        return
    for address in teams.listeners(team, turn.person):
        language = address.person.language if address.person is not None else "en"
        body = team_flows.relay_body(language, effect.sender, effect.team, mask_contacts(effect.text))
        relay = outbox.queue_sms(address, body, str(ev.ReplyKind.TEAM_RELAY), turn.inbound)
        turn.relayed.append(relay)


@apply.register
def _(effect: ev.RecordRsvp, turn: Turn) -> None:
    event = db.session.get(Event, effect.event_id)
    if event is None or event.organization_id != turn.org.id:
        raise LookupError(f"event {effect.event_id} is not one of this organization's")
    status = "yes" if effect.going else "no"
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.person_id == turn.person.id))
    if rsvp is None:
        db.session.add(Rsvp(event_id=event.id, person_id=turn.person.id, status=status, created_at=turn.now))
    elif rsvp.status != status:
        # A changed mind is a new answer: the reminder rules go by when it was given.
        rsvp.status = status
        rsvp.created_at = turn.now


def _join_team(team: Team, turn: Turn) -> None:
    """Put the volunteer on `team`, off any other; their text is the evidence they want its
    updates."""
    db.session.execute(delete(TeamMember).where(TeamMember.person_id == turn.person.id))
    db.session.add(
        TeamMember(
            team_id=team.id,
            person_id=turn.person.id,
            evidence_message_id=turn.inbound.id if turn.inbound else None,
            joined_at=turn.now,
        )
    )
    db.session.flush()


@apply.register
def _(effect: ev.SetLanguage, turn: Turn) -> None:
    turn.person.language = effect.language


@apply.register
def _(effect: ev.SetTimezone, turn: Turn) -> None:
    turn.person.timezone = effect.timezone


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


def _scrub(messages: Iterable[Message], names: set[str]) -> None:
    """Replace every whole-word mention of `names` (any case) in these messages."""
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b", re.IGNORECASE
    )
    for message in messages:
        message.body = pattern.sub(FORGOTTEN, message.body)
