"""The console inbox ("talk back"): one thread per person, whatever the channel.

A text (and, with member email, an email reply) the flows did not handle is kept for an
organizer: it opens its person's thread, or opens it again. Organizers answer from the thread
(the answer is a reply in the outbox, so the consent guard checks it again at send time),
assign it to one of them and mark it done. Threads whose texts read as slurs or abuse are
flagged, so an organizer is warned before opening them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from flows import abuse
from flows.events import Consent
from gateway.community import audit
from gateway.delivery import consent, mail_content, outbox
from gateway.delivery.addresses import ERASED_PREFIX, redact
from gateway.extensions import db
from gateway.models import Address, Message, Organization, Organizer, Person, Thread, utcnow

FILTERS = ("open", "mine", "done", "all", "unmatched")
# What an inbound email nobody's thread could take is marked as (its `reason`): no valid reply
# token, or a sender who is not the token's person. Organizers read it and mark it done.
UNMATCHED = "unmatched"
# A text longer than this is split by carriers into more segments than phones reassemble well;
# the provider refuses more than 1,600 characters. An email answer may be a few paragraphs.
ANSWER_MAX = 1600
EMAIL_ANSWER_MAX = 10_000
# The conversation shown around a thread: its latest messages, both ways, every channel.
AROUND = 60
# The same answer twice within this long is a double click, not a second answer.
DUPLICATE_WINDOW = timedelta(minutes=5)


class InboxError(Exception):
    """An answer or change that cannot be made; the message says why, for the organizer."""


def keep(message: Message, person: Person | None) -> Thread | None:
    """Keep an inbound message for an organizer: mark it and open its person's thread (the
    caller holds the person's conversation lock, or tolerates a concurrent open)."""
    message.needs_attention = True
    if person is None:
        return None
    db.session.flush()
    # Locked, so an organizer closing the thread right now cannot close this text with it.
    thread = _thread_of(person, lock=True)
    if thread is None:
        try:
            with db.session.begin_nested():
                thread = Thread(organization_id=person.organization_id, person_id=person.id)
                db.session.add(thread)
        except IntegrityError:  # another process opened it just now
            thread = _thread_of(person, lock=True)
            assert thread is not None
    thread.status = "open"
    thread.done_at = None
    thread.done_by_id = None
    thread.channel = message.channel
    thread.last_message_id = message.id
    thread.last_message_at = message.created_at
    thread.flagged = thread.flagged or abuse.flagged(message.body)
    return thread


def keep_unmatched(message: Message, token_person: Person | None = None) -> None:
    """Keep an inbound email that belongs to no thread for an organizer; `token_person` is the
    person whose reply address someone else wrote to, named so an organizer can follow up."""
    message.needs_attention = True
    message.reason = UNMATCHED
    message.token_person_id = token_person.id if token_person is not None else None


@dataclass(frozen=True)
class UnmatchedRow:
    """Unmatched mail as the inbox lists it: the sender masked, and whose reply address it was
    sent with when that was someone else's ("" if none; the person may have no name yet)."""

    message: Message
    sender: str
    sent_with: str | None = None


