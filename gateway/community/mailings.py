"""Organizer mailings: an email, written in Markdown, to the email-opted-in members of an
audience (everyone with an email address, a team, or the people going to an event). There is no
list upload and no address typed in: only people already on record, and only those who
confirmed their email address, can be reached.

Planning reads the audience in keyset batches of people (as prompt rounds do), with each one's
latest email address, its consent and the messages lately started to it. Each person is either
planned (with when their calling window lets the email go) or excluded for a reason, which the
preview counts and names a few people for.

Sending plans again and refuses, with nothing written, unless the count is the one the organizer
confirmed; then it writes the mailing (audited, `sending`) and queues one `mailing` email per
planned member, all in one transaction, in the request: an email audience is a few thousand
members at most, and a mailing is then either all queued or not written at all (a request cut
short leaves nothing half-sent). The outbox marks it `done` when none of its emails is left to
send. The outbox checks the opt-in, the calling window and
the caps again right before each send.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select

from gateway import clock
from gateway.community import sending
from gateway.community.sending import Audience, AudienceError, Batch, ConfirmError
from gateway.delivery import consent, mail_content, outbox
from gateway.delivery.addresses import ERASED_PREFIX
from gateway.extensions import db
from gateway.models import (
    Address,
    Event,
    Mailing,
    Message,
    Organization,
    Organizer,
    Person,
    Rsvp,
    TeamMember,
)
from gateway.models.base import row_id

REASON = "mailing"  # the outbox reason of a mailing's emails
BATCH = 1000  # people planned (and queued) at a time
NAMES = 5  # people named for each reason anyone is excluded for
EVENT_CHOICES = 50

# Why someone in the audience gets no email, in the order they are checked, in plain words.
EXCLUSIONS = {
    "no_email": "No email address on record",
    "erased": "Asked for their data to be erased",
    "opted_out": "Unsubscribed from email (a link, a reply, a bounce or a spam report)",
    "no_opt_in": "Never confirmed their email address",
    "over_cap": "Over the daily or weekly cap of messages we start",
}

# A mailing's status: `sending` from the moment it and all its emails are written, then `done`
# when none of them is left to send (gateway.delivery.outbox.settle_mailing).
SENDING, DONE = "sending", "done"


class DraftError(ValueError):
    """A subject or body that cannot be sent (empty, too long, a subject on two lines)."""


@dataclass(frozen=True)
class Draft:
    """What the organizer wrote: a one-line subject and a Markdown body."""

    subject: str
    body: str


def draft(subject: str, body: str) -> Draft:
    """The subject and body as they will be sent, or DraftError saying what is wrong."""
    subject = mail_content.subject_line(subject or "", limit=None)  # too long is the organizer's to fix
    body = (body or "").replace("\r\n", "\n").strip("\n")
    if not subject:
        raise DraftError("write a subject")
    if len(subject) > mail_content.SUBJECT_MAX:
        raise DraftError(f"the subject is {len(subject)} characters; at most {mail_content.SUBJECT_MAX}")
    if not body.strip():
        raise DraftError("write the message")
    size = len(body.encode())
    if size > mail_content.BODY_MAX:
        raise DraftError(f"the message is {size:,} bytes; at most {mail_content.BODY_MAX:,}")
    return Draft(subject, body)


def parse_audience(org: Organization, raw: str) -> Audience:
    """The audience `raw` names (all, team:CODE, event:ID), or AudienceError saying what is wrong."""
    kind, _, value = (raw or "").strip().partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if kind == "all" and not value:
        return Audience("all")
    if kind == "team" and value:
        return sending.team_audience(org, value)
    if kind == "event" and value:
        event_id = row_id(value)
        event = db.session.get(Event, event_id) if event_id is not None else None
        if event is None or event.organization_id != org.id:
            raise AudienceError(f"no event has the id {value!r}")
        return Audience("event", str(event.id), event.id)
    raise AudienceError("choose an audience: all, team:CODE or event:ID")


def event_choices(org: Organization) -> list[Event]:
    """The organization's listed events, latest first, for choosing an audience."""
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.organization_id == org.id, Event.status == "listed")
            .order_by(Event.starts_at.desc())
            .limit(EVENT_CHOICES)
        )
    )


