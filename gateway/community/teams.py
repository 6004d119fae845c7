"""Teams: a volunteer's team as the flows see it, join codes, joining and leaving, and who
gets a team update.

A teammate gets an update only if they joined by their own text (`TeamMember.evidence_message_id`),
have not muted, have an opt-in on record and are not being erased; the sender never gets their
own. The outbox checks consent again at send time and paces each copy (see flows/teams.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from flows import events as ev
from flows.parse import mask_contacts
from flows.teams import CODE_LENGTH, is_code, relay_body
from gateway.community.codes import unused_code as new_code
from gateway.delivery import consent, outbox
from gateway.extensions import db
from gateway.models import Address, Message, MessageStatusEvent, Organization, Person, Team, TeamMember

UPDATE_WINDOW = timedelta(hours=24)  # the per-member cap on updates counts this far back


def view(person: Person, address: Address, now: datetime) -> ev.TeamView | None:
    """The team `person` is on, as they see it; None if they are on none."""
    membership = db.session.scalar(select(TeamMember).where(TeamMember.person_id == person.id))
    if membership is None:
        return None
    team = db.session.get(Team, membership.team_id)
    assert team is not None
    return _view(
        team,
        person,
        listeners=len(listeners(team, person)),
        muted=membership.muted,
        updates_today=updates_since(address, now - UPDATE_WINDOW),
    )


def joining(org: Organization, code: str | None) -> ev.TeamView | None:
    """The team with join code `code`, as someone about to join it sees it. Its row is locked
    for the turn, so two people joining at once cannot both take the last place."""
    if code is None:
        return None
    team = db.session.scalar(
        select(Team).where(Team.organization_id == org.id, Team.join_code == code).with_for_update()
    )
    return None if team is None else _view(team)


def _view(team: Team, viewer: Person | None = None, **extra: Any) -> ev.TeamView:
    """A team as the flows see it, naming its members other than `viewer`."""
    members = _members(team)
    return ev.TeamView(
        id=team.id,
        name=team.name,
        code=team.join_code,
        size=len(members),
        member_names=tuple(p.name or "" for _, p in members if viewer is None or p.id != viewer.id),
        **extra,
    )


def unused_code(org: Organization) -> str:
    """A join code no team of the organization has."""

    def taken(code: str) -> bool:
        return (
            db.session.scalar(select(Team.id).where(Team.organization_id == org.id, Team.join_code == code))
            is not None
        )

    return new_code(CODE_LENGTH, taken, shape=is_code)


def listeners(team: Team, sender: Person) -> list[Address]:
    """The addresses a team update from `sender` goes to (see the module docstring)."""
    rows = db.session.scalars(
        select(Address)
        .join(TeamMember, TeamMember.person_id == Address.person_id)
        .where(
            TeamMember.team_id == team.id,
            TeamMember.person_id != sender.id,
            TeamMember.muted.is_(False),
            TeamMember.evidence_message_id.is_not(None),
            Address.channel == "sms",
            Address.pending_erasure.is_(False),
        )
        .order_by(TeamMember.id)
    )
    return [address for address in rows if consent.status(address) is ev.Consent.OPTED_IN]


def updates_since(address: Address, since: datetime) -> int:
    """How many team updates this address sent that were relayed (queued) after `since`."""
    update = aliased(Message)
    return (
        db.session.scalar(
            select(func.count(func.distinct(Message.in_reply_to_id)))
            .join(update, Message.in_reply_to_id == update.id)
            .join(MessageStatusEvent, MessageStatusEvent.message_id == Message.id)
            .where(
                Message.reason == "team_relay",
                update.address_id == address.id,
                MessageStatusEvent.status == "queued",
                MessageStatusEvent.at > since,
            )
        )
        or 0
    )


def _members(team: Team) -> list[tuple[TeamMember, Person]]:
    rows = db.session.execute(
        select(TeamMember, Person)
        .join(Person, Person.id == TeamMember.person_id)
        .where(TeamMember.team_id == team.id)
        .order_by(TeamMember.id)
    )
    return [(member, person) for member, person in rows]


def create(
    org: Organization, name: str, code: str, founder: Person, evidence: Message | None, now: datetime
) -> Team:
    """Start a team with join code `code`, its founder its first member."""
    team = Team(organization_id=org.id, name=name[:60], join_code=code, created_by_id=founder.id)
    db.session.add(team)
    db.session.flush()
    join(team, founder, evidence, now)
    return team


def join(team: Team, person: Person, evidence: Message | None, now: datetime) -> None:
    """Put `person` on `team`, off any other; their text (`evidence`) is the evidence they want
    its updates."""
    db.session.execute(delete(TeamMember).where(TeamMember.person_id == person.id))
    db.session.add(
        TeamMember(
            team_id=team.id,
            person_id=person.id,
            evidence_message_id=evidence.id if evidence else None,
            joined_at=now,
        )
    )
    db.session.flush()


def join_by_id(
    org: Organization, team_id: int, person: Person, evidence: Message | None, now: datetime
) -> None:
    """Put `person` on the organization's team `team_id`; any other team's id is refused."""
    team = db.session.get(Team, team_id)
    if team is None or team.organization_id != org.id:
        raise LookupError(f"team {team_id} is not one of this organization's")
    join(team, person, evidence, now)


def leave(person: Person) -> None:
    """Take `person` off their team."""
    db.session.execute(delete(TeamMember).where(TeamMember.person_id == person.id))


def mute(person: Person, muted: bool) -> None:
    """Pause (or resume) the team updates `person` gets."""
    db.session.execute(update(TeamMember).where(TeamMember.person_id == person.id).values(muted=muted))


def relay_update(
    sender: Person, sender_name: str, team_name: str, text: str, inbound: Message | None
) -> list[Message]:
    """Queue a copy of a team update for each teammate who listens (see the module docstring)."""
    membership = db.session.scalar(select(TeamMember).where(TeamMember.person_id == sender.id))
    team = db.session.get(Team, membership.team_id) if membership else None
    if team is None:
        return []
    relayed = []
    for address in listeners(team, sender):
        language = address.person.language if address.person is not None else "en"
        body = relay_body(language, sender_name, team_name, mask_contacts(text))
        relayed.append(outbox.queue_sms(address, body, str(ev.ReplyKind.TEAM_RELAY), inbound))
    return relayed