def unmatched(org: Organization, page: int, per_page: int) -> tuple[list[UnmatchedRow], int]:
    """A page of unmatched mail not yet marked done, newest first, and how many there are."""
    where = (
        Message.organization_id == org.id,
        Message.direction == "inbound",
        Message.reason == UNMATCHED,
        Message.needs_attention.is_(True),
    )
    total = db.session.scalar(select(func.count()).select_from(Message).where(*where)) or 0
    rows = db.session.execute(
        select(Message, Address.value, Person.id, Person.name)
        .join(Address, Address.id == Message.address_id)
        .outerjoin(Person, Person.id == Message.token_person_id)
        .where(*where)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [
        UnmatchedRow(message, redact(value), (name or "a member without a name yet") if person_id else None)
        for message, value, person_id, name in rows
    ], total


def unmatched_message(org: Organization, message_id: int) -> Message | None:
    """An unmatched email of the organization, locked for a change, or None."""
    return db.session.scalar(
        select(Message)
        .where(
            Message.id == message_id,
            Message.organization_id == org.id,
            Message.direction == "inbound",
            Message.reason == UNMATCHED,
        )
        .with_for_update()
    )


def settle_unmatched(org: Organization, message: Message, by: Organizer, ip: str) -> None:
    """Mark an unmatched email done: it leaves the list (the message itself is kept)."""
    message.needs_attention = False
    audit.record(org, "unmatched_mail_done", by, ip=ip, message=message.id)


def _thread_of(person: Person, lock: bool = False) -> Thread | None:
    query = select(Thread).where(
        Thread.organization_id == person.organization_id, Thread.person_id == person.id
    )
    return db.session.scalar(query.with_for_update() if lock else query)


@dataclass(frozen=True)
class Row:
    """A thread as the inbox lists it."""

    thread: Thread
    name: str | None
    preview: str
    assigned_to: str | None


def threads(
    org: Organization, which: str, organizer: Organizer, page: int, per_page: int
) -> tuple[list[Row], int]:
    """A page of threads, newest first, and how many match: `which` is open, mine (open and
    assigned to `organizer`), done or all."""
    where = [Thread.organization_id == org.id]
    if which in ("open", "mine"):
        where.append(Thread.status == "open")
    if which == "mine":
        where.append(Thread.assigned_to_id == organizer.id)
    if which == "done":
        where.append(Thread.status == "done")
    total = db.session.scalar(select(func.count()).select_from(Thread).where(*where)) or 0
    rows = db.session.execute(
        select(Thread, Person.name, Message.body, Organizer.email)
        .join(Person, Person.id == Thread.person_id)
        .outerjoin(Message, Message.id == Thread.last_message_id)
        .outerjoin(Organizer, Organizer.id == Thread.assigned_to_id)
        .where(*where)
        .order_by(Thread.last_message_at.desc(), Thread.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [Row(thread, name, body or "", email) for thread, name, body, email in rows], total


def conversation(thread: Thread) -> list[Message]:
    """The latest messages to and from the thread's person, oldest first."""
    addresses = select(Address.id).where(Address.person_id == thread.person_id)
    latest = db.session.scalars(
        select(Message)
        .where(Message.address_id.in_(addresses))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(AROUND)
    ).all()
    return list(reversed(latest))


def open_count(org: Organization) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Thread)
            .where(Thread.organization_id == org.id, Thread.status == "open")
        )
        or 0
    )


def latest_text(thread: Thread) -> Message | None:
    """The person's latest text (or email) on the thread's channel: what an answer replies to,
    on the address it came from. Unmatched mail (a forged From) is none of theirs."""
    addresses = select(Address.id).where(
        Address.person_id == thread.person_id, Address.channel == thread.channel
    )
    return db.session.scalar(
        select(Message)
        .where(Message.address_id.in_(addresses), Message.direction == "inbound", Message.reason != UNMATCHED)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )


def answer_max(thread: Thread) -> int:
    """The longest answer the thread's channel takes."""
    return EMAIL_ANSWER_MAX if thread.channel == "email" else ANSWER_MAX


def reply_subject(subject: str) -> str:
    """The subject of an answer to an email: "Re: " and theirs, once, on one line."""
    subject = mail_content.subject_line(subject)
    return subject if subject[:3].lower() == "re:" else mail_content.subject_line(f"Re: {subject}")