@dataclass(frozen=True)
class Planned:
    """A member who will get the email, and when their calling window lets it go (None: now)."""

    person_id: int
    address_id: int
    send_at: datetime | None


@dataclass(frozen=True)
class Excluded:
    person_id: int
    name: str
    reason: str


@dataclass
class Preview:
    """What a mailing would do now: how many get it, how many of those wait for their calling
    window (and the first from when), and who is excluded: counts by reason, a few names each."""

    audience: Audience
    now: datetime
    count: int = 0
    deferred: int = 0
    first_deferred: datetime | None = None
    excluded: dict[str, int] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)

    def add(self, outcome: Planned | Excluded) -> None:
        if isinstance(outcome, Excluded):
            self.excluded[outcome.reason] = self.excluded.get(outcome.reason, 0) + 1
            named = self.names.setdefault(outcome.reason, [])
            if len(named) < NAMES:
                named.append(outcome.name)
            return
        self.count += 1
        if outcome.send_at is not None:
            self.deferred += 1
            self.first_deferred = min(self.first_deferred or outcome.send_at, outcome.send_at)

    def exclusions(self) -> list[tuple[str, str, int, list[str]]]:
        """(reason, in plain words, count, a few names) for each reason anyone is excluded for."""
        return [
            (key, words, self.excluded[key], self.names.get(key, []))
            for key, words in EXCLUSIONS.items()
            if self.excluded.get(key)
        ]


def preview(org: Organization, audience: Audience, now: datetime | None = None) -> Preview:
    """Plan the mailing without writing anything."""
    now = now or clock.now()
    return sending.tally(Preview(audience, now), plan(org, audience, now))


def plan(org: Organization, audience: Audience, now: datetime) -> Iterator[list[Planned | Excluded]]:
    """The audience, planned a batch at a time, in person id order (see sending.batches)."""
    pacer = sending.Pacer(org, now)
    for people, batch in sending.batches(_audience_query(org, audience), BATCH):
        yield list(_plan_batch(org, people, batch, pacer))


def _audience_query(org: Organization, audience: Audience) -> Select[Any]:
    query = (
        select(Person.id, Person.name, Person.timezone)
        .where(Person.organization_id == org.id)
        .order_by(Person.id)
    )
    if audience.kind == "team":
        return query.where(
            select(TeamMember.id)
            .where(TeamMember.person_id == Person.id, TeamMember.team_id == audience.row_id)
            .exists()
        )
    if audience.kind == "event":
        return query.where(
            select(Rsvp.id)
            .where(Rsvp.person_id == Person.id, Rsvp.event_id == audience.row_id, Rsvp.status == "yes")
            .exists()
        )
    return query.where(
        select(Address.id).where(Address.person_id == Person.id, Address.channel == "email").exists()
    )


