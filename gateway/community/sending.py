"""What prompt rounds and organizer mailings share: the audience they are for, the batches it is
planned in, the calling window and caps they plan by, the check that a confirmation was not sent
twice, and where their messages are."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from flows import pacing
from flows import teams as team_flows
from gateway import clock
from gateway.community import audit
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import Mailing, Message, Organization, Organizer, Person, PromptRound, Team


class AudienceError(ValueError):
    """An audience that names nothing Kindred knows (a team code, a stage, an event)."""


class ConfirmError(ValueError):
    """A send whose confirmed count is not the count it would reach now; `count` is that count,
    when the caller shows it."""

    def __init__(self, message: str, count: int | None = None) -> None:
        super().__init__(message)
        self.count = count


@dataclass(frozen=True)
class Audience:
    """Who a round or a mailing is for: `kind`, and what it names (`value`, as typed back to the
    organizer; `row_id`, the team's or event's id)."""

    kind: str
    value: str = ""
    row_id: int | None = None

    def __str__(self) -> str:
        return self.kind if self.kind == "all" else f"{self.kind}:{self.value}"


def team_audience(org: Organization, code: str) -> Audience:
    """The audience of the team with join code `code`, or AudienceError."""
    team = None
    if team_flows.is_code(code):
        team = db.session.scalar(
            select(Team).where(Team.organization_id == org.id, func.upper(Team.join_code) == code.upper())
        )
    if team is None:
        raise AudienceError(f"no team has the join code {code!r}")
    return Audience("team", team.join_code, team.id)


def team_choices(org: Organization) -> list[tuple[str, str]]:
    """The organization's teams as (join code, name), for choosing an audience."""
    return [
        (code, name)
        for code, name in db.session.execute(
            select(Team.join_code, Team.name).where(Team.organization_id == org.id).order_by(Team.name)
        )
    ]


@dataclass(frozen=True)
class Batch:
    """One batch of an audience: person ids in (after, last], and the query of its members.
    The queries for the batch's rows name both: the range lets the database read the batch's
    rows off an index, and the query needs no list of ids."""

    after: int
    last: int
    members: Select[Any]

    def holds(self, person_id: Any) -> Any:
        """The condition that `person_id` (a column) is one of the batch's people."""
        return person_id.between(self.after + 1, self.last) & person_id.in_(self.members)


def batches(audience: Select[Any], size: int) -> Iterator[tuple[Sequence[Row[Any]], Batch]]:
    """The people of `audience` (a query of Person rows in id order), `size` at a time. Each
    batch is read when the one before it has been used, so the caller may write between them."""
    after = 0
    while True:
        query = audience.where(Person.id > after)
        people = db.session.execute(query.limit(size)).all()
        if not people:
            return
        members = query.where(Person.id <= people[-1].id).with_only_columns(Person.id)
        yield people, Batch(after, people[-1].id, members)
        after = people[-1].id


class Tally(Protocol):
    def add(self, outcome: Any) -> None: ...


Counted = TypeVar("Counted", bound=Tally)


def tally(result: Counted, planned: Iterable[list[Any]]) -> Counted:
    """`result` (a preview) with each outcome of each batch `planned` added to it."""
    for batch in planned:
        for outcome in batch:
            result.add(outcome)
    return result


class Pacer:
    """The organization's calling window and caps, for planning many messages at once: when the
    window next lets a message go in a time zone, and whether the caps hold someone back."""

    def __init__(self, org: Organization, now: datetime) -> None:
        self.rules = outbox.pacing_rules(org)
        self.now = now
        self._windows: dict[str, datetime] = {}

    def window(self, timezone: str) -> datetime:
        """When the calling window next allows a message in `timezone` (now, if open)."""
        if timezone not in self._windows:
            self._windows[timezone] = pacing.next_send_time(self.now, timezone, self.rules, ())
        return self._windows[timezone]

    def over_cap(self, timezone: str, sent: Sequence[datetime] | None) -> bool:
        """Whether the messages started to someone lately (`sent`) keep the next one past the
        window's next opening."""
        if not sent:
            return False
        return pacing.next_send_time(self.now, timezone, self.rules, sent) > self.window(timezone)


