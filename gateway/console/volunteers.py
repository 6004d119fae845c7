"""Volunteers: search, filter and page through them; one volunteer's friends, conversations,
messages, teams, RSVPs and consent history. Friends have no contact details to show.

Each page runs the same few queries whatever the number of volunteers (counts are aggregated
in SQL, a page's rows are fetched at once), so it stays fast at thousands of people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, and_, exists, func, or_, select

from flows import abuse
from flows.events import STAGES
from gateway import clock
from gateway.access import current_organization, needs
from gateway.console import bp
from gateway.console.forms import whole_number
from gateway.delivery.addresses import redact
from gateway.extensions import db
from gateway.models import (
    Address,
    ConsentEvent,
    ConversationReport,
    Event,
    Friend,
    Message,
    Person,
    Rsvp,
    Team,
    TeamMember,
    Thread,
)

PER_PAGE = 50
ACTIVE = {"week": "Active this week", "quiet": "Quiet for 4 weeks or more"}
LANGUAGES = {"en": "English", "es": "Español"}
MESSAGES_SHOWN = 50


@dataclass(frozen=True)
class Filters:
    """What the organizer asked for, checked: anything unknown is ignored, never an error."""

    q: str = ""
    team: str = ""  # a team id, "none", or "" for any
    stage: str = ""
    active: str = ""
    language: str = ""

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        team = args.get("team", "")
        return cls(
            q=args.get("q", "").replace("\x00", "").strip()[:80],
            team=team if team == "none" or whole_number(team) else "",
            stage=args.get("stage", "") if args.get("stage", "") in STAGES else "",
            active=args.get("active", "") if args.get("active", "") in ACTIVE else "",
            language=args.get("language", "") if args.get("language", "") in LANGUAGES else "",
        )

    def as_args(self) -> dict[str, str]:
        return {key: value for key, value in self.__dict__.items() if value}


@dataclass(frozen=True)
class Row:
    person: Person
    phone: str
    team: str | None
    friends: int
    conversations: int
    opted_out: bool


def _sms_address(person_id: Any) -> Any:
    return (
        select(Address.id)
        .where(Address.person_id == person_id, Address.channel == "sms")
        .order_by(Address.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _matching(org_id: int, filters: Filters) -> Select[Any]:
    """Volunteers of the organization that match the filters (a query to add columns to)."""
    now = clock.now()
    query = (
        select(Person)
        .outerjoin(TeamMember, TeamMember.person_id == Person.id)
        .outerjoin(Team, Team.id == TeamMember.team_id)
        .where(Person.organization_id == org_id, Person.volunteer_since.is_not(None))
    )
    if filters.q:
        digits = "".join(ch for ch in filters.q if ch.isdigit())
        text = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        match = Person.name.ilike(f"%{text}%", escape="\\")
        if not _phone_shown():
            digits = digits[-4:]  # a viewer, who sees numbers masked, finds by the last four only
        if len(digits) >= 4:  # the end of a phone number
            match = or_(
                match,
                exists().where(
                    Address.person_id == Person.id, Address.channel == "sms", Address.value.like(f"%{digits}")
                ),
            )
        query = query.where(match)
    if filters.team == "none":
        query = query.where(TeamMember.id.is_(None))
    elif filters.team:
        query = query.where(TeamMember.team_id == int(filters.team))
    if filters.stage:
        query = query.where(exists().where(Friend.volunteer_id == Person.id, Friend.stage == filters.stage))
    if filters.active == "week":
        query = query.where(Person.last_active_at >= now - timedelta(days=7))
    elif filters.active == "quiet":
        query = query.where(
            or_(Person.last_active_at.is_(None), Person.last_active_at < now - timedelta(weeks=4))
        )
    if filters.language:
        query = query.where(Person.language == filters.language)
    return query


def volunteer_page(org_id: int, filters: Filters, page: int) -> tuple[list[Row], int]:
    """One page of matching volunteers, newest first, with their counts; and how many match."""
    base = _matching(org_id, filters)
    total = (
        db.session.scalar(select(func.count()).select_from(base.with_only_columns(Person.id).subquery())) or 0
    )
    friends = select(func.count()).where(Friend.volunteer_id == Person.id).correlate(Person).scalar_subquery()
    talks = (
        select(func.count())
        .where(ConversationReport.volunteer_id == Person.id)
        .correlate(Person)
        .scalar_subquery()
    )
    address_id = _sms_address(Person.id)
    rows = db.session.execute(
        base.add_columns(Team.name, friends, talks, address_id)
        .order_by(Person.volunteer_since.desc(), Person.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    addresses = _addresses([row[4] for row in rows if row[4] is not None])
    return [
        Row(
            person,
            addresses[address][0] if address in addresses else "",
            team,
            friends_n,
            talks_n,
            addresses[address][1] if address in addresses else False,
        )
        for person, team, friends_n, talks_n, address in rows
    ], total


def _addresses(ids: list[int]) -> dict[int, tuple[str, bool]]:
    """Each address's value and whether its latest consent event is an opt-out (one query)."""
    if not ids:
        return {}
    latest = (
        select(func.max(ConsentEvent.id))
        .where(ConsentEvent.address_id.in_(ids), ConsentEvent.channel == "sms")
        .group_by(ConsentEvent.address_id)
    )
    rows = db.session.execute(
        select(Address.id, Address.value, ConsentEvent.kind)
        .outerjoin(ConsentEvent, and_(ConsentEvent.address_id == Address.id, ConsentEvent.id.in_(latest)))
        .where(Address.id.in_(ids))
    ).all()
    return {address_id: (value, kind == "opt_out") for address_id, value, kind in rows}


