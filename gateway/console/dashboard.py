"""The dashboard: the relational work at a glance. Conversations reported each week and how
they went, where friends stand on the ladder, what people care about and what volunteers
learned, who is active and who stayed, new members who came through an invite, and the
opt-outs and delivery problems that need a look. Never "messages sent".

Every figure is one aggregate query (or a narrow read of a column or two), so the page runs
the same dozen queries at twenty volunteers or twenty thousand."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, Integer, Select, cast, func, select, true

from flows.events import STAGES
from gateway import clock
from gateway.access import current_organization, needs
from gateway.community.inbox import open_count
from gateway.console import bp
from gateway.delivery.addresses import redact
from gateway.delivery.status import OUTBOX_REASONS
from gateway.extensions import db
from gateway.models import (
    Address,
    ConsentEvent,
    ConversationReport,
    Friend,
    Message,
    Organization,
    Person,
    Thread,
)

WEEKS = 12
JULIAN_UNIX_EPOCH = 2440587.5  # the Julian day number of 1970-01-01 00:00 UTC
OUTCOMES = {  # in the order a chart stacks them, with what organizers call them
    "committed": "Committed",
    "open": "Open",
    "undecided": "Undecided",
    "not_interested": "Not interested",
    "not_reached": "Not reached",
}
# Twilio's error codes an organizer meets most, in their words.
PROVIDER_ERRORS = {
    "21610": "The number had sent STOP to this sender.",
    "21614": "Not a mobile number.",
    "30003": "The phone was unreachable (off or out of coverage).",
    "30004": "The recipient blocked the number.",
    "30005": "The number does not exist.",
    "30006": "A landline, or a carrier that cannot take texts.",
    "30007": "The carrier filtered it as possible spam.",
    "30008": "The carrier did not say why.",
}


@dataclass(frozen=True)
class Week:
    starts: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Retention:
    weeks: int
    joined: int  # volunteers who joined at least this long ago
    stayed: int  # of them, who texted in at least this long after joining

    @property
    def share(self) -> int:
        return round(100 * self.stayed / self.joined) if self.joined else 0


@bp.get("/")
@needs("viewer")
def dashboard() -> ResponseReturnValue:
    org = current_organization()
    now = clock.now()
    week_ago = now - timedelta(days=7)
    weeks = conversations_by_week(org, now)
    return render_template(
        "console/dashboard.html",
        org=org,
        weeks=weeks,
        chart=chart(weeks),
        outcomes=OUTCOMES,
        conversations_week=weeks[-1].total,
        conversations=_count(select(func.count()).where(ConversationReport.organization_id == org.id)),
        volunteers=_count(_volunteers(org)),
        active_week=_count(_volunteers(org).where(Person.last_active_at >= week_ago)),
        retention=retention(org, now),
        ladder=ladder(org),
        interests=interests(org),
        learned=learned(org),
        invited=_count(
            _volunteers(org).where(
                Person.referred_by_id.is_not(None), Person.volunteer_since >= now - timedelta(weeks=4)
            )
        ),
        invited_all=_count(_volunteers(org).where(Person.referred_by_id.is_not(None))),
        opt_outs_week=_count(
            select(func.count()).where(
                ConsentEvent.organization_id == org.id,
                ConsentEvent.kind == "opt_out",
                ConsentEvent.at > week_ago,
            )
        ),
        problems=delivery_problems(org, week_ago),
        inbox_open=open_count(org),
        inbox_flagged=_count(
            select(func.count()).where(
                Thread.organization_id == org.id, Thread.status == "open", Thread.flagged
            )
        ),
    )


def _count(query: Select[tuple[int]]) -> int:
    return db.session.scalar(query) or 0


def _volunteers(org: Organization) -> Select[tuple[int]]:
    return (
        select(func.count())
        .select_from(Person)
        .where(Person.organization_id == org.id, Person.volunteer_since.is_not(None))
    )


def conversations_by_week(org: Organization, now: datetime) -> list[Week]:
    """Conversations reported in each of the last WEEKS weeks (the last one ends now), by outcome,
    counted by the database."""
    since = now - timedelta(weeks=WEEKS)
    week = cast(func.floor((_days(ConversationReport.reported_at) - _epoch_days(since)) / 7), Integer)
    buckets = [Counter[str]() for _ in range(WEEKS)]
    for index, outcome, count in db.session.execute(
        select(week, ConversationReport.outcome, func.count())
        .where(ConversationReport.organization_id == org.id, ConversationReport.reported_at > since)
        .group_by(week, ConversationReport.outcome)
    ):
        buckets[min(WEEKS - 1, max(0, int(index)))][outcome] += count
    return [Week(since + timedelta(weeks=i), dict(bucket)) for i, bucket in enumerate(buckets)]


def _days(column: ColumnElement[datetime]) -> ColumnElement[float]:
    """A timestamp column as days since the Unix epoch, in the database's own arithmetic."""
    if db.engine.dialect.name == "sqlite":
        return func.julianday(column) - JULIAN_UNIX_EPOCH
    return func.extract("epoch", column) / 86400.0


def _epoch_days(moment: datetime) -> float:
    return moment.timestamp() / 86400.0


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    outcome: str
    count: int
    week: Week


