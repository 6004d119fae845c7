"""The consent ledger as organizers read it: an address's whole history with the evidence for
each event, and the one change they may make by hand, an opt-out (never an opt-in: consent to
be texted or emailed comes only from the person, by text, form or confirmed email)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from flows.events import Consent
from gateway.delivery import consent, outbox
from gateway.delivery.addresses import erased_values, normalize_contact
from gateway.extensions import db
from gateway.models import Address, ConsentEvent, Message, Organization

HAND_SOURCE = "organizer"
REASON_LENGTH = 200  # what a consent event's detail holds

# What each source of a consent event means, in organizers' words.
SOURCES = {
    "sms_keyword": "They texted it",
    "provider_error": "The carrier refused a text (the number had blocked us or is gone)",
    "erasure": "They asked us to delete their data",
    HAND_SOURCE: "An organizer recorded it by hand",
    "email_confirmed": "They confirmed their email address",
    "email_one_click": "They unsubscribed in their mail program (one click)",
    "email_link": "They used the unsubscribe link in an email",
    "email_resubscribed": "They took back an unsubscribe they had just made with the link's button",
    "email_reply": "They replied asking to unsubscribe",
    "email_mailto": "They unsubscribed by email",
    "sendgrid_bounce": "Our email bounced (the address does not take mail)",
    "sendgrid_dropped": "SendGrid would not send to it (an earlier email bounced)",
    "sendgrid_spamreport": "They reported our email as spam",
    "sendgrid_unsubscribe": "They unsubscribed through SendGrid's link",
    "sendgrid_group_unsubscribe": "They unsubscribed from the mailing group through SendGrid",
}


@dataclass(frozen=True)
class Entry:
    """One consent event and its evidence."""

    event: ConsentEvent
    evidence: Message | None

    @property
    def source(self) -> str:
        return SOURCES.get(self.event.source, self.event.source.replace("_", " "))


@dataclass(frozen=True)
class Found:
    """An address looked up, its history (oldest first) and where it stands."""

    address: Address
    erased: bool
    entries: list[Entry]

    @property
    def opted_out(self) -> bool:
        latest = [entry.event for entry in self.entries if entry.event.channel == self.address.channel]
        return bool(latest) and latest[-1].kind == "opt_out"


def normalize(raw: str) -> str | None:
    """The phone number (E.164) or email typed, or None if it is neither."""
    return normalize_contact(raw[:320])


def find(org: Organization, value: str) -> Found | None:
    """The address `value` (normalized) with its history; an address erased since is found by
    its digest, with the history that honours its opt-out."""
    channel = "email" if "@" in value else "sms"
    erased = erased_values(value)
    address = db.session.scalar(
        select(Address).where(
            Address.organization_id == org.id, Address.channel == channel, Address.value.in_([value, *erased])
        )
    )
    if address is None:
        return None
    rows = db.session.execute(
        select(ConsentEvent, Message)
        .outerjoin(Message, Message.id == ConsentEvent.evidence_message_id)
        .where(ConsentEvent.address_id == address.id)
        .order_by(ConsentEvent.id)
    )
    return Found(address, address.value in erased, [Entry(event, message) for event, message in rows])


def opt_out_by_hand(address: Address, reason: str, now: datetime) -> tuple[bool, int]:
    """Record an opt-out an organizer was told of elsewhere (a call, a letter), unless one
    already stands, and take back whatever is still queued for the address (the worker checks
    again before any send). Returns whether it was recorded and how many were taken back; the
    caller audits and commits."""
    reason = " ".join(reason.split())[:REASON_LENGTH]
    if not reason:
        raise ValueError("a hand opt-out needs a reason")
    # The address first, the order a worker sending to it takes its locks in.
    db.session.execute(select(Address.id).where(Address.id == address.id).with_for_update())
    if consent.status(address, address.channel) is Consent.OPTED_OUT:
        return False, 0
    event = consent.record(address, "opt_out", HAND_SOURCE, reason, channel=address.channel)
    event.at = now
    queued = db.session.scalars(
        select(Message).where(Message.address_id == address.id, Message.status == "queued")
    ).all()
    return True, sum(outbox.withdraw(message, "opted_out") for message in queued)
