"""One inbound text: stored by the webhook, answered by the worker.

The webhook does only what must happen before Twilio's 200: it stores the text (with its
sender's address) and commits, so a text that got a 2xx is never lost, and wakes the worker.
The worker answers each stored text with one conversation turn (`answer`), a person's texts one
at a time and in the order they came. Until a text is answered, nothing but a reply to an
opt-out or HELP goes to its sender (gateway.delivery.outbox): a STOP waiting for its turn
already holds back a round's text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import phonenumbers
from flask import current_app
from phonenumbers import timezone as phone_timezones
from sqlalchemy import bindparam, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from flows import engine, keywords
from flows import events as ev
from flows.parse import mask_contacts
from gateway import clock
from gateway.community import inbox, organization
from gateway.delivery import consent, handoff
from gateway.delivery.addresses import complete_erasure, erased_values, redact
from gateway.extensions import begin_reading, db, outage_passes
from gateway.models import Address, FlowSession, Message, Organization, Person, utcnow, waiting_answer
from gateway.sms import flood
from gateway.sms.turn import take_turn

log = logging.getLogger(__name__)

# A text stored this long ago that no turn answered is answered by the sweeper too (the worker
# answers within a poll; this is for a worker that cannot, say one whose senders stopped).
UNANSWERED_AFTER = timedelta(minutes=2)
# A turn the database cut off leaves its text waiting, for this long after it came: one that
# is still cut off after that (its own connection killed each time, say) is kept for an
# organizer, its STOP honoured, so it cannot hold back its sender's texts for ever.
OUTAGE_PATIENCE = timedelta(minutes=10)


@dataclass(frozen=True)
class InboundSms:
    """An inbound text as a provider (or the simulator) handed it over."""

    provider_id: str
    from_number: str  # E.164
    body: str
    num_media: int = 0
    to_number: str = ""  # ours, as the provider says it was texted


def receive_sms(org: Organization, sms: InboundSms) -> None:
    """Store one inbound text for the worker to answer; it is woken once the commit is done.

    A provider id seen before is a no-op (provider retries and duplicates): its insert fails
    on the unique provider id, and everything else this did is rolled back with it. A NUL
    character, which PostgreSQL text cannot hold, is kept as U+FFFD so the text is never
    refused."""
    text = sms.body.replace("\x00", "\ufffd")
    organization.learn_number(org, sms.to_number)
    address_id = _address_for(org, sms.from_number)
    # Stored with any phone number or email masked: in a volunteer's text those are their
    # friends', kept only as digests. The turn reads the text as sent, kept until then.
    masked = mask_contacts(text, current_app.config["DEFAULT_REGION"])
    # A number that floods us has its texts kept, not answered (but a STOP among them counts).
    throttled = flood.throttled(sms.from_number, sms.provider_id, clock.now())
    # A statement on the table: the ORM's flush of one new object cost more than the insert.
    stored = {
        "organization_id": org.id,
        "direction": "inbound",
        "channel": "sms",
        "address_id": address_id,
        "body": masked,
        "body_as_sent": text if masked != text and not throttled else None,
        "num_media": sms.num_media,
        "provider_id": sms.provider_id,
        "status": "received",
        "answered_at": clock.now() if throttled else None,
    }
    try:
        db.session.flush()  # the address's changes, first
        message_id = db.session.scalar(_store(), stored)
        assert message_id is not None
        if throttled:
            message = db.session.get(Message, message_id)
            assert message is not None
            _honour_opt_out(message, text)
        else:
            handoff.after_commit(handoff.ANSWER, message_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if not _stored(sms.provider_id):  # a clash on anything else is a fault, not a duplicate
            raise
        # The same text, stored before or by a concurrent request (whose commit the insert
        # waited for): kept once, and answered by that one.


@cache
def _store() -> Any:
    """The insert of an inbound text, its values given as parameters: built once, where a
    statement built with its values coerced each of them at every text."""
    return insert(Message.__table__).returning(Message.__table__.c.id)


def _stored(provider_id: str) -> bool:
    """Whether a text with this provider id is stored."""
    return bool(db.session.scalar(select(exists().where(Message.provider_id == provider_id))))


def waiting(limit: int, busy: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Up to `limit` texts waiting to be answered, as (message id, address id), oldest first:
    the first of each sender's, skipping senders in `busy` (their texts are being answered)."""
    begin_reading()  # on SQLite, no write lock for a look
    rows = db.session.execute(
        select(Message.id, Message.address_id)
        .where(waiting_answer())
        .order_by(Message.id)
        .limit((limit + len(busy)) * 8)  # past the texts of busy senders, and of a chatty one
    ).all()
    db.session.rollback()
    picked: dict[int, int] = {}
    for message_id, address_id in rows:
        if address_id not in busy and address_id not in picked and len(picked) < limit:
            picked[address_id] = message_id
    return [(message_id, address_id) for address_id, message_id in picked.items()]


