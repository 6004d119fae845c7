"""One inbound text: stored first, then answered.

The message is committed on its own first, so a text that got a 2xx is never lost even if
answering it fails; then one conversation turn answers it in a second transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from flask import current_app
from phonenumbers import timezone as phone_timezones
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from flows import engine, keywords
from flows import events as ev
from flows.parse import mask_contacts
from gateway import clock
from gateway.community import inbox, organization
from gateway.delivery import consent
from gateway.delivery.addresses import complete_erasure, erased_values, redact
from gateway.extensions import db
from gateway.models import Address, FlowSession, Message, Organization, Person
from gateway.sms import flood
from gateway.sms.turn import take_turn

log = logging.getLogger(__name__)

# A text stored this long ago that no turn answered was left by a request that died: the
# sweeper answers it (a webhook is answered within Twilio's 15 s, or not at all).
UNANSWERED_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class InboundSms:
    """An inbound text as a provider (or the simulator) handed it over."""

    provider_id: str
    from_number: str  # E.164
    body: str
    num_media: int = 0
    to_number: str = ""  # ours, as the provider says it was texted


def receive_sms(org: Organization, sms: InboundSms) -> None:
    """Store and answer one inbound text; its replies go to the job queue after the commit.

    A provider id seen before is a no-op (provider retries and duplicates). A text from a number
    that floods us is stored and not answered (gateway.sms.flood). A NUL character,
    which PostgreSQL text cannot hold, is kept as U+FFFD so the text is never refused."""
    stored = db.session.execute(
        select(Message.id, Message.direction, Message.answered_at).where(
            Message.provider_id == sms.provider_id
        )
    ).first()
    if stored is not None:
        if stored.direction == "inbound" and stored.answered_at is None:
            answer(stored.id)  # the request that stored it died before answering: this one does
        return
    text = sms.body.replace("\x00", "\ufffd")
    organization.learn_number(org, sms.to_number)
    address, was_erased = _address_for(org, sms.from_number)
    address.undeliverable_since = None  # it just texted us: it can get texts after all
    message = Message(
        organization_id=org.id,
        direction="inbound",
        channel="sms",
        address_id=address.id,
        # Stored with any phone number or email masked: in a volunteer's text those are their
        # friends', kept only as digests. The flows read the text as sent, in memory.
        body=mask_contacts(text, current_app.config["DEFAULT_REGION"]),
        num_media=sms.num_media,
        provider_id=sms.provider_id,
        status="received",
    )
    # Before the message joins the session: loading the person would flush it early, and a
    # duplicate webhook's insert must fail in the commit below, where it is expected.
    person = address.person
    if person is not None and not keywords.opt_out_reason(text, organization=org.name):
        person.last_active_at = clock.now()  # "active this week" is read from it
    db.session.add(message)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return
    if flood.throttled(sms.from_number, sms.provider_id, clock.now()):
        message.answered_at = clock.now()  # kept, not answered
        _honour_opt_out(message)  # but a STOP among them still counts
        db.session.commit()
    elif not answer(message.id, text):
        return
    if was_erased and consent.status(address) is ev.Consent.OPTED_OUT:
        address.pending_erasure = True  # still out: back to the digest once the reply is sent
        complete_erasure(address)
        db.session.commit()


def answer(message_id: int, text: str | None = None) -> bool:
    """Answer a stored inbound text with one conversation turn, unless it is answered already
    (its `answered_at`, taken in the turn's own transaction, so two requests, or a request and
    the sweeper, never both answer it). `text` is the text as sent (the stored body has any
    phone number or email masked). Returns False if the turn failed: the text is then kept for
    an organizer, and any opt-out in it still recorded."""
    claimed = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.answered_at.is_(None))
        .values(answered_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return True
    message = db.session.get(Message, message_id, populate_existing=True)
    assert message is not None
    org = db.session.get(Organization, message.organization_id)
    address = message.address
    assert org is not None and address is not None
    received = ev.Inbound(message.body if text is None else text, message.created_at, message.num_media)
    try:
        take_turn(org, address, lambda state, ctx: engine.respond(state, received, ctx), message)
        db.session.commit()
        return True
    except Exception:
        db.session.rollback()
        log.exception("inbound: could not answer message %s from %s", message_id, redact(address.value))
        _answer_failed(message_id)
        return False


def answer_unanswered(before: datetime) -> int:
    """Answer the texts stored before `before` that no turn answered (the request that stored
    them died first, and the provider did not send them again); returns how many."""
    ids = db.session.scalars(
        select(Message.id).where(
            Message.direction == "inbound",
            Message.channel == "sms",
            Message.answered_at.is_(None),
            Message.created_at < before,
        )
    ).all()
    db.session.rollback()
    for message_id in ids:
        answer(message_id)
    return len(ids)


def _answer_failed(message_id: int) -> None:
    """Answering crashed: still honour an opt-out (first, on its own), and keep the text for
    an organizer."""
    message = db.session.get(Message, message_id)
    assert message is not None
    message.answered_at = clock.now()  # kept for an organizer instead
    _honour_opt_out(message)
    try:
        inbox.keep(message, message.address.person)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("inbound: could not keep message %s for the inbox either", message_id)
        message = db.session.get(Message, message_id)
        assert message is not None
        message.needs_attention = True  # still listed for an organizer, if without a thread
        db.session.commit()


def _honour_opt_out(message: Message) -> None:
    """Record the opt-out a text asks for when no flow answers it (commits). Every one is on
    the ledger, as the flows record it."""
    org = db.session.get(Organization, message.organization_id)
    reason = keywords.opt_out_reason(message.body, organization=org.name if org else "")
    if reason:
        consent.record(message.address, "opt_out", "sms_keyword", reason, message.id)
        db.session.commit()


def _address_for(org: Organization, phone: str) -> tuple[Address, bool]:
    """The sender's address, with a person, and whether it was erased or being erased: an
    erased one (kept as a digest to honour an opt-out) is recognised and gets its number back,
    since they wrote to us again."""
    erased = erased_values(phone)
    lookup = select(Address).where(
        Address.organization_id == org.id,
        Address.channel == "sms",
        Address.value.in_([phone, *erased]),
    )
    address = db.session.scalar(lookup)
    was_erased = address is not None and (address.value in erased or address.pending_erasure)
    if address is not None and was_erased:
        # They wrote again: their number is needed to answer. If their opt-out still stands
        # after this turn, receive_sms erases it again.
        address.value = phone
        address.pending_erasure = False
    if address is not None and address.person is not None:
        return address, was_erased
    try:
        with db.session.begin_nested():
            person = Person(organization_id=org.id, timezone=_timezone_of(phone))
            db.session.add(person)
            db.session.flush()
            # Created with the person, so two first texts racing each other both find it to lock.
            db.session.add(FlowSession(person_id=person.id, state={}))
            if address is None:
                address = Address(organization_id=org.id, channel="sms", value=phone, person_id=person.id)
                db.session.add(address)
            else:
                address.person_id = person.id
            db.session.flush()
    except IntegrityError:
        address = db.session.scalars(lookup).one()
    return address, was_erased


def _timezone_of(phone: str) -> str | None:
    """The time zone a number's area belongs to, when it names exactly one."""
    zones = phone_timezones.time_zones_for_number(
        phonenumbers.parse(phone, current_app.config["DEFAULT_REGION"])
    )
    return zones[0] if len(zones) == 1 and zones[0] != phone_timezones.UNKNOWN_TIMEZONE else None