def chart(weeks: list[Week], width: int = 640, height: int = 200) -> dict[str, object]:
    """Geometry for the stacked weekly bar chart, drawn as SVG by the template."""
    top = max([week.total for week in weeks] + [1])
    scale = _nice(top)
    slot = width / len(weeks)
    bars = []
    for i, week in enumerate(weeks):
        y = float(height)
        for outcome in OUTCOMES:
            count = week.counts.get(outcome, 0)
            if count:
                h = height * count / scale
                y -= h
                bars.append(
                    Bar(round(i * slot + slot * 0.15, 1), round(y, 1), round(h, 1), outcome, count, week)
                )
    return {
        "width": width,
        "height": height,
        "slot": slot,
        "bar_width": round(slot * 0.7, 1),
        "bars": bars,
        "ticks": [(round(height - height * t / scale, 1), t) for t in _ticks(scale)],
        "labels": [(round(i * slot + slot / 2, 1), week.starts) for i, week in enumerate(weeks)],
    }


def _nice(top: int) -> int:
    """The round number at or above `top` the chart's scale runs to: 1, 2, 5, 10, 20, 25, 50..."""
    return min(n for n in (int(m * 10**p) for p in range(9) for m in (1, 2, 2.5, 5)) if n >= top and n >= 1)


def _ticks(scale: int) -> list[int]:
    return sorted({0, scale // 2, scale}) if scale % 2 == 0 else [0, scale]


def retention(org: Organization, now: datetime) -> list[Retention]:
    """Of the volunteers who joined at least 4 (12) weeks ago, how many still texted in 4 (12)
    weeks or more after joining, counted by the database."""
    joined_days = _days(Person.volunteer_since)
    stayed_days = _days(Person.last_active_at) - joined_days
    result = []
    for weeks in (4, 12):
        cutoff = _epoch_days(now - timedelta(weeks=weeks))
        joined, stayed = db.session.execute(
            select(func.count(), func.count().filter(stayed_days >= weeks * 7)).where(
                Person.organization_id == org.id, Person.volunteer_since.is_not(None), joined_days <= cutoff
            )
        ).one()
        result.append(Retention(weeks, joined, stayed))
    return result


def ladder(org: Organization) -> list[tuple[str, int]]:
    counts = dict(
        db.session.execute(
            select(Friend.stage, func.count()).where(Friend.organization_id == org.id).group_by(Friend.stage)
        ).all()
    )
    return [(stage, counts.get(stage, 0)) for stage in STAGES]


def interests(org: Organization, top: int = 10) -> list[tuple[str, int]]:
    """What friends care about, most named first, as volunteers told it (each friend's list of
    interests unnested and counted by the database)."""
    unnest = func.json_each if db.engine.dialect.name == "sqlite" else func.json_array_elements_text
    each = unnest(Friend.interests).table_valued("value")
    name = func.lower(each.c.value)
    return [
        (interest, count)
        for interest, count in db.session.execute(
            select(name, func.count())
            .select_from(Friend)
            .join(each, true())
            .where(Friend.organization_id == org.id)
            .group_by(name)
            .order_by(func.count().desc(), name)
            .limit(top)
        )
        if interest
    ]


@dataclass(frozen=True)
class Learned:
    text: str
    friend: str
    volunteer: str | None
    volunteer_id: int
    outcome: str
    at: datetime


def learned(org: Organization, limit: int = 8) -> list[Learned]:
    rows = db.session.execute(
        select(ConversationReport, Friend.name, Person.name)
        .join(Friend, Friend.id == ConversationReport.friend_id)
        .join(Person, Person.id == ConversationReport.volunteer_id)
        .where(ConversationReport.organization_id == org.id, ConversationReport.learned != "")
        .order_by(ConversationReport.reported_at.desc(), ConversationReport.id.desc())
        .limit(limit)
    ).all()
    return [
        Learned(report.learned, friend, volunteer, report.volunteer_id, report.outcome, report.reported_at)
        for report, friend, volunteer in rows
    ]


@dataclass(frozen=True)
class Problem:
    to: str
    status: str
    why: str
    at: datetime


def delivery_problems(org: Organization, since: datetime, limit: int = 6) -> dict[str, object]:
    """Texts that failed or were held back in the last week: how many, why, and the latest."""
    where = (
        Message.organization_id == org.id,
        Message.direction == "outbound",
        Message.status.in_(("failed", "suppressed")),
        Message.updated_at > since,
    )
    by_status = dict(
        db.session.execute(select(Message.status, func.count()).where(*where).group_by(Message.status)).all()
    )
    latest = db.session.execute(
        select(Message.status, Message.error_code, Message.updated_at, Address.value)
        .join(Address, Address.id == Message.address_id)
        .where(*where)
        .order_by(Message.updated_at.desc(), Message.id.desc())
        .limit(limit)
    ).all()
    return {
        "failed": by_status.get("failed", 0),
        "suppressed": by_status.get("suppressed", 0),
        "latest": [
            Problem(redact(value), status, _why(status, code), at) for status, code, at, value in latest
        ],
    }


def _why(status: str, code: str | None) -> str:
    if code in OUTBOX_REASONS:
        return OUTBOX_REASONS[code]
    if code in PROVIDER_ERRORS:
        return f"Failed: {PROVIDER_ERRORS[code]} (error {code})"
    return f"Failed: the provider said error {code}." if code else "Failed."