def answer_waiting() -> int:
    """Answer, in this thread, every text waiting to be answered, each sender's in order: the
    test worker's way, and `kindred worker --burst`'s. Returns how many were answered."""
    answered = 0
    while batch := waiting(50):
        answered_now = sum(answer(message_id) is not None for message_id, _ in batch)
        if not answered_now:  # each one another worker is answering, or the database went away
            break
        answered += answered_now
    return answered


def answer(message_id: int) -> bool | None:
    """Answer a stored inbound text with one conversation turn, unless it is answered already
    or an earlier text from the same sender waits, or the database went away during the turn
    (None: not answered now, and it still waits, up to OUTAGE_PATIENCE after it came). Its `answered_at`
    is taken in the turn's own transaction, so two workers, or a worker and the sweeper, never
    both answer it. Returns False if the turn failed: the text is then kept for an organizer,
    and any opt-out in it still recorded."""
    # Read before the claim clears it: nothing changes it while the text waits. A text another
    # worker is answering right now (its row locked) is skipped, not waited for.
    as_sent = db.session.execute(
        select(Message.body_as_sent).where(Message.id == message_id).with_for_update(skip_locked=True)
    ).first()
    if as_sent is None or not _claim(message_id, in_order=True):
        db.session.rollback()
        return None
    message = db.session.get(Message, message_id, populate_existing=True)
    assert message is not None
    org = db.session.get(Organization, message.organization_id)
    address = message.address
    assert org is not None and address is not None
    return _take_turn(org, address, message, as_sent[0] or message.body)


