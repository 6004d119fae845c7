"""One inbound email: stored first, then routed by the token in the address it was sent to.

The email is stored and routed in one transaction, the routing in a savepoint: a fault in
routing undoes only the routing and the email is kept for an organizer, so mail that got a 2xx
is never lost; the database going away stores nothing and the webhook answers 503, so
SendGrid's retry stores and routes it. A retried POST of the same Message-ID is a no-op. The
routing: a reply whose own words are all "unsubscribe" (or "stop", "remove me" ...) opts the sender's
address out of email, whatever address it was sent to (invariant 5: an opt-out is always safe
to honour); `unsubscribe+<token>@` opts the token's address out; `reply+<token>@` puts the
reply on its person's thread in the console inbox when it comes from one of that person's own
addresses and SPF did not fail. Anything else (no token, an unknown, expired or forged one, a
sender who is not the token's person, a forged From) is kept as unmatched mail for an
organizer, and is never attached to anyone: a forwarded email's reply address is no proof of
who is writing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flows import keywords
from gateway import clock
from gateway.community import inbox
from gateway.delivery import consent, mail_content, mail_tokens
from gateway.delivery.addresses import VALUE_MAX, AddressError, find_or_add, redact
from gateway.delivery.text import storable
from gateway.email.message import InboundEmail, attachment_lines
from gateway.email.visible import visible_text
from gateway.extensions import db, outage_passes
from gateway.models import Address, Message, Organization, Person

log = logging.getLogger(__name__)

HEADER_ID_MAX = 255  # the width of Message.header_id
SPF_FAIL = "fail"  # SPF says the sending server may not send for the From domain: a forged From


class InboundEmailError(ValueError):
    """An email that cannot be taken at all (it has no sender address to keep it under)."""


@dataclass(frozen=True)
class Route:
    """Where an email's recipient token sends it."""

    purpose: str  # reply | unsubscribe | unmatched
    row_id: int | None = None


def receive_email(org: Organization, mail: InboundEmail) -> None:
    """Store and route one inbound email; the same Message-ID (or, without one, the same
    content) a second time is a no-op. It is stored in the organization of the person or
    address its recipient token names, else in `org` (the instance's first)."""
    if not mail.sender:
        raise InboundEmailError(
            f"the email has no From address (one over {VALUE_MAX} characters is no address)"
        )
    # Headers can carry what no column holds: a NUL, or bytes that were no text at all.
    mail = replace(
        mail, subject=storable(mail.subject, nul="\ufffd"), header_id=storable(mail.header_id or "") or None
    )
    key = provider_key(mail)
    if db.session.scalar(select(Message.id).where(Message.provider_id == key)):
        return
    route = _route(mail)
    org = _routed_organization(route) or _sender_organization(mail.sender) or org
    address = _address_for(org, mail.sender)
    words = _own_words(mail)
    message = Message(
        organization_id=org.id,
        direction="inbound",
        channel="email",
        address_id=address.id,
        subject=mail_content.subject_line(mail.subject),
        body=_kept(words, mail),
        header_id=(mail.header_id or "")[:HEADER_ID_MAX] or None,
        provider_id=key,
        status="received",
    )
    db.session.add(message)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # the same email, stored just now by a concurrent retry
        return
    # Stored and routed in one transaction: if the database goes away, nothing is stored, the
    # webhook answers 503 and SendGrid's retry is stored and routed then. A fault in routing
    # undoes only the routing: the email is stored all the same, kept for an organizer.
    if not _in_savepoint(lambda: _apply(message, address, route, words, mail)):
        log.error("inbound email: could not route message %s from %s", message.id, redact(mail.sender))
        _routing_failed(message, route, words)
    db.session.commit()


def _in_savepoint(step: Callable[[], None]) -> bool:
    """Run `step` in a savepoint; a fault in it is logged with its traceback and undone, and
    False returned. The database going away, or a savepoint that cannot be undone (the
    transaction can no longer be trusted), rolls back the whole transaction and is raised."""
    savepoint = db.session.begin_nested()
    try:
        step()
        savepoint.commit()
        return True
    except Exception as exc:
        if outage_passes(exc):
            db.session.rollback()
            raise
        try:
            savepoint.rollback()
        except Exception:
            db.session.rollback()
            raise
        log.exception("inbound email: a step of routing failed and was undone")
        return False


def provider_key(mail: InboundEmail) -> str:
    """The unique key an email is stored under: its Message-ID, or a digest of what it says."""
    if mail.header_id:
        return "mid:" + hashlib.sha256(mail.header_id.encode()).hexdigest()[:60]
    content = "\x00".join([mail.sender, *mail.recipients, mail.subject, mail.text, mail.html])
    return "sha:" + hashlib.sha256(content.encode("utf-8", "replace")).hexdigest()[:60]


def _own_words(mail: InboundEmail) -> str:
    """The member's own words: the reply without quoted history and signature."""
    try:
        return visible_text(mail.text, mail.html)
    except Exception:  # a reader bug must not lose the mail: keep its text whole
        log.exception("inbound email: could not strip the quoted history of a reply")
        return mail.text or mail.html


