"""CSV exports for organizers. Column names and order are a stable interface (DESIGN.md)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO

from sqlalchemy import func, select

from gateway.extensions import db
from gateway.models import Address, ConsentEvent, ConversationReport, Friend, Message, Person

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


def _latest_consent() -> dict[int, ConsentEvent]:
    latest = (
        select(func.max(ConsentEvent.id))
        .where(ConsentEvent.channel == "sms")
        .group_by(ConsentEvent.address_id)
    )
    events = db.session.scalars(select(ConsentEvent).where(ConsentEvent.id.in_(latest)))
    return {e.address_id: e for e in events}


_CONSENT_STATUS = {"opt_in": "opted_in", "opt_out": "opted_out"}
_VOLUNTEER_STATUS = {"opt_in": "active", "opt_out": "opted_out"}


def consent_rows() -> Iterator[list[object]]:
    latest = _latest_consent()
    for address in db.session.scalars(select(Address).order_by(Address.id)):
        event = latest.get(address.id)
        yield [
            address.value,
            address.channel,
            _CONSENT_STATUS[event.kind] if event else "unknown",
            event.at if event else None,
            event.source if event else "",
        ]


def _phones() -> dict[int, str]:
    rows = db.session.execute(select(Address.person_id, Address.value).where(Address.channel == "sms"))
    return {person_id: value for person_id, value in rows if person_id is not None}


def volunteer_rows() -> Iterator[list[object]]:
    latest = _latest_consent()
    addresses = db.session.execute(
        select(Address.person_id, Address.id, Address.value).where(Address.channel == "sms")
    )
    by_person = {person_id: (address_id, value) for person_id, address_id, value in addresses}
    for person in db.session.scalars(select(Person).order_by(Person.id)):
        address_id, phone = by_person.get(person.id, (None, ""))
        event = latest.get(address_id) if address_id else None
        yield [
            phone,
            person.name or "",
            _VOLUNTEER_STATUS[event.kind] if event else "pending",
            person.volunteer_since,
        ]


def friend_rows() -> Iterator[list[object]]:
    phones = _phones()
    for f in db.session.scalars(select(Friend).order_by(Friend.id)):
        yield [
            phones.get(f.volunteer_id, ""),
            f.name,
            f.relationship,
            ";".join(f.interests or ()),
            f.stage,
            f.added_at,
        ]


def report_rows() -> Iterator[list[object]]:
    phones = _phones()
    rows = db.session.execute(
        select(ConversationReport, Friend.name)
        .join(Friend, ConversationReport.friend_id == Friend.id)
        .order_by(ConversationReport.id)
    )
    for report, friend_name in rows:
        yield [
            phones.get(report.volunteer_id, ""),
            friend_name,
            report.outcome,
            report.learned,
            report.reported_at,
        ]


def message_rows() -> Iterator[list[object]]:
    rows = db.session.execute(select(Message, Address.value).join(Address).order_by(Message.id))
    for m, address in rows:
        yield [m.provider_id or "", m.direction, address, m.status, m.reason, m.created_at]


EXPORTS: dict[str, tuple[tuple[str, ...], Callable[[], Iterable[list[object]]]]] = {
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


def write_csv(kind: str, out: IO[str]) -> int:
    """Write export `kind` as CSV; returns the number of data rows."""
    header, rows = EXPORTS[kind]
    writer = csv.writer(out)
    writer.writerow(header)
    count = 0
    for row in rows():
        writer.writerow([safe_cell(cell) for cell in row])
        count += 1
    return count