def earlier(
    model: Any,
    org: Organization,
    audience: Audience,
    organizer: Organizer | None,
    since: datetime,
    **same: Any,
) -> Any:
    """A round or mailing (`model`) the same organizer started for the same audience (and with
    the same values of the columns named in `same`) since `since`: the same confirmation sent
    twice."""
    return db.session.scalar(
        select(model)
        .where(
            model.organization_id == org.id,
            model.audience == str(audience),
            model.created_by_id == (organizer.id if organizer else None),
            model.created_at >= since,
            *(getattr(model, column) == value for column, value in same.items()),
        )
        .limit(1)
    )


@dataclass(frozen=True)
class Started:
    """What a round or mailing is started with: who it is for, the count confirmed, the counts
    excluded by reason, who started it and from where, and when."""

    audience: Audience
    planned: int
    excluded: dict[str, int]
    organizer: Organizer | None
    actor: str
    ip: str
    now: datetime


def start(model: Any, org: Organization, started: Started, action: str, key: str, **fields: Any) -> Any:
    """Write a round or mailing (`model`, with its own `fields`), and its audit entry (`action`,
    naming it as `key`); the caller commits."""
    organizer = started.organizer
    row = model(
        organization_id=org.id,
        audience=str(started.audience),
        planned=started.planned,
        excluded=started.excluded,
        created_by_id=organizer.id if organizer else None,
        actor=(organizer.email if organizer else started.actor)[:320],
        created_at=started.now,
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        org,
        action,
        organizer,
        started.ip,
        started.actor,
        **{key: row.id},
        audience=str(started.audience),
        count=started.planned,
        excluded=started.excluded,
    )
    return row


@dataclass(frozen=True)
class Progress:
    """A round's or mailing's messages by where they are: queued (due now), deferred (queued for
    later), sent (delivered among them), suppressed (by reason) and failed."""

    queued: int = 0
    deferred: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)

    @property
    def suppressed_total(self) -> int:
        return sum(self.suppressed.values())

    @property
    def total(self) -> int:
        return self.queued + self.deferred + self.sent + self.failed + self.suppressed_total


def listing_line(sent: PromptRound | Mailing, p: Progress) -> str:
    """A round or mailing as one line of a CLI listing, tab-separated, with its progress."""
    return (
        f"{sent.id}\t{sent.created_at:%Y-%m-%d %H:%M}\t{sent.audience}\t{sent.status}\t"
        f"planned {sent.planned}, sent {p.sent}, delivered {p.delivered}, queued {p.queued}, "
        f"deferred {p.deferred}, suppressed {p.suppressed_total}, failed {p.failed}"
    )


SENT_STATUSES = frozenset({"sent", "delivered"})
FAILED_STATUSES = frozenset({"failed", "undelivered"})


def progress(
    by: InstrumentedAttribute[int | None], ids: list[int], now: datetime | None = None
) -> dict[int, Progress]:
    """The progress of each round or mailing in `ids`, by the message column naming it (`by`:
    Message.round_id or Message.mailing_id), read with one grouped query."""
    now = now or clock.now()
    deferred = (Message.status == "queued") & (Message.next_attempt_at > now)
    rows = db.session.execute(
        select(by, Message.status, Message.error_code, deferred.label("deferred"), func.count())
        .where(by.in_(ids))
        .group_by(by, Message.status, Message.error_code, deferred)
    )
    counts: dict[int, Counter[str]] = {row_id: Counter() for row_id in ids}
    suppressed: dict[int, Counter[str]] = {row_id: Counter() for row_id in ids}
    for row_id, status, error_code, later, count in rows:
        if status in ("queued", "sending"):
            counts[row_id]["deferred" if later else "queued"] += count
        elif status in SENT_STATUSES:
            counts[row_id]["sent"] += count
            counts[row_id]["delivered"] += count if status == "delivered" else 0
        elif status == "suppressed":
            suppressed[row_id][error_code or "unknown"] += count
        else:
            counts[row_id]["failed" if status in FAILED_STATUSES else "queued"] += count
    return {
        row_id: Progress(
            queued=counts[row_id]["queued"],
            deferred=counts[row_id]["deferred"],
            sent=counts[row_id]["sent"],
            delivered=counts[row_id]["delivered"],
            failed=counts[row_id]["failed"],
            suppressed=dict(suppressed[row_id]),
        )
        for row_id in ids
    }