def _claim(message_id: int, in_order: bool = False) -> bool:
    """Mark a waiting text answered, in the transaction of what answers it (or keeps it), if
    it still waits, and (`in_order`) no earlier text from the same sender does."""
    earlier = aliased(Message)
    first = ~exists().where(
        earlier.address_id == Message.address_id, earlier.id < Message.id, waiting_answer(earlier)
    )
    return bool(
        db.session.execute(
            update(Message)
            .where(Message.id == message_id, waiting_answer(), *([first] if in_order else []))
            .values(answered_at=clock.now(), body_as_sent=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _take_turn(org: Organization, address: Address, message: Message, text: str) -> bool | None:
    message_id, value, came = message.id, address.value, message.created_at  # for after a rollback
    try:
        person = address.person
        if person is not None and not keywords.opt_out_reason(text, organization=org.name):
            person.last_active_at = clock.now()  # "active this week" is read from it
        # Erased, or being erased: they wrote again, so their number is kept to answer them. If
        # their opt-out still stands after this turn, it is erased again.
        was_erased, address.pending_erasure = address.pending_erasure, False
        received = ev.Inbound(text, message.created_at, message.num_media)
        take_turn(org, address, lambda state, ctx: engine.respond(state, received, ctx), message)
        if was_erased and consent.status(address) is ev.Consent.OPTED_OUT:
            address.pending_erasure = True  # still out: back to the digest once the reply is sent
            complete_erasure(address)
        db.session.commit()
        return True
    except Exception as exc:
        db.session.rollback()
        if outage_passes(exc) and clock.now() - came < OUTAGE_PATIENCE:  # it waits for the next look
            log.warning("inbound: the database went away answering message %s", message_id, exc_info=True)
            return None
        log.exception("inbound: could not answer message %s from %s", message_id, redact(value))
        _answer_failed(message_id, text)
        return False


def answer_unanswered(before: datetime, limit: int = 100) -> int:
    """Answer up to `limit` of the texts stored before `before` that no turn answered yet (the
    worker answers within a poll: these are a worker's whose senders could not); returns how
    many it tried."""
    begin_reading()
    ids = db.session.scalars(
        select(Message.id)
        .where(waiting_answer(), Message.created_at < before)
        .order_by(Message.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    for message_id in ids:
        answer(message_id)
    return len(ids)


def _answer_failed(message_id: int, text: str) -> None:
    """Answering crashed: still honour an opt-out (first, on its own), and keep the text for
    an organizer, unless another worker took the text meanwhile (the failed turn's rollback
    gave its claim back), whose answer or keeping stands."""
    if not _claim(message_id):
        db.session.rollback()
        return
    message = db.session.get(Message, message_id, populate_existing=True)
    assert message is not None
    _honour_opt_out(message, text)
    try:
        inbox.keep(message, message.address.person)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("inbound: could not keep message %s for the inbox either", message_id)
        _claim(message_id)  # again: the rollback gave it back
        # Still listed for an organizer, if without a thread.
        db.session.execute(update(Message).where(Message.id == message_id).values(needs_attention=True))
        db.session.commit()


def _honour_opt_out(message: Message, text: str) -> None:
    """Record the opt-out `text` (the message as sent) asks for when no flow answers it
    (commits). Every one is on the ledger, as the flows record it."""
    org = db.session.get(Organization, message.organization_id)
    reason = keywords.opt_out_reason(text, organization=org.name if org else "")
    if reason:
        consent.record(message.address, "opt_out", "sms_keyword", reason, message.id)
        db.session.commit()


def _address_for(org: Organization, phone: str) -> int:
    """The id of the sender's address, with a person; an address that was undeliverable is not
    any more (it just texted us). An erased one (kept as a digest to honour an opt-out) is
    recognised and gets its number back, since they wrote to us again; it stays marked for
    erasure until their turn says whether the opt-out still stands."""
    erased = erased_values(phone)
    lookup = (
        select(Address)
        .where(
            Address.organization_id == org.id,
            Address.channel == "sms",
            Address.value.in_([phone, *erased]),
        )
        .order_by(Address.value != phone)  # a live one first, should an erased one be kept beside it
        .limit(1)
    )
    address = db.session.scalar(lookup)
    if address is not None:
        address.undeliverable_since = None
        if address.value in erased:
            address.value = phone
            address.pending_erasure = True
        if address.person_id is not None:
            return address.id
    try:
        with db.session.begin_nested():
            return _new_person(org, phone, address)
    except (IntegrityError, _GivenMeanwhile):  # a text from the same number, at the same time
        return db.session.scalars(lookup.execution_options(populate_existing=True)).one().id


class _GivenMeanwhile(Exception):
    """The address got a person from a concurrent request: this one's is rolled back."""


def _new_person(org: Organization, phone: str, address: Address | None) -> int:
    """A person for `phone`, with their conversation (created with the person, so two first
    texts racing each other both find it to lock), given `address` or a new one: its id.
    Inserted as statements on the tables, which the first text of every newcomer pays for: the
    ORM's flush of three new objects took as long as the rest of the webhook."""
    if address is None and db.session.get_bind().dialect.name == "postgresql":
        newcomer = {"org": org.id, "zone": _timezone_of(phone), "phone": phone, "now": utcnow()}
        address_id = db.session.scalar(_newcomer(), newcomer)  # the three as one statement
        assert address_id is not None
        return address_id
    person_id = db.session.scalar(
        insert(Person.__table__)
        .values(organization_id=org.id, timezone=_timezone_of(phone))
        .returning(Person.__table__.c.id)
    )
    db.session.execute(insert(FlowSession.__table__).values(person_id=person_id, state={}))
    if address is not None:
        given = db.session.execute(
            update(Address)
            .where(Address.id == address.id, Address.person_id.is_(None))
            .values(person_id=person_id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not given:  # once the other request committed (PostgreSQL waits for it on the row)
            raise _GivenMeanwhile
        set_committed_value(address, "person_id", person_id)
        return address.id
    address_id = db.session.scalar(
        insert(Address.__table__)
        .values(organization_id=org.id, channel="sms", value=phone, person_id=person_id)
        .returning(Address.__table__.c.id)
    )
    assert address_id is not None
    return address_id


@cache
def _newcomer() -> Any:
    """A new person, their conversation and their address as one statement, on PostgreSQL (the
    first two are steps of its WITH): the address's id. A clash on the address (the same
    number's first text, at the same time) fails the whole of it. Every column is given: the
    models' Python-side defaults are not filled in within a WITH."""
    people, sessions, addresses = Person.__table__, FlowSession.__table__, Address.__table__
    person = (
        insert(people)
        .values(
            organization_id=bindparam("org"),
            timezone=bindparam("zone"),
            language=people.c.language.default.arg,
            created_at=bindparam("now"),
        )
        .returning(people.c.id, people.c.organization_id, people.c.created_at)
        .cte("person")
    )
    conversation = insert(sessions).from_select(
        ["person_id", "state", "updated_at"],
        select(person.c.id, literal({}, sessions.c.state.type), person.c.created_at),
    )
    address = select(
        person.c.organization_id,
        literal("sms"),
        bindparam("phone", type_=addresses.c.value.type),
        person.c.id,
        literal(addresses.c.pending_erasure.default.arg),
        person.c.created_at,
    )
    columns = ["organization_id", "channel", "value", "person_id", "pending_erasure", "created_at"]
    return (
        insert(addresses)
        .from_select(columns, address)
        .returning(addresses.c.id)
        .add_cte(conversation.cte("conversation"))
    )


def _timezone_of(phone: str) -> str | None:
    """The time zone a number's area belongs to, when it names exactly one."""
    zones = phone_timezones.time_zones_for_number(
        phonenumbers.parse(phone, current_app.config["DEFAULT_REGION"])
    )
    return zones[0] if len(zones) == 1 and zones[0] != phone_timezones.UNKNOWN_TIMEZONE else None