def answer(org: Organization, thread: Thread, organizer: Organizer, body: str, ip: str) -> Message:
    """Queue an organizer's answer in the outbox, as a reply to the person's latest text (or
    email), on the number (or address) it came from (the caller commits, then it goes to the
    queue). Refused, with the reason, when they opted out, were erased, or wrote long ago
    without ever opting in; the consent guard checks again right before the provider call."""
    by_email = thread.channel == "email"
    body = body.strip()
    if not body:
        raise InboxError("Write an answer first.")
    limit = answer_max(thread)
    if len(body) > limit:
        raise InboxError(f"An answer can be at most {limit} characters; this one has {len(body)}.")
    original = latest_text(thread)
    address = original.address if original else None
    if address is None or address.value.startswith(ERASED_PREFIX) or address.pending_erasure:
        what = "address" if by_email else "number"
        raise InboxError(f"They asked for their data to be erased; there is no {what} to answer.")
    state = consent.status(address)
    if state is Consent.OPTED_OUT:
        raise InboxError(
            "They unsubscribed from email, so nothing was sent. Kindred will not email them."
            if by_email
            else "They opted out of texts, so nothing was sent. Kindred will not text them."
        )
    if _just_sent(address, body):
        raise InboxError("That answer was just sent; it is not sent twice.")
    assert original is not None
    if original.created_at < utcnow() - outbox.ANSWER_FRESH and state is not Consent.OPTED_IN:
        raise InboxError(
            f"They wrote more than a day ago and never opted in, so Kindred cannot "
            f"{'email' if by_email else 'text'} them now. Nothing was sent."
        )
    if by_email:
        message = outbox.queue_email(
            address,
            reply_subject(original.subject),
            body,
            "organizer_reply",
            in_reply_to=original,
            organizer_id=organizer.id,
        )
    else:
        message = outbox.queue_sms(address, body, "organizer_reply", in_reply_to=original)
        message.organizer_id = organizer.id
    audit.record(org, "reply_sent", organizer, ip=ip, thread=thread.id, message=message.id, chars=len(body))
    return message


def _just_sent(address: Address, body: str) -> bool:
    """The same answer to the same person in the last minutes, on its way or gone: a second
    click, a resubmitted form. (One the guard held back or the provider refused may be sent
    again.) Bodies are encrypted at rest, so they are compared here, not in the database."""
    recent = db.session.scalars(
        select(Message.body).where(
            Message.address_id == address.id,
            Message.reason == "organizer_reply",
            Message.status.in_(("queued", "sending", "sent", "delivered")),
            Message.created_at > utcnow() - DUPLICATE_WINDOW,  # rows are stamped with real time
        )
    )
    return body in recent


def assign(org: Organization, thread: Thread, to: Organizer | None, by: Organizer, ip: str) -> None:
    """Give the thread to an organizer (or to nobody)."""
    if to is not None and (to.organization_id != org.id or not to.active or to.role == "viewer"):
        raise InboxError("Threads go to active organizers and admins only.")
    thread.assigned_to_id = to.id if to else None
    audit.record(org, "thread_assigned", by, ip=ip, thread=thread.id, to=to.email if to else None)


def mark(
    org: Organization, thread: Thread, status: str, by: Organizer, ip: str, now: datetime, seen: int | None
) -> None:
    """Mark the thread done, or open again. `seen` is the latest message the organizer had on
    their screen: a thread is not closed over a newer one they have not read."""
    if status not in ("open", "done"):
        raise InboxError("A thread is open or done.")
    if status == "done" and thread.last_message_id is not None and seen != thread.last_message_id:
        raise InboxError(
            "A new message arrived while you were reading, so the thread stays open. Read it first."
        )
    thread.status = status
    thread.done_at = now if status == "done" else None
    thread.done_by_id = by.id if status == "done" else None
    audit.record(org, f"thread_{'done' if status == 'done' else 'reopened'}", by, ip=ip, thread=thread.id)


def assignable(org: Organization) -> list[Organizer]:
    """Organizers a thread can be given to."""
    return list(
        db.session.scalars(
            select(Organizer)
            .where(Organizer.organization_id == org.id, Organizer.active, Organizer.role != "viewer")
            .order_by(Organizer.email)
        )
    )
