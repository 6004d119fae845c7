"""A volunteer's relational network: the friends they list, the ladder each friend climbs as
conversations are reported, follow-ups they ask for, and referrals (a friend who joins on their
own). Friends are never contacted; a contact detail given for one is kept only as a keyed digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update

from flows import events as ev
from flows.parse import first_name, mask_contacts
from gateway.community.codes import REFERRAL_CODE_LENGTH, unused_code
from gateway.delivery import handoff
from gateway.delivery.addresses import digest, digests, normalize_contact
from gateway.extensions import db
from gateway.models import (
    Address,
    ConversationReport,
    FollowUp,
    Friend,
    FriendContactDigest,
    Message,
    Organization,
    Person,
    PromptUse,
)

# Outcomes after which a friend no longer needs to be approached by listening first.
LISTENING_DONE = frozenset({"open", "committed"})


class FriendFields(Protocol):
    """What a friend's view is made of: a Friend row, or the same columns selected on their own
    (a prompt round reads them in batches)."""

    id: int
    name: str
    relationship: str
    interests: list[str]
    stage: str
    added_at: datetime
    last_prompted_at: datetime | None
    last_reported_at: datetime | None
    snoozed_until: datetime | None
    listen_first: bool


VIEW_COLUMNS = (
    Friend.id,
    Friend.name,
    Friend.relationship,
    Friend.interests,
    Friend.stage,
    Friend.added_at,
    Friend.last_prompted_at,
    Friend.last_reported_at,
    Friend.snoozed_until,
    Friend.listen_first,
)


def view(friend: FriendFields, used: Iterable[int]) -> ev.Friend:
    """A friend as the flows see them, with the ids of the prompts already used for them."""
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
        listen_first=bool(friend.listen_first),
    )


def add(
    volunteer: Person,
    name: str,
    relationship: str,
    interests: Iterable[str],
    contacts: Iterable[str],
    now: datetime,
    secret: str,
    region: str,
) -> Friend:
    """List a friend for `volunteer`. Their contacts are kept only as keyed digests."""
    friend = Friend(
        organization_id=volunteer.organization_id,
        volunteer_id=volunteer.id,
        name=name[:80],
        relationship=relationship if relationship in ev.RELATIONSHIPS else "other",
        interests=list(interests),
        stage="listed",
        added_at=now,
    )
    db.session.add(friend)
    db.session.flush()
    for contact in contacts:
        normalized = normalize_contact(contact, region)
        if normalized:
            db.session.add(FriendContactDigest(friend_id=friend.id, digest=digest(normalized, secret)))
    return friend


def mark_prompted(friend: Friend, prompt_id: int, message: Message | None, now: datetime) -> None:
    """Record that `message` suggested prompt `prompt_id` for `friend`, so it is not reused.
    The idea that went out led with listening if it had to: the next one need not."""
    friend.last_prompted_at = now
    friend.listen_first = False
    db.session.add(
        PromptUse(friend_id=friend.id, prompt_id=prompt_id, message_id=message.id if message else None)
    )


def log_report(
    volunteer: Person,
    friend: Friend,
    outcome: str,
    learned: str,
    tags: Iterable[str],
    new_stage: str | None,
    message: Message | None,
    now: datetime,
    region: str,
    listen_first: bool = False,
) -> ConversationReport:
    """Record how a conversation went; it moves the friend up the ladder to `new_stage`. Any
    phone number in what was learned is masked, national numbers read as `region`'s. A hard
    talk (`listen_first`) makes the friend's next idea lead with listening; an open or committed
    report means that is no longer needed."""
    friend.last_reported_at = now
    friend.snoozed_until = None
    if listen_first:
        friend.listen_first = True
    elif outcome in LISTENING_DONE:
        friend.listen_first = False
    if new_stage:
        friend.stage = new_stage
    report = ConversationReport(
        organization_id=volunteer.organization_id,
        volunteer_id=volunteer.id,
        friend_id=friend.id,
        outcome=outcome,
        learned=mask_contacts(learned, region),
        tags=list(tags),
        message_id=message.id if message else None,
        reported_at=now,
    )
    db.session.add(report)
    return report


def schedule_follow_up(volunteer: Person, friend: Friend | None, at: datetime) -> FollowUp:
    """Check back with `volunteer` at `at`. One pending follow-up per volunteer: asking again
    moves it. It is queued for its time once the transaction commits."""
    db.session.execute(
        update(FollowUp)
        .where(FollowUp.person_id == volunteer.id, FollowUp.status == "pending")
        .values(status="cancelled")
    )
    follow_up = FollowUp(
        organization_id=volunteer.organization_id,
        person_id=volunteer.id,
        friend_id=friend.id if friend else None,
        due_at=at,
    )
    db.session.add(follow_up)
    db.session.flush()
    handoff.after_commit(handoff.FOLLOW_UP, follow_up.id, at=at)
    return follow_up


def welcome(org: Organization, volunteer: Person, now: datetime) -> None:
    """A volunteer has opted in: they are one from now, with a referral code of their own."""
    if volunteer.volunteer_since is None:
        volunteer.volunteer_since = now
    if volunteer.referral_code is None:
        volunteer.referral_code = unused_code(REFERRAL_CODE_LENGTH, lambda code: _referral_taken(org, code))


def _referral_taken(org: Organization, code: str) -> bool:
    return (
        db.session.scalar(
            select(Person.id).where(Person.organization_id == org.id, Person.referral_code == code)
        )
        is not None
    )


def referred(org: Organization, person: Person, address: Address, code: str, secrets: Sequence[str]) -> None:
    """`person` joined with a volunteer's referral code: link them to that volunteer, and to the
    friend entry the volunteer made for them if their number's digest (under any of the honoured
    `secrets`, in any scheme) matches it."""
    referrer = db.session.scalar(
        select(Person).where(Person.organization_id == org.id, Person.referral_code == code.upper())
    )
    if referrer is None or referrer.id == person.id:
        return
    person.referred_by_id = referrer.id
    link_referral(person, by_digests=digests(address.value, secrets))


def link_referral(person: Person, by_digests: list[str] | None = None) -> None:
    """Connect a new volunteer to the friend entry of the volunteer who invited them: by the
    digest of their number if the inviter gave it, else by first name."""
    if person.referred_by_id is None:
        return
    already = db.session.scalar(select(Friend.id).where(Friend.joined_person_id == person.id))
    if already is not None:
        return
    candidates = select(Friend).where(
        Friend.volunteer_id == person.referred_by_id, Friend.joined_person_id.is_(None)
    )
    if by_digests is None:
        first = first_name(person.name or "")
        friend = next((f for f in db.session.scalars(candidates) if first_name(f.name) == first), None)
    else:
        friend = db.session.scalar(
            candidates.join(FriendContactDigest, FriendContactDigest.friend_id == Friend.id).where(
                FriendContactDigest.digest.in_(by_digests)
            )
        )
    if friend is not None:
        friend.joined_person_id = person.id
        friend.stage = "joined"