def _plan_batch(
    org: Organization, people: Sequence[Row[Any]], batch: Batch, pacer: sending.Pacer
) -> Iterator[Planned | Excluded]:
    own = db.session.execute(
        select(Address.id, Address.person_id)
        .where(batch.holds(Address.person_id), Address.channel == "email")
        .order_by(Address.id)
    ).all()
    # Erasure is asked for by a person, on whichever channel: none of their addresses is used.
    erased = set(
        db.session.scalars(
            select(Address.person_id).where(
                batch.holds(Address.person_id),
                Address.pending_erasure.is_(True) | Address.value.startswith(ERASED_PREFIX),
            )
        )
    )
    address_ids = select(Address.id).where(batch.holds(Address.person_id), Address.channel == "email")
    kinds = consent.latest_kinds(address_ids, "email")
    # Each person's latest address that opted in, else their latest: a person with two
    # addresses is mailed at the one they confirmed.
    addresses: dict[int, Any] = {}
    for address in own:
        chosen = addresses.get(address.person_id)
        if chosen is None or kinds.get(address.id) == "opt_in" or kinds.get(chosen.id) != "opt_in":
            addresses[address.person_id] = address
    recent = outbox.recent_initiated_sends(address_ids, pacer.now)
    for person in people:
        address = addresses.get(person.id)
        name = person.name or "(no name yet)"
        if address is None:
            yield Excluded(person.id, name, "no_email")
            continue
        if person.id in erased:
            yield Excluded(person.id, "(erased)", "erased")
            continue
        kind = kinds.get(address.id)
        if kind != "opt_in":
            yield Excluded(person.id, name, "opted_out" if kind == "opt_out" else "no_opt_in")
            continue
        timezone = person.timezone or org.timezone
        if pacer.over_cap(timezone, recent.get(address.id)):
            yield Excluded(person.id, name, "over_cap")
            continue
        window = pacer.window(timezone)
        yield Planned(person.id, address.id, window if window > pacer.now else None)


def send(
    org: Organization,
    audience: Audience,
    mail: Draft,
    confirm: int,
    organizer: Organizer | None = None,
    actor: str = "",
    ip: str = "",
    previewed_at: datetime | None = None,
) -> tuple[Mailing, bool]:
    """Send the mailing if `confirm` is the count it would reach now; a mismatch raises
    ConfirmError and writes nothing. Returns it and whether it is new: given `previewed_at`, the
    same email the same organizer sent to the same audience since then is that confirmation
    sent twice, and is returned instead."""
    # One confirmation at a time per organization (PostgreSQL; SQLite writes one at a time).
    db.session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())
    if previewed_at is not None:
        earlier: Mailing | None = sending.earlier(
            Mailing, org, audience, organizer, previewed_at, subject=mail.subject, body=mail.body
        )
        if earlier is not None:
            db.session.rollback()
            return earlier, False
    now = clock.now()
    checked = preview(org, audience, now)
    if checked.count != confirm or confirm <= 0:
        db.session.rollback()
        if checked.count == 0:
            raise ConfirmError("nobody in this audience would get this email: nothing was sent", 0)
        raise ConfirmError(
            f"{checked.count} would get this email now, not {confirm}: nothing was sent", checked.count
        )
    started = sending.Started(audience, confirm, checked.excluded, organizer, actor, ip, now)
    mailing: Mailing = sending.start(
        Mailing, org, started, "mailing_sent", "mailing", subject=mail.subject, body=mail.body, status=SENDING
    )
    for batch in plan(org, audience, now):
        _queue(mailing, [p for p in batch if isinstance(p, Planned)], organizer)
    db.session.commit()  # the mailing and every email of it, or nothing
    outbox.settle_mailing(mailing.id)
    return mailing, True


def _queue(mailing: Mailing, batch: list[Planned], organizer: Organizer | None) -> None:
    """Queue one batch of the mailing's emails (the caller commits, once for all batches)."""
    if not batch:
        return
    addresses = db.session.scalars(select(Address).where(Address.id.in_([p.address_id for p in batch])))
    for address in addresses:
        outbox.queue_email(
            address,
            mailing.subject,
            mailing.body,
            REASON,
            mailing_id=mailing.id,
            organizer_id=organizer.id if organizer else None,
        )


def mailings(org: Organization, limit: int = 50) -> list[Mailing]:
    """The organization's latest mailings, newest first."""
    return list(
        db.session.scalars(
            select(Mailing).where(Mailing.organization_id == org.id).order_by(Mailing.id.desc()).limit(limit)
        )
    )


def progress(mailing_ids: list[int], now: datetime | None = None) -> dict[int, sending.Progress]:
    """Each mailing's progress, read with one grouped query."""
    return sending.progress(Message.mailing_id, mailing_ids, now)