@bp.get("/volunteers")
@needs("viewer")
def volunteers() -> ResponseReturnValue:
    org = current_organization()
    filters = Filters.from_args(request.args)
    page = whole_number(request.args.get("page"), 1, limit=100_000) or 1
    rows, total = volunteer_page(org.id, filters, page)
    teams = db.session.execute(
        select(Team.id, Team.name).where(Team.organization_id == org.id).order_by(Team.name)
    ).all()
    return render_template(
        "console/volunteers.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        filters=filters,
        teams=teams,
        stages=STAGES,
        active_choices=ACTIVE,
        languages=LANGUAGES,
        show_phone=_phone_shown(),
    )


@dataclass(frozen=True)
class FriendRow:
    friend: Friend
    last_talk: Any
    learned: str
    outcome: str
    conversations: int


def volunteer_or_404(id: int) -> Person:
    """The volunteer `id` of the organization the console is showing; 404 for anyone else."""
    person = db.session.scalar(
        select(Person).where(
            Person.id == id,
            Person.organization_id == current_organization().id,
            Person.volunteer_since.is_not(None),
        )
    )
    if person is None:
        abort(404, description="no such volunteer")
    return person


@bp.get("/volunteers/<id:id>")
@needs("viewer")
def volunteer(id: int) -> ResponseReturnValue:
    org = current_organization()
    person = volunteer_or_404(id)
    addresses = db.session.scalars(select(Address).where(Address.person_id == person.id)).all()
    address_ids = [address.id for address in addresses]
    friends = db.session.scalars(
        select(Friend).where(Friend.volunteer_id == person.id).order_by(Friend.added_at, Friend.id)
    ).all()
    reports = db.session.scalars(
        select(ConversationReport)
        .where(ConversationReport.volunteer_id == person.id)
        .order_by(ConversationReport.reported_at.desc(), ConversationReport.id.desc())
    ).all()
    by_friend: dict[int, list[ConversationReport]] = {}
    for report in reports:
        by_friend.setdefault(report.friend_id, []).append(report)
    friend_rows = []
    for friend in friends:
        talks = by_friend.get(friend.id, [])  # newest first
        friend_rows.append(
            FriendRow(
                friend,
                talks[0].reported_at if talks else None,
                next((talk.learned for talk in talks if talk.learned), ""),
                talks[0].outcome if talks else "",
                len(talks),
            )
        )
    messages = list(
        reversed(
            db.session.scalars(
                select(Message)
                .where(Message.address_id.in_(address_ids))
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(MESSAGES_SHOWN)
            ).all()
        )
    )
    teams = db.session.execute(
        select(Team.name, TeamMember.joined_at, TeamMember.muted)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.person_id == person.id)
    ).all()
    rsvps = db.session.execute(
        select(Event.title, Event.starts_at, Rsvp.status)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(Rsvp.person_id == person.id)
        .order_by(Event.starts_at.desc())
    ).all()
    consent_events = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.address_id.in_(address_ids)).order_by(ConsentEvent.id.desc())
    ).all()
    people = db.session.execute(
        select(Person.id, Person.name, Person.referred_by_id).where(
            Person.organization_id == org.id,
            or_(Person.referred_by_id == person.id, Person.id == person.referred_by_id),
        )
    ).all()
    thread_id = db.session.scalar(select(Thread.id).where(Thread.person_id == person.id))
    shown = _phone_shown()
    return render_template(
        "console/volunteer.html",
        person=person,
        phones=[a.value if shown else redact(a.value) for a in addresses if a.channel == "sms"],
        emails=[a.value if shown else redact(a.value) for a in addresses if a.channel == "email"],
        friends=friend_rows,
        conversations=len(reports),
        messages=messages,
        teams=teams,
        rsvps=rsvps,
        consent_events=consent_events,
        referred_by=next((p for p in people if p.id == person.referred_by_id), None),
        brought_in=[p for p in people if p.referred_by_id == person.id],
        thread_id=thread_id,
        stages=STAGES,
        flagged=abuse.flagged,
        show_flagged=request.args.get("confirm") == "1",
    )


def _phone_shown() -> bool:
    """Organizers and admins see volunteers' numbers (to call them); viewers see them masked."""
    return current_user.role != "viewer"
