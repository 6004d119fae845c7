"""Members: people who get the organization's email. Asking for it (a volunteer's text
`EMAIL addr`, or the public /join page), the one confirmation email, confirming it (only that
records the email opt-in: double opt-in), and unsubscribing, all on the email channel of the
consent ledger.

A request never tells the asker what is known of an address: callers answer the same way
whether a confirmation went out or not (an address of someone else's, one that opted out, one
asked for too often). An address is never moved from the person it belongs to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from flows import events as ev
from flows.messages import say
from gateway import clock
from gateway.delivery import consent, mail_tokens, outbox
from gateway.delivery.addresses import ERASED_PREFIX, erased_value, redact
from gateway.extensions import db
from gateway.models import Address, ConsentEvent, EmailSignup, Message, Organization, Person

log = logging.getLogger(__name__)

# Where a sign-up came from (EmailSignup.source).
BY_TEXT = "sms"
ON_FORM = "join"

# At most one confirmation email per address in SIGNUP_GAP, and SIGNUPS_PER_DAY a day: enough
# for someone who lost the first, too few to bother anyone with someone else's address.
SIGNUP_GAP = timedelta(minutes=10)
SIGNUPS_PER_DAY = 3

_STATUS = {
    ev.Consent.UNKNOWN: ev.EmailStatus.WAITING,
    ev.Consent.OPTED_IN: ev.EmailStatus.CONFIRMED,
    ev.Consent.OPTED_OUT: ev.EmailStatus.UNSUBSCRIBED,
}


@dataclass(frozen=True)
class JoinRequest:
    """What the /join form asked for, checked: `email` lower-cased, `phone` in E.164 or empty;
    `consent_text` is the consent sentence as the page showed it, with the form's version;
    `language` the page's, which the confirmation email is written in."""

    name: str
    email: str
    phone: str
    consent_text: str
    language: str = "en"


def sign_up_by_text(org: Organization, person: Person, email: str, evidence: Message | None) -> None:
    """A volunteer texted EMAIL `email`: the address becomes theirs unless it is someone
    else's, and it gets the one confirmation email (see :func:`_ask_to_confirm`)."""
    address, _ = _email_address(org, email, person)
    _ask_to_confirm(org, address, BY_TEXT, person.language, evidence=evidence)


def sign_up_on_form(org: Organization, request: JoinRequest) -> None:
    """Someone filled in /join: the address (and the person, if new) is found or created and
    gets the one confirmation email. A phone number is kept only on a person this form
    created, and only if no one has it yet: it is not an opt-in to texts (no consent is
    recorded), and a number someone already texts from, or an address someone already has,
    must not be tied to a stranger's sign-up."""
    address, created = _email_address(org, request.email, None)
    person = address.person
    if person is None:
        person = Person(organization_id=org.id, name=request.name[:80], language=request.language)
        db.session.add(person)
        db.session.flush()
        address.person_id = person.id
        created = True
    if created and request.phone:
        _add_phone(org, person, request.phone)
    _ask_to_confirm(org, address, ON_FORM, person.language, detail=request.consent_text)


def confirmation(token: str) -> EmailSignup | None:
    """The sign-up a confirmation link names, or None for a forged, expired or withdrawn one."""
    signup_id = mail_tokens.read(mail_tokens.CONFIRM, token)
    return db.session.get(EmailSignup, signup_id) if signup_id is not None else None


