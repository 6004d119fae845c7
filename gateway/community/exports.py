"""CSV exports for organizers, each of one organization's rows only. Column names and order are a
stable interface (DESIGN.md)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Row, Select, Subquery, func, or_, select

from gateway.extensions import db
from gateway.models import Address, ConsentEvent, ConversationReport, Friend, Message, Organization, Person

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will show as text: a leading formula character is escaped with a
    quote, except in a plain E.164 phone number."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    if text.startswith(_FORMULA_START) and not _E164.match(text):
        return "'" + text
    return text


# Rows are read from the database a batch at a time (a server-side cursor on PostgreSQL), so an
# export of a million rows starts at once and never sits in memory whole.
BATCH = 1000


def _stream(query: Select[Any]) -> Iterator[Row[Any]]:
    return iter(db.session.execute(query.execution_options(yield_per=BATCH)))


def _latest_consent(org: Organization) -> Subquery:
    """Each of the organization's addresses' latest consent event id on its own channel (a
    phone's SMS consent, an email address's email consent)."""
    return (
        select(ConsentEvent.address_id, func.max(ConsentEvent.id).label("event_id"))
        .join(Address, Address.id == ConsentEvent.address_id)
        .where(ConsentEvent.channel == Address.channel, Address.organization_id == org.id)
        .group_by(ConsentEvent.address_id)
        .subquery()
    )


_CONSENT_STATUS = {"opt_in": "opted_in", "opt_out": "opted_out"}
_VOLUNTEER_STATUS = {"opt_in": "active", "opt_out": "opted_out"}


def consent_rows(org: Organization) -> Iterator[list[object]]:
    latest = _latest_consent(org)
    query = (
        select(Address.value, Address.channel, ConsentEvent.kind, ConsentEvent.at, ConsentEvent.source)
        .outerjoin(latest, latest.c.address_id == Address.id)
        .outerjoin(ConsentEvent, ConsentEvent.id == latest.c.event_id)
        .where(Address.organization_id == org.id)
        .order_by(Address.id)
    )
    for value, channel, kind, at, source in _stream(query):
        yield [value, channel, _CONSENT_STATUS[kind] if kind else "unknown", at, source or ""]


def _phones(org: Organization) -> dict[int, str]:
    """Each person's phone number (one per volunteer: the size of the volunteer list, not of
    the export)."""
    rows = db.session.execute(
        select(Address.person_id, Address.value).where(
            Address.organization_id == org.id, Address.channel == "sms", Address.person_id.is_not(None)
        )
    )
    return dict(rows.tuples().all())


def volunteer_rows(org: Organization) -> Iterator[list[object]]:
    latest = _latest_consent(org)
    # One SMS address per person is shown, the last one added, as before.
    phone = (
        select(Address.person_id, func.max(Address.id).label("address_id"))
        .where(Address.organization_id == org.id, Address.channel == "sms", Address.person_id.is_not(None))
        .group_by(Address.person_id)
        .subquery()
    )
    query = (
        select(Address.value, Person.name, ConsentEvent.kind, Person.volunteer_since)
        .select_from(Person)
        .outerjoin(phone, phone.c.person_id == Person.id)
        .outerjoin(Address, Address.id == phone.c.address_id)
        .outerjoin(latest, latest.c.address_id == Address.id)
        .outerjoin(ConsentEvent, ConsentEvent.id == latest.c.event_id)
        # A member who only ever gave an email (the /join page) is no volunteer.
        .where(
            Person.organization_id == org.id,
            or_(phone.c.address_id.is_not(None), Person.volunteer_since.is_not(None)),
        )
        .order_by(Person.id)
    )
    for value, name, kind, since in _stream(query):
        yield [value or "", name or "", _VOLUNTEER_STATUS[kind] if kind else "pending", since]


def friend_rows(org: Organization) -> Iterator[list[object]]:
    phones = _phones(org)
    query = (
        select(
            Friend.volunteer_id,
            Friend.name,
            Friend.relationship,
            Friend.interests,
            Friend.stage,
            Friend.added_at,
        )
        .where(Friend.organization_id == org.id)
        .order_by(Friend.id)
    )
    for volunteer_id, name, relationship, interests, stage, added_at in _stream(query):
        yield [phones.get(volunteer_id, ""), name, relationship, ";".join(interests or ()), stage, added_at]


def report_rows(org: Organization) -> Iterator[list[object]]:
    phones = _phones(org)
    query = (
        select(
            ConversationReport.volunteer_id,
            Friend.name,
            ConversationReport.outcome,
            ConversationReport.learned,
            ConversationReport.reported_at,
        )
        .join(Friend, ConversationReport.friend_id == Friend.id)
        .where(ConversationReport.organization_id == org.id)
        .order_by(ConversationReport.id)
    )
    for volunteer_id, friend_name, outcome, learned, reported_at in _stream(query):
        yield [phones.get(volunteer_id, ""), friend_name, outcome, learned, reported_at]


def message_rows(org: Organization) -> Iterator[list[object]]:
    query = (
        select(
            Message.provider_id,
            Message.direction,
            Address.value,
            Message.status,
            Message.reason,
            Message.created_at,
        )
        .join(Address, Address.id == Message.address_id)
        .where(Message.organization_id == org.id)
        .order_by(Message.id)
    )
    for provider_id, direction, address, status, reason, created_at in _stream(query):
        yield [provider_id or "", direction, address, status, reason, created_at]


EXPORTS: dict[str, tuple[tuple[str, ...], Callable[[Organization], Iterable[list[object]]]]] = {
    "consent": (("address", "channel", "status", "changed_at", "source"), consent_rows),
    "volunteers": (("phone", "name", "status", "joined_at"), volunteer_rows),
    "friends": (
        ("volunteer_phone", "friend_name", "relationship", "interests", "stage", "added_at"),
        friend_rows,
    ),
    "reports": (
        ("volunteer_phone", "friend_name", "outcome", "learned", "reported_at"),
        report_rows,
    ),
    "messages": (
        ("provider_id", "direction", "address", "status", "reason", "created_at"),
        message_rows,
    ),
}


def csv_chunks(org: Organization, kind: str, rows_per_chunk: int = BATCH) -> Iterator[str]:
    """Export the organization's `kind` as CSV text, a chunk of rows at a time (the header
    first, on its own)."""
    header, rows = EXPORTS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    count = 0
    for row in rows(org):
        writer.writerow([safe_cell(cell) for cell in row])
        count += 1
        if count % rows_per_chunk == 0 or count == 1:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell() or count == 0:
        yield buffer.getvalue()


def write_csv(org: Organization, kind: str, out: IO[str]) -> None:
    """Write the organization's export `kind` as CSV to `out`."""
    for chunk in csv_chunks(org, kind):
        out.write(chunk)
