"""What SendGrid's delivery events mean, for the message they are about and for consent.

Each event is processed once (its `sg_event_id` is kept as a ProviderEvent). Delivery steps go
into the message's history; a bounce, a drop because the address bounced before, a spam
report and an unsubscribe become an email opt-out of the address, even when the message is
not ours to find (sent before an erasure, or by hand from SendGrid to a member's address).

A "blocked" bounce is a refusal of that one email by the receiving server for a passing
reason (our sending IP's reputation, a full mailbox, a content filter), not a verdict on the
address: the email fails, the address stays subscribed. SendGrid does not add blocks to its
own suppression list either. A "group_resubscribe" is not an opt-in: only the member's own
confirmation records one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from gateway.delivery import consent, outbox
from gateway.delivery.addresses import redact
from gateway.delivery.status import record_status
from gateway.delivery.text import storable
from gateway.extensions import db
from gateway.models import Address, Message, ProviderEvent
from gateway.models.base import row_id

log = logging.getLogger(__name__)
_T = TypeVar("_T")

EVENT_ID_MAX = 100  # the width of ProviderEvent.event_id
KIND_MAX = 24  # the width of ProviderEvent.kind
ERROR_CODE_MAX = 16  # the width of Message.error_code
EMAIL_MAX = 320

# An enhanced SMTP status (RFC 3463), as SendGrid reports a bounce's: 5.1.1, 4.7.0.
_SMTP_STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
# Why SendGrid dropped an email, as a short code the console explains (status.OUTBOX_REASONS).
DROP_CODES = {
    "bounced address": "bounced_address",
    "unsubscribed address": "unsubscribed",
    "spam reporting address": "spam_reported",
    "invalid": "invalid_address",
    "spam content (if spam checker app enabled)": "spam_content",
    "recipient list over package quota": "over_quota",
}


@dataclass(frozen=True)
class EmailEvent:
    """One event of a SendGrid Event Webhook post, in the fields Kindred reads."""

    event_id: str
    kind: str  # processed, deferred, delivered, bounce, dropped, open, click, spamreport, ...
    email: str  # the recipient, lower-cased
    provider_id: str | None  # sg_message_id up to its first ".", the X-Message-Id of the send
    message_id: int | None  # our custom argument kindred_message_id
    reason: str = ""
    smtp_status: str = ""
    bounce_type: str = ""  # bounce | blocked
    asm_group_id: str = ""


@dataclass(frozen=True)
class Meaning:
    """What an event does: the step it adds to the message's history, and the source of the
    email opt-out it records."""

    status: str | None = None
    opt_out: str | None = None


# SendGrid's drop reasons that name a suppression list of its own.
SUPPRESSION_DROPS = ("bounced address", "unsubscribed address", "spam reporting address")

MEANINGS = {
    "processed": Meaning("processed"),
    # Not "deferred": that is the outbox's own step when a message waits for its calling
    # window, and a history holds each step once.
    "deferred": Meaning("delayed"),
    "delivered": Meaning("delivered"),
    "open": Meaning("opened"),
    "click": Meaning("clicked"),
    "spamreport": Meaning(opt_out="sendgrid_spamreport"),
    "unsubscribe": Meaning(opt_out="sendgrid_unsubscribe"),
    "group_unsubscribe": Meaning(opt_out="sendgrid_group_unsubscribe"),
}


@dataclass
class Tally:
    """What a batch came to, for the log."""

    applied: int = 0
    duplicates: int = 0
    unmatched: int = 0
    unreadable: int = 0
    opt_outs: int = 0


def parse(raw: object) -> EmailEvent | None:
    """The event in one element of a webhook post, or None if it is not one Kindred can use
    (no event id or kind, or fields of the wrong type)."""
    if not isinstance(raw, Mapping):
        return None
    event_id, kind, email = (_text(raw, name) for name in ("sg_event_id", "event", "email"))
    if not event_id or len(event_id) > EVENT_ID_MAX or not kind or len(kind) > KIND_MAX:
        return None
    if len(email) > EMAIL_MAX:
        email = ""
    sg_message_id = _text(raw, "sg_message_id")
    custom = str(raw.get("kindred_message_id") or "")
    return EmailEvent(
        event_id=event_id,
        kind=kind.lower(),
        email=email.strip().lower(),
        provider_id=sg_message_id.split(".", 1)[0][:64] or None,
        message_id=row_id(custom),
        reason=_text(raw, "reason")[:200],
        smtp_status=_text(raw, "status"),
        bounce_type=_text(raw, "type").lower(),
        asm_group_id=storable(str(raw.get("asm_group_id") or ""))[:20],
    )


def _text(raw: Mapping[str, Any], name: str) -> str:
    """A string field, as the database can store it; "" if not a string."""
    value = raw.get(name)
    return storable(value) if isinstance(value, str) else ""


def meaning(event: EmailEvent) -> Meaning | None:
    """What this event does (None: nothing but being counted as processed)."""
    if event.kind == "bounce":
        if event.bounce_type == "blocked":
            return Meaning("blocked")
        return Meaning("bounced", "sendgrid_bounce")
    if event.kind == "dropped":
        # SendGrid drops email to an address on one of its suppression lists without trying it:
        # one that bounced before (the address is gone), or whose owner unsubscribed or reported
        # spam at SendGrid. None of it will ever be delivered; the ledger says so.
        suppressed = any(reason in event.reason.lower() for reason in SUPPRESSION_DROPS)
        return Meaning("dropped", "sendgrid_dropped" if suppressed else None)
    return MEANINGS.get(event.kind)


def error_code(event: EmailEvent) -> str | None:
    """The code a failed step keeps in the message: a bounce's SMTP status, a drop's reason."""
    if event.kind == "bounce":
        return event.smtp_status if _SMTP_STATUS.match(event.smtp_status) else None
    if event.kind == "dropped":
        reason = event.reason.strip()
        return DROP_CODES.get(reason.lower(), reason[:ERROR_CODE_MAX].strip()) or None
    return None


def apply(batch: Iterable[object]) -> Tally:
    """Process each event of a webhook post not seen before (the caller commits); elements
    that are no usable event are counted and skipped, so they cannot cost the rest. An
    opt-out event for a message Kindred cannot find opts the address out in every organization
    of this instance: they share the SendGrid account, whose suppression list is the account's.
    The messages are looked up, and the event ids kept, a batch at a time: SendGrid posts up
    to a few thousand events at once and wants its answer fast."""
    tally = Tally()
    events: dict[str, EmailEvent] = {}
    for raw in batch:
        event = parse(raw)
        if event is None:
            tally.unreadable += 1
        elif event.event_id in events:
            tally.duplicates += 1
        else:
            events[event.event_id] = event
    messages = _messages_of(list(events.values()))
    reconciled = False
    for event_id, message in messages.items():
        if message.provider_id is None and events[event_id].provider_id:
            # Its send was never recorded (the worker's commit failed, or has not happened yet):
            # recorded now, from SendGrid's id. That commits, so it comes before the claim.
            outbox.reconcile(message, events[event_id].provider_id)
            reconciled = True
    if reconciled:
        # The commit let go of the messages' locks: take them again, so a concurrent post of
        # other events about them applies in turn.
        messages = _messages_of(list(events.values()))
    claimed = _claim(list(events.values()), messages)
    for event in events.values():
        if event.event_id not in claimed:
            tally.duplicates += 1
            continue
        message = messages.get(event.event_id)
        tally.unmatched += message is None
        what = meaning(event)
        if what is None:
            continue
        if what.status and message is not None and message.provider_id is not None:
            tally.applied += record_status(message, what.status, error_code(event), source="provider")
        if what.opt_out:
            for address in [message.address] if message else _addresses(event.email):
                if consent.opt_out(address, what.opt_out, _detail(event)):
                    tally.opt_outs += 1
                    log.info("sendgrid: %s opted out of email (%s)", redact(address.value), event.kind)
    return tally


def _claim(events: list[EmailEvent], messages: Mapping[str, Message]) -> set[str]:
    """Keep the ids of the events not processed before; returns them. A retried post finds
    its ids kept; the same post processed concurrently waits for the other's commit on the
    unique id and then finds them kept, one at a time, so each event is processed once."""
    kept: set[str] = set()
    for ids in _chunks([event.event_id for event in events]):
        kept.update(db.session.scalars(select(ProviderEvent.event_id).where(ProviderEvent.event_id.in_(ids))))
    rows = [
        {
            "event_id": event.event_id,
            "kind": event.kind,
            "message_id": messages[event.event_id].id if event.event_id in messages else None,
        }
        for event in events
        if event.event_id not in kept
    ]
    try:
        with db.session.begin_nested():
            for chunk in _chunks(rows):
                db.session.execute(insert(ProviderEvent), chunk)
        return {row["event_id"] for row in rows}
    except IntegrityError:
        pass
    claimed: set[str] = set()
    for row in rows:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(ProviderEvent), [row])
        except IntegrityError:
            continue
        claimed.add(row["event_id"])
    return claimed


def _messages_of(events: list[EmailEvent]) -> dict[str, Message]:
    """Our outbound email each event is about, by event id, locked (two posts about it apply
    in turn): the one its custom argument names, if it went to the event's recipient and is
    not known by another provider id, else the one sent as its sg_message_id."""
    ours = (Message.direction == "outbound", Message.channel == "email")
    named = sorted({event.message_id for event in events if event.message_id is not None})
    sent_as = sorted({event.provider_id for event in events if event.provider_id is not None})
    candidates: set[int] = set()
    for ids in _chunks(named):
        candidates.update(db.session.scalars(select(Message.id).where(Message.id.in_(ids), *ours)))
    for provider_ids in _chunks(sent_as):
        candidates.update(
            db.session.scalars(select(Message.id).where(Message.provider_id.in_(provider_ids), *ours))
        )
    # Locked in id order, the order every post takes its locks in, so two posts never deadlock.
    locked: list[Message] = []
    for ids in _chunks(sorted(candidates)):
        locked += db.session.scalars(
            select(Message)
            .where(Message.id.in_(ids))
            .options(selectinload(Message.address), selectinload(Message.history))
            .order_by(Message.id)
            .with_for_update()
        )
    by_id = {message.id: message for message in locked}
    by_provider_id = {message.provider_id: message for message in locked if message.provider_id}
    found: dict[str, Message] = {}
    for event in events:
        named_message = by_id.get(event.message_id) if event.message_id is not None else None
        if named_message is not None and _addressed(named_message, event):
            found[event.event_id] = named_message
        elif event.provider_id in by_provider_id:
            found[event.event_id] = by_provider_id[event.provider_id]
    return found


def _chunks(values: Sequence[_T], size: int = 500) -> Iterator[Sequence[_T]]:
    """`values` in lists short enough for an IN or an insert (SQLite takes 32766 parameters)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _addressed(message: Message, event: EmailEvent) -> bool:
    """Whether the event can be about this message: sent to its recipient, and not known by
    another provider id (another deployment on the same SendGrid account numbers its messages
    too)."""
    same_send = None in (message.provider_id, event.provider_id) or message.provider_id == event.provider_id
    return message.address.value.lower() == event.email and same_send


def _addresses(email: str) -> list[Address]:
    """The email address in each organization that has it."""
    if not email:
        return []
    return list(
        db.session.scalars(
            select(Address).where(Address.channel == "email", Address.value == email).order_by(Address.id)
        )
    )


def _detail(event: EmailEvent) -> str:
    """What the consent ledger shows of the event (never the bounce text: it quotes addresses)."""
    if event.kind == "bounce":
        return f"SendGrid: bounced {error_code(event) or ''}".strip()
    if event.kind == "dropped":
        return f"SendGrid: dropped ({event.reason})"
    if event.kind == "group_unsubscribe" and event.asm_group_id:
        return f"SendGrid: unsubscribed from group {event.asm_group_id}"
    return {"spamreport": "SendGrid: reported as spam", "unsubscribe": "SendGrid: unsubscribed"}.get(
        event.kind, f"SendGrid: {event.kind}"
    )
