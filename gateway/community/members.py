"""Members: people who get the organization's email. Asking for it (a volunteer's text
`EMAIL addr`, or the public /join page), the one confirmation email, confirming it (only that
records the email opt-in: double opt-in), and unsubscribing, all on the email channel of the
consent ledger.

A request never tells the asker what is known of an address: callers answer the same way
whether a confirmation went out or not (an address of someone else's, one that opted out, one
asked for too often). Asking makes an address no one's: the sign-up keeps who asked, and the
address becomes theirs only when its mailbox confirms, and only if no one has it by then. An
address is never moved from the person it belongs to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from flows import events as ev
from flows.messages import say
from gateway import clock
from gateway.delivery import consent, mail_tokens, outbox
from gateway.delivery.addresses import ERASED_PREFIX, find_or_add, redact
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
    """What the /join form asked for, checked: `email` lower-cased; `consent_text` is the
    consent sentence as the page showed it, with the form's version; `language` the page's,
    which the confirmation email is written in."""

    name: str
    email: str
    consent_text: str
    language: str = "en"
    phone_note: str | None = None  # E.164, unverified: a note for organizers, nobody's address


def sign_up_by_text(org: Organization, person: Person, email: str, evidence: Message | None) -> None:
    """A volunteer texted EMAIL `email`: the address gets the one confirmation email (see
    :func:`_ask_to_confirm`), and becomes theirs only if it is confirmed."""
    address, _ = find_or_add(org.id, "email", email)
    if _may_ask(address):
        _ask_to_confirm(org, address, person, BY_TEXT, evidence=evidence)


def sign_up_on_form(org: Organization, request: JoinRequest) -> None:
    """Someone filled in /join: the address gets the one confirmation email, for a new person
    with the form's name, who gets the address if it is confirmed. An address someone has
    already is asked for on its owner's behalf (its mailbox is theirs): a form never renames
    anyone. The form's name is never anyone's name by text: a person the form made has no
    phone."""
    address, _ = find_or_add(org.id, "email", request.email)
    if not _may_ask(address):
        return  # and no person is made for a sign-up that sends nothing
    person = address.person
    if person is None:
        person = Person(organization_id=org.id, name=request.name[:80], language=request.language)
        db.session.add(person)
        db.session.flush()
    _ask_to_confirm(org, address, person, ON_FORM, detail=request.consent_text, phone_note=request.phone_note)


def phone_notes(person: Person) -> list[str]:
    """The phone numbers the person typed on /join with a sign-up they confirmed: unverified
    notes for an organizer who wants to call them, never an address to text."""
    notes = db.session.scalars(
        select(EmailSignup.phone_note)
        .where(
            EmailSignup.person_id == person.id,
            EmailSignup.confirmed_at.is_not(None),
            EmailSignup.phone_note.is_not(None),
        )
        .order_by(EmailSignup.id.desc())
    )
    return list(dict.fromkeys(note for note in notes if note))  # newest first, each once


def confirmation(token: str) -> EmailSignup | None:
    """The sign-up a confirmation link names, or None for a forged, expired or withdrawn one."""
    signup_id = mail_tokens.read(mail_tokens.CONFIRM, token)
    signup = db.session.get(EmailSignup, signup_id) if signup_id is not None else None
    if signup is None or (signup.person_id is None and signup.confirmed_at is None):
        return None
    return signup


def language_of(signup: EmailSignup) -> str | None:
    """The language of the person who asked, which the sign-up's pages are in."""
    person = db.session.get(Person, signup.person_id) if signup.person_id is not None else None
    return person.language if person is not None else None