def confirm(signup: EmailSignup) -> bool:
    """Record the email opt-in a sign-up asked for, with its evidence; returns False when it was
    confirmed before (nothing changes). The person clicked, so this is an opt-in even after an
    opt-out of the address: it is the way back in. The caller commits."""
    confirmed = db.session.execute(
        update(EmailSignup)
        .where(EmailSignup.id == signup.id, EmailSignup.confirmed_at.is_(None))
        .values(confirmed_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(signup)
    if not confirmed:
        return False
    address = db.session.get(Address, signup.address_id)
    assert address is not None
    consent.record(
        address,
        "opt_in",
        "email_confirmed",
        f"sign-up {signup.id} via {signup.source}",
        signup.evidence_message_id,
    )
    log.info("members: %s confirmed sign-up %s", redact(address.value), signup.id)
    return True


def to_unsubscribe(token: str) -> Address | None:
    """The email address an unsubscribe link names, or None for a forged or expired one."""
    address_id = mail_tokens.read(mail_tokens.UNSUBSCRIBE, token)
    address = db.session.get(Address, address_id) if address_id is not None else None
    return address if address is not None and address.channel == "email" else None


def unsubscribe(address: Address, source: str) -> ConsentEvent | None:
    """Opt the address out of email (`source`: email_one_click, email_link ...); returns the
    opt-out recorded, or None when it was out already. The caller commits."""
    if unsubscribed(address):
        return None
    event = consent.record(address, "opt_out", source)
    log.info("members: %s unsubscribed (%s)", redact(address.value), source)
    return event


def unsubscribed(address: Address) -> bool:
    """Whether the address stands opted out of email."""
    return consent.status(address) is ev.Consent.OPTED_OUT


# How long the person who just pressed Unsubscribe may take it back.
UNDO_WINDOW = timedelta(minutes=15)


def undo_unsubscribe(address: Address, opt_out_id: int) -> bool:
    """Take back the unsubscribe `opt_out_id` (its button just pressed in the same browser, a
    mistaken click, within UNDO_WINDOW: the caller checks) with an email opt-in; only while it is
    the address's latest consent event and was made with the unsubscribe link's button. Returns
    whether it was taken back. The caller commits."""
    latest = db.session.scalar(
        select(ConsentEvent)
        .where(ConsentEvent.address_id == address.id, ConsentEvent.channel == "email")
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )
    if latest is None or latest.id != opt_out_id or latest.source != "email_link":
        return False
    consent.record(address, "opt_in", "email_resubscribed", f"took back unsubscribe {opt_out_id}")
    log.info("members: %s took back an unsubscribe", redact(address.value))
    return True


def emails_of(person: Person) -> tuple[ev.EmailView, ...]:
    """The person's own email addresses and where each stands, for the flows (MYDATA, EMAIL)."""
    addresses = db.session.scalars(
        select(Address)
        .where(
            Address.person_id == person.id,
            Address.channel == "email",
            Address.value.not_like(f"{ERASED_PREFIX}%"),
        )
        .order_by(Address.id)
    )
    return tuple(ev.EmailView(address.value, _STATUS[consent.status(address)]) for address in addresses)


def withdraw_signups(addresses: list[Address]) -> None:
    """Forget the unconfirmed sign-ups of these addresses (DELETE): their links stop working."""
    db.session.execute(
        delete(EmailSignup)
        .where(EmailSignup.address_id.in_([a.id for a in addresses]), EmailSignup.confirmed_at.is_(None))
        .execution_options(synchronize_session=False)
    )


def _email_address(org: Organization, email: str, person: Person | None) -> tuple[Address, bool]:
    """The address `email` (lower-cased), found or created for `person`, and whether it was
    created now. A found address without a person becomes `person`'s; one with a person stays
    theirs."""
    address, created = _find_or_add(org, "email", email, person)
    if address.person_id is None and person is not None:
        address.person_id = person.id
    return address, created


def _add_phone(org: Organization, person: Person, phone: str) -> None:
    """Give `person` this number, unless someone has it (or had it, and erased it)."""
    _find_or_add(org, "sms", phone, person)


def _find_or_add(org: Organization, channel: str, value: str, person: Person | None) -> tuple[Address, bool]:
    """The address on `channel` with `value`, found (an erased one by its digest, which keeps
    its opt-out) or created for `person`; and whether it was created now."""
    lookup = select(Address).where(
        Address.organization_id == org.id,
        Address.channel == channel,
        or_(Address.value == value, Address.value == erased_value(value)),
    )
    address = db.session.scalar(lookup)
    if address is not None:
        return address, False
    try:
        with db.session.begin_nested():
            address = Address(
                organization_id=org.id,
                channel=channel,
                value=value,
                person_id=person.id if person is not None else None,
            )
            db.session.add(address)
            db.session.flush()
    except IntegrityError:  # the same address, given twice at once: the first one counts
        return db.session.scalars(lookup).one(), False
    return address, True


def _ask_to_confirm(
    org: Organization,
    address: Address,
    source: str,
    language: str,
    evidence: Message | None = None,
    detail: str = "",
) -> EmailSignup | None:
    """Record the sign-up and queue its one confirmation email (a reply to the request, so it
    needs no opt-in, only no opt-out), unless the address opted out or was asked for too often
    lately; returns the sign-up, or None when nothing was sent."""
    # Two requests for one address at once queue behind each other, so both count.
    db.session.execute(select(Address.id).where(Address.id == address.id).with_for_update())
    if consent.status(address) is ev.Consent.OPTED_OUT:
        log.info("members: %s opted out; no confirmation sent", redact(address.value))
        return None
    now = clock.now()
    recent = db.session.scalars(
        select(EmailSignup.requested_at).where(
            EmailSignup.address_id == address.id, EmailSignup.requested_at > now - timedelta(days=1)
        )
    ).all()
    if len(recent) >= SIGNUPS_PER_DAY or any(at > now - SIGNUP_GAP for at in recent):
        log.info("members: %s asked for too often; no confirmation sent", redact(address.value))
        return None
    signup = EmailSignup(
        organization_id=org.id,
        address_id=address.id,
        source=source,
        evidence_message_id=evidence.id if evidence is not None else None,
        detail=detail[:400],
        requested_at=now,
    )
    db.session.add(signup)
    db.session.flush()
    outbox.queue_email(
        address,
        say(language, "email.confirm_subject", organization=org.name),
        say(
            language,
            "email.confirm_body",
            organization=org.name,
            link=mail_tokens.confirm_url(signup.id),
        ),
        "email_confirmation",
        in_reply_to=evidence,
    )
    return signup