def _kept(words: str, mail: InboundEmail) -> str:
    """What is stored of the email: the member's words, and the names of its attachments."""
    body = "\n\n".join(part for part in (words, attachment_lines(mail.attachments)) if part)
    # A NUL, which PostgreSQL text cannot hold, is kept as U+FFFD so the email is never refused.
    return body.replace("\x00", "\ufffd")[: mail_content.BODY_MAX]


def _route(mail: InboundEmail) -> Route:
    for recipient in mail.recipients:
        routed = mail_tokens.route(recipient)
        if routed is not None:
            return Route(*routed)
    return Route(inbox.UNMATCHED)


def _routed_organization(route: Route) -> Organization | None:
    """The organization of the person or address the recipient's token names: a reply from a
    member of another organization on this instance is that organization's, never the first's."""
    model = {mail_tokens.REPLY: Person, mail_tokens.UNSUBSCRIBE: Address}.get(route.purpose)
    row = db.session.get(model, route.row_id) if model is not None and route.row_id is not None else None
    return db.session.get(Organization, row.organization_id) if row is not None else None


def _sender_organization(sender: str) -> Organization | None:
    """For an email no token routes: the organization that knows the sender's address, if
    exactly one does."""
    ids = db.session.scalars(
        select(Address.organization_id).where(Address.channel == "email", Address.value == sender).distinct()
    ).all()
    return db.session.get(Organization, ids[0]) if len(ids) == 1 else None


def _apply(message: Message, sender: Address, route: Route, words: str, mail: InboundEmail) -> None:
    reason = keywords.email_opt_out_reason(words)
    if reason:  # before any routing: the sender's own address, whatever it was sent to
        consent.opt_out(sender, "email_reply", reason, evidence_message_id=message.id)
        if route.purpose == inbox.UNMATCHED:  # no telling which organization they mean: every one
            for elsewhere in _same_address_elsewhere(sender):
                consent.opt_out(elsewhere, "email_reply", reason, evidence_message_id=message.id)
    if route.purpose == mail_tokens.UNSUBSCRIBE:
        _unsubscribe(message, route.row_id)  # mail programs send these on their own, too
        return
    if reason or mail.automatic:
        return  # an opt-out or an out-of-office reply: on the record, nothing for an organizer to answer
    person = db.session.get(Person, route.row_id) if route.purpose == mail_tokens.REPLY else None
    if person is None or person.organization_id != message.organization_id:
        inbox.keep_unmatched(message)
        return
    if sender.person_id != person.id or mail.spf == SPF_FAIL:
        # Someone else writing with this person's reply address (a forwarded email), or a
        # forged From: the organizer sees whose address it was, and nobody's thread takes it.
        inbox.keep_unmatched(message, token_person=person)
        return
    person.last_active_at = clock.now()
    inbox.keep(message, person)


def _same_address_elsewhere(address: Address) -> list[Address]:
    """The same email address in the instance's other organizations."""
    return list(
        db.session.scalars(
            select(Address).where(
                Address.channel == "email",
                Address.value == address.value,
                Address.organization_id != address.organization_id,
            )
        )
    )


def _token_address(message: Message, address_id: int | None) -> Address | None:
    """The email address an unsubscribe token names, if it is one of the message's organization."""
    address = db.session.get(Address, address_id) if address_id is not None else None
    if address is None or address.channel != "email" or address.organization_id != message.organization_id:
        return None
    return address


def _unsubscribe(message: Message, address_id: int | None) -> None:
    """A mail to the List-Unsubscribe mailto: the token's address opts out of email."""
    address = _token_address(message, address_id)
    if address is None:
        inbox.keep_unmatched(message)
        return
    consent.opt_out(address, "email_mailto", "unsubscribe mailto", evidence_message_id=message.id)


def _routing_failed(message: Message, route: Route, words: str) -> None:
    """Routing failed: still honour an unsubscribe (first, in a savepoint of its own: the mailto
    for the token's address, opt-out words for the sender's), and keep the email for an
    organizer."""

    def honour_unsubscribe() -> None:
        token_address = (
            _token_address(message, route.row_id) if route.purpose == mail_tokens.UNSUBSCRIBE else None
        )
        if token_address is not None:
            consent.opt_out(
                token_address, "email_mailto", "unsubscribe mailto", evidence_message_id=message.id
            )
        reason = keywords.email_opt_out_reason(words)
        if reason:
            consent.opt_out(message.address, "email_reply", reason, evidence_message_id=message.id)

    _in_savepoint(honour_unsubscribe)
    if not _in_savepoint(lambda: inbox.keep_unmatched(message)):
        log.error("inbound email: could not keep message %s for an organizer either", message.id)


def _address_for(org: Organization, sender: str) -> Address:
    """The sender's email address, created if new (without a person: routing decides whose it
    is). An erased address is found by its digest, so its opt-out still stands."""
    try:
        return find_or_add(org.id, "email", sender)[0]
    except AddressError as exc:
        raise InboundEmailError("the From address is too long to be one") from exc