def confirm(signup: EmailSignup) -> bool:
    """Record the email opt-in a sign-up asked for, with its evidence, and give the address to
    the person who asked unless someone has it by now (then it stays theirs); returns False when
    it was confirmed before (nothing changes). The person clicked, so this is an opt-in even
    after an opt-out of the address: it is the way back in. The caller commits."""
    confirmed = db.session.execute(
        update(EmailSignup)
        .where(EmailSignup.id == signup.id, EmailSignup.confirmed_at.is_(None))
        .values(confirmed_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(signup)
    if not confirmed:
        return False
    # Conditional, so of two sign-ups confirmed at once the first takes the address.
    db.session.execute(
        update(Address)
        .where(Address.id == signup.address_id, Address.person_id.is_(None))
        .values(person_id=signup.person_id)
        .execution_options(synchronize_session=False)
    )
    address = db.session.get(Address, signup.address_id)
    assert address is not None
    db.session.refresh(address)
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
    """The person's own email addresses and where each stands, then the ones they asked for and
    have not confirmed yet (waiting, whatever else is known of them), for the flows (MYDATA,
    EMAIL)."""
    owned = db.session.scalars(
        select(Address)
        .where(
            Address.person_id == person.id,
            Address.channel == "email",
            Address.value.not_like(f"{ERASED_PREFIX}%"),
        )
        .order_by(Address.id)
    ).all()
    views = [ev.EmailView(address.value, _STATUS[consent.status(address)]) for address in owned]
    asked = db.session.execute(
        select(Address.id, Address.value)
        .join(EmailSignup, EmailSignup.address_id == Address.id)
        .where(
            EmailSignup.person_id == person.id,
            EmailSignup.confirmed_at.is_(None),
            Address.id.not_in([a.id for a in owned]),
            Address.value.not_like(f"{ERASED_PREFIX}%"),
        )
        .order_by(Address.id)
        .distinct()
    )
    views += [ev.EmailView(value, ev.EmailStatus.WAITING) for _, value in asked]
    return tuple(views)


def withdraw_signups(person: Person, addresses: list[Address]) -> None:
    """DELETE: forget the unconfirmed sign-ups the person asked for, and those of their own
    addresses, whoever asked; their links stop working and their confirmations still queued are
    taken back. The addresses they only asked for are left as they were: no one's, and never
    opted out by this."""
    pending = db.session.scalars(
        select(EmailSignup).where(
            or_(EmailSignup.person_id == person.id, EmailSignup.address_id.in_([a.id for a in addresses])),
            EmailSignup.confirmed_at.is_(None),
        )
    ).all()
    # Their addresses first, the order a worker sending to one takes its locks in.
    asked = sorted({signup.address_id for signup in pending})
    db.session.execute(select(Address.id).where(Address.id.in_(asked)).order_by(Address.id).with_for_update())
    for signup in pending:
        confirmation = db.session.get(Message, signup.confirmation_id) if signup.confirmation_id else None
        if confirmation is not None:
            outbox.withdraw(confirmation, "erased")
    db.session.execute(
        delete(EmailSignup)
        .where(EmailSignup.id.in_([s.id for s in pending]))
        .execution_options(synchronize_session=False)
    )


def _may_ask(address: Address) -> bool:
    """Whether the address may get a confirmation email now: not if it opted out, or was asked
    for too often lately. Locks the address, so two requests for it at once queue behind each
    other and both count."""
    db.session.execute(select(Address.id).where(Address.id == address.id).with_for_update())
    if consent.status(address) is ev.Consent.OPTED_OUT:
        log.info("members: %s opted out; no confirmation sent", redact(address.value))
        return False
    now = clock.now()
    recent = db.session.scalars(
        select(EmailSignup.requested_at).where(
            EmailSignup.address_id == address.id, EmailSignup.requested_at > now - timedelta(days=1)
        )
    ).all()
    if len(recent) >= SIGNUPS_PER_DAY or any(at > now - SIGNUP_GAP for at in recent):
        log.info("members: %s asked for too often; no confirmation sent", redact(address.value))
        return False
    return True


def _ask_to_confirm(
    org: Organization,
    address: Address,
    person: Person,
    source: str,
    evidence: Message | None = None,
    detail: str = "",
    phone_note: str | None = None,
) -> None:
    """Record `person`'s sign-up and queue its one confirmation email, in their language (a
    reply to the request, so it needs no opt-in, only no opt-out; :func:`_may_ask` first)."""
    signup = EmailSignup(
        organization_id=org.id,
        address_id=address.id,
        person_id=person.id,
        source=source,
        evidence_message_id=evidence.id if evidence is not None else None,
        detail=detail[:400],
        phone_note=phone_note,
        requested_at=clock.now(),
    )
    db.session.add(signup)
    db.session.flush()
    language = person.language
    signup.confirmation_id = outbox.queue_email(
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
    ).id
