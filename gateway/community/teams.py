"""Teams: a volunteer's team as the flows see it, join codes, joining and leaving, and who
gets a team update.

A teammate gets an update only if they joined by their own text (`TeamMember.evidence_message_id`),
have not muted, have an opt-in on record and are not being erased; the sender never gets their
own. The outbox checks consent again at send time and paces each copy (see flows/teams.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from flows import events as ev
from flows.parse import mask_contacts
from flows.teams import CODE_LENGTH, is_code, relay_body
from gateway.community.codes import unused_code as new_code
from gateway.community.events import EventStatus
from gateway.delivery import consent, outbox
from gateway.extensions import db
from gateway.models import (
    Address,
    ConversationReport,
    Event,
    Message,
    MessageStatusEvent,
    Organization,
    Person,
    Team,
    TeamMember,
)

UPDATE_WINDOW = timedelta(hours=24)  # the per-member cap on updates counts this far back
ACTIVITY_WINDOW = timedelta(days=30)  # the console's activity counts look this far back


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
        lead=membership.lead,
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
    others = [(member, p) for member, p in members if viewer is None or p.id != viewer.id]
    return ev.TeamView(
        id=team.id,
        name=team.name,
        code=team.join_code,
        size=len(members),
        member_names=tuple(p.name or "" for _, p in others),
        lead_names=tuple(p.name for member, p in others if member.lead and p.name),
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


def set_lead(team: Team, person_id: int, lead: bool) -> bool:
    """Make a member of `team` one of its leads (or not); returns whether anything changed.
    A new lead is told in the reply to their next text (:func:`notices`)."""
    member = db.session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.person_id == person_id)
    )
    if member is None:
        raise LookupError(f"person {person_id} is not on team {team.id}")
    if member.lead == lead:
        return False
    member.lead = lead
    member.lead_told_at = None
    return True


def notices(person: Person) -> list[ev.Notice]:
    """ "You're now a lead of ...", if `person` was made a lead and not told yet."""
    row = db.session.execute(
        select(TeamMember.id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.person_id == person.id,
            TeamMember.lead.is_(True),
            TeamMember.lead_told_at.is_(None),
        )
    ).first()
    return [ev.Notice(ev.NoticeKind.LEAD, row.name, row.id)] if row else []


def mark_lead_told(person: Person, membership_id: int, now: datetime) -> None:
    """The new lead was told."""
    db.session.execute(
        update(TeamMember)
        .where(TeamMember.id == membership_id, TeamMember.person_id == person.id)
        .values(lead_told_at=now)
    )


def leave(person: Person) -> None:
    """Take `person` off their team."""
    db.session.execute(delete(TeamMember).where(TeamMember.person_id == person.id))


def mute(person: Person, muted: bool) -> None:
    """Pause (or resume) the team updates `person` gets."""
    db.session.execute(update(TeamMember).where(TeamMember.person_id == person.id).values(muted=muted))


def relay_update(
    sender: Person, sender_name: str, team_name: str, text: str, inbound: Message | None, region: str
) -> list[Message]:
    """Queue a copy of a team update for each teammate who listens (see the module docstring),
    phone numbers in it masked (national ones read as `region`'s)."""
    membership = db.session.scalar(select(TeamMember).where(TeamMember.person_id == sender.id))
    team = db.session.get(Team, membership.team_id) if membership else None
    if team is None:
        return []
    relayed = []
    for address in listeners(team, sender):
        language = address.person.language if address.person is not None else "en"
        body = relay_body(language, sender_name, team_name, mask_contacts(text, region))
        relayed.append(outbox.queue_sms(address, body, str(ev.ReplyKind.TEAM_RELAY), inbound))
    return relayed


@dataclass(frozen=True)
class TeamRow:
    """A team as the console lists it: its counts over the last :data:`ACTIVITY_WINDOW`."""

    team: Team
    members: int = 0
    joined_this_month: int = 0
    updates: int = 0  # team updates its members sent that were relayed
    conversations: int = 0  # conversations its members reported
    leads: tuple[str, ...] = ()
    next_event: tuple[str, datetime] | None = None


def overview(
    org: Organization, now: datetime, month_start: datetime, team_id: int | None = None
) -> list[TeamRow]:
    """Every team of the organization (or just `team_id`) with its counts, by name; a fixed
    handful of grouped queries, however many teams and members."""
    since = now - ACTIVITY_WINDOW
    teams = db.session.scalars(
        select(Team)
        .where(Team.organization_id == org.id, *([Team.id == team_id] if team_id is not None else []))
        .order_by(Team.name, Team.id)
    ).all()
    ids = [team.id for team in teams]
    if not ids:
        return []
    in_teams = TeamMember.team_id.in_(ids)
    members = {
        tid: (count, joined)
        for tid, count, joined in db.session.execute(
            select(TeamMember.team_id, func.count(), func.count().filter(TeamMember.joined_at >= month_start))
            .where(in_teams)
            .group_by(TeamMember.team_id)
        )
    }
    updates = _updates_relayed(since, TeamMember.team_id, in_teams)
    talks = _conversations(since, TeamMember.team_id, in_teams)
    leads: dict[int, list[str]] = {}
    for tid, name in db.session.execute(
        select(TeamMember.team_id, Person.name)
        .join(Person, Person.id == TeamMember.person_id)
        .where(in_teams, TeamMember.lead.is_(True))
        .order_by(Person.name)
    ):
        leads.setdefault(tid, []).append(name or "(no name yet)")
    first = (
        select(Event.team_id, func.min(Event.starts_at).label("starts_at"))
        .where(Event.team_id.in_(ids), Event.status == EventStatus.LISTED, Event.starts_at > now)
        .group_by(Event.team_id)
        .subquery()
    )
    next_events = {
        tid: (title, starts_at)
        for tid, title, starts_at in db.session.execute(
            select(Event.team_id, Event.title, Event.starts_at)
            .join(first, (first.c.team_id == Event.team_id) & (first.c.starts_at == Event.starts_at))
            .where(Event.status == EventStatus.LISTED)
        )
    }
    return [
        TeamRow(
            team,
            *members.get(team.id, (0, 0)),
            updates.get(team.id, 0),
            talks.get(team.id, 0),
            tuple(leads.get(team.id, ())),
            next_events.get(team.id),
        )
        for team in teams
    ]


@dataclass(frozen=True)
class MemberRow:
    person_id: int
    name: str | None
    phone: str
    joined_at: datetime
    muted: bool
    lead: bool
    updates: int  # team updates relayed in the last ACTIVITY_WINDOW
    conversations: int  # conversations reported in the last ACTIVITY_WINDOW


def member_rows(team: Team, now: datetime) -> list[MemberRow]:
    """The team's members, leads first, with their number and their recent activity."""
    since = now - ACTIVITY_WINDOW
    phone = (
        select(Address.value)
        .where(Address.person_id == Person.id, Address.channel == "sms")
        .order_by(Address.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    on_team = TeamMember.team_id == team.id
    updates = _updates_relayed(since, TeamMember.person_id, on_team)
    talks = _conversations(since, TeamMember.person_id, on_team)
    rows = db.session.execute(
        select(Person.id, Person.name, phone, TeamMember.joined_at, TeamMember.muted, TeamMember.lead)
        .join(TeamMember, TeamMember.person_id == Person.id)
        .where(on_team)
        .order_by(TeamMember.lead.desc(), Person.name, Person.id)
    ).all()
    return [
        MemberRow(pid, name, value or "", joined, muted, lead, updates.get(pid, 0), talks.get(pid, 0))
        for pid, name, value, joined, muted, lead in rows
    ]


def _updates_relayed(since: datetime, key: Any, *where: Any) -> dict[int, int]:
    """How many team updates members sent that were relayed after `since`, grouped by `key`
    (a TeamMember column), for the members `where` picks. The relayed copies are picked first
    (a distinct subquery), so each update is then found by its id."""
    relayed = (
        select(Message.in_reply_to_id.label("update_id"))
        .where(Message.reason == str(ev.ReplyKind.TEAM_RELAY), Message.created_at >= since)
        .distinct()
        .subquery()
    )
    rows = db.session.execute(
        select(key, func.count(Message.id))
        .select_from(relayed)
        .join(Message, Message.id == relayed.c.update_id)
        .join(Address, Address.id == Message.address_id)
        .join(TeamMember, TeamMember.person_id == Address.person_id)
        .where(*where)
        .group_by(key)
    )
    return {group: count for group, count in rows}


def _conversations(since: datetime, key: Any, *where: Any) -> dict[int, int]:
    """How many conversations members reported after `since`, grouped by `key` (a TeamMember
    column), for the members `where` picks."""
    rows = db.session.execute(
        select(key, func.count(ConversationReport.id))
        .join(ConversationReport, ConversationReport.volunteer_id == TeamMember.person_id)
        .where(ConversationReport.reported_at >= since, *where)
        .group_by(key)
    )
    return {group: count for group, count in rows}
