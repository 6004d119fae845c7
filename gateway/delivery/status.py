"""A message's delivery history: the statuses the outbox and the provider report, in order,
once each, including provider statuses that arrive before the send that caused them was
recorded (the provider can call back faster than our commit)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, inspect, select
from sqlalchemy.exc import IntegrityError

from gateway import clock
from gateway.delivery import consent
from gateway.delivery.addresses import mark_undeliverable
from gateway.delivery.transports.twilio_sms import error_is_opt_out, error_is_undeliverable
from gateway.extensions import db
from gateway.models import EarlyStatus, Message, MessageStatusEvent

# Status order, so a late provider callback never moves a message backwards.
_RANK = {
    "queued": 0,
    "deferred": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "failed": 3,
    "suppressed": 3,
}

# What an email provider's step does to the message's own status. Steps that say nothing new
# about where it stands (taken for processing, delayed by the receiving server, opened,
# clicked) go into the history only, so a late one never moves a delivered message back; a
# refusal fails it. Any other step is a status of its own.
_MESSAGE_STATUS: dict[str, str | None] = {
    "processed": None,
    "delayed": None,
    "opened": None,
    "clicked": None,
    "bounced": "failed",
    "blocked": "failed",
    "dropped": "failed",
}

# What the outbox's own error codes, and the reasons SendGrid gives for dropping an email
# (delivery.email_events), mean, for the people who read a message's history.
OUTBOX_REASONS = {
    "opted_out": "Not sent: the recipient had opted out.",
    "no_opt_in": "Not sent: Kindred starts texts only to people who opted in.",
    "reply_limit": "Not sent: too many replies to this number within the hour.",
    "erased": "Not sent: the recipient asked for their data to be erased.",
    "email_off": "Not sent: email is turned off here (EMAIL_TRANSPORT=none).",
    "too_late": "Withdrawn: the reminder could no longer arrive before its event.",
    "round_cancelled": "Withdrawn: an organizer cancelled the prompt round before it was sent.",
    "bounced_address": "Not sent: SendGrid drops email to an address that bounced before.",
    "unsubscribed": "Not sent: the address unsubscribed through SendGrid.",
    "spam_reported": "Not sent: the address once reported our email as spam.",
    "invalid_address": "Not sent: SendGrid found the address invalid.",
    "spam_content": "Not sent: SendGrid's spam checker stopped it.",
    "over_quota": "Not sent: the SendGrid account had reached its plan's sending limit.",
    "send_failed": "Not sent: every try to send it failed before it reached the provider.",
    "worker_lost": (
        "Unknown: the send was interrupted and could not be confirmed; it may or may not have "
        "reached the phone, and Kindred will not send it again."
    ),
}

# An early status whose send is never recorded (another app on the same account) is dropped
# after this long.
KEEP_EARLY = timedelta(days=2)


def history(message: Message, status: str, error_code: str | None = None, source: str = "outbox") -> None:
    """Append a step to the message's history, whatever its order (the caller commits). A
    history not read yet is not read for this: the step is added on its own, and reading the
    history later in the transaction finds it."""
    event = MessageStatusEvent(status=status, error_code=error_code, source=source, at=clock.now())
    if "history" in inspect(message).unloaded and message.id is not None:
        event.message_id = message.id
        db.session.add(event)
    else:
        message.history.append(event)
    message.updated_at = clock.now()


def record_status(
    message: Message, status: str, error_code: str | None = None, source: str = "provider"
) -> bool:
    """Add a delivery status to a message's history (the caller commits). A status already in
    the history is a no-op; a status earlier than the current one, or a step that only goes
    into the history (_MESSAGE_STATUS), is kept in the history but does not move the message.
    Returns whether anything changed."""
    if any(event.status == status for event in message.history):
        return False
    history(message, status, error_code, source)
    moves_to = _MESSAGE_STATUS.get(status, status)
    if moves_to is not None and _RANK.get(moves_to, 0) >= _RANK.get(message.status, 0):
        message.status = moves_to
        message.error_code = error_code or message.error_code
    return True


def record(message: Message, status: str, error_code: str | None) -> None:
    """Add a status the provider reported to the message's history, once; an opt-out error
    records the opt-out (the caller commits)."""
    changed = record_status(message, status, error_code, source="provider")
    if changed and error_is_opt_out(error_code):
        consent.opt_out(message.address, source="provider_error", detail=f"twilio {error_code}")
    if changed and error_is_undeliverable(error_code):
        mark_undeliverable(message.address)


def remember_early(provider_id: str, status: str, error_code: str | None) -> None:
    """Keep a status for a message id we don't know yet (commits). A repeat is a no-op."""
    try:
        with db.session.begin_nested():
            db.session.add(EarlyStatus(provider_id=provider_id, status=status, error_code=error_code))
    except IntegrityError:
        pass
    db.session.commit()


def apply_early(message: Message) -> int:
    """Apply the statuses that arrived before this send was recorded (the caller commits)."""
    early = db.session.scalars(
        select(EarlyStatus).where(EarlyStatus.provider_id == message.provider_id).order_by(EarlyStatus.id)
    ).all()
    for status in early:
        record(message, status.status, status.error_code)
        db.session.delete(status)
    return len(early)


def apply_left_early() -> int:
    """Apply the early statuses of sends recorded since (a sender that died between recording
    its send and applying them leaves them behind; the sweeper calls this). Returns how many."""
    messages = db.session.scalars(
        select(Message)
        .where(Message.provider_id.in_(select(EarlyStatus.provider_id)))
        .order_by(Message.id)
        .with_for_update(of=Message)
        .execution_options(populate_existing=True)
    ).all()
    return sum(apply_early(message) for message in messages)


def forget_stale(now: datetime) -> int:
    """Drop early statuses no send ever claimed (the sweeper calls this)."""
    return db.session.execute(delete(EarlyStatus).where(EarlyStatus.received_at < now - KEEP_EARLY)).rowcount
